//! DynFW msgpack frames: `dynfw::message::decode`. The first byte picks the topic frame (one of
//! the three known topics, or the next bytes up to a NUL as an arbitrary topic); the rest is
//! the body. Every decoded message must survive `encode` → `decode`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vantage_core::dynfw::message::{FrameError, TOPIC_DELTA, TOPIC_EVENT, TOPIC_LIST, decode, encode};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let (topic, body): (&[u8], &[u8]) = match pick % 4 {
        0 => (TOPIC_LIST.as_bytes(), rest),
        1 => (TOPIC_DELTA.as_bytes(), rest),
        2 => (TOPIC_EVENT.as_bytes(), rest),
        _ => match rest.iter().position(|&b| b == 0) {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, &[]),
        },
    };
    match decode(&[topic, body]) {
        Ok(message) => {
            let frames = encode(&message);
            assert_eq!(frames[0], topic, "the topic changed");
            assert_eq!(decode(&frames).as_ref(), Ok(&message), "encode → decode changed the message");
        }
        Err(FrameError::FrameCount(n)) => panic!("two frames counted as {n}"),
        Err(FrameError::UnknownTopic(t)) => assert!(![TOPIC_LIST, TOPIC_DELTA, TOPIC_EVENT].contains(&t.as_str())),
        Err(FrameError::Malformed { reason, .. }) => assert!(!reason.is_empty()),
    }
    // a lone frame is always refused
    assert_eq!(decode(&[body]), Err(FrameError::FrameCount(1)));
});
