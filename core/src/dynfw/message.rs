//! DynFW's wire messages: two ZeroMQ frames, a topic and a msgpack map with string keys
//! (statistics.md, "DynFW facts"). [`decode`] turns frames into a [`Message`] or says why it
//! cannot ([`FrameError`]); [`encode`] is its inverse (the demo feed, tests and benchmarks).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The full-snapshot topic.
pub const TOPIC_LIST: &str = "dynfw/list";
/// One address added or removed.
pub const TOPIC_DELTA: &str = "dynfw/delta";
/// Something an address did (`haas_logged`, `telnet_login`, …).
pub const TOPIC_EVENT: &str = "dynfw/event";

/// One decoded message of the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "topic", rename_all = "lowercase")]
pub enum Message {
    /// `dynfw/list`: the whole blocked set at `serial`.
    List(List),
    /// `dynfw/delta`: `ip` added (positive) or removed at `serial`.
    Delta(Delta),
    /// `dynfw/event`: an event about `ip` (not part of the serial sequence).
    Event(Event),
}

/// A `dynfw/list` snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct List {
    /// The serial the snapshot stands at.
    pub serial: u64,
    /// Every blocked address.
    pub list: Vec<IpAddr>,
    /// The publisher's Unix time, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<i64>,
    /// The list format's version, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

/// A `dynfw/delta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    /// The serial this change makes current (the previous one + 1).
    pub serial: u64,
    /// `positive`: added; `negative`: removed.
    pub delta: Sign,
    /// The address.
    pub ip: IpAddr,
    /// The publisher's Unix time, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<i64>,
}

/// Whether a delta adds or removes its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sign {
    /// Added to the blocked set.
    Positive,
    /// Removed from it.
    Negative,
}

/// A `dynfw/event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// What happened, e.g. `telnet_login`.
    pub event: String,
    /// The address it happened from.
    pub ip: IpAddr,
    /// The publisher's Unix time, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<i64>,
}

/// Why a received message was skipped (each kind is counted in the feed's health).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Fewer than two frames.
    #[error("a DynFW message has a topic and a body frame, this one has {0} frame(s)")]
    FrameCount(usize),
    /// A well-formed topic this client does not know.
    #[error("unknown topic {0:?}")]
    UnknownTopic(String),
    /// The topic is not `word(/word)*` or the body is not the topic's msgpack map.
    #[error("malformed {topic} message: {reason}")]
    Malformed {
        /// The topic as received (lossy UTF-8).
        topic: String,
        /// What was wrong.
        reason: String,
    },
}

/// Whether `topic` matches `^([a-z0-9_]+/)*[a-z0-9_]+$`.
fn valid_topic(topic: &str) -> bool {
    !topic.is_empty() && topic.split('/').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
}

/// The message `frames` hold (frames after the second are ignored, as Sentinel's client does).
pub fn decode(frames: &[impl AsRef<[u8]>]) -> Result<Message, FrameError> {
    let [topic, body, ..] = frames else { return Err(FrameError::FrameCount(frames.len())) };
    let topic = String::from_utf8_lossy(topic.as_ref()).into_owned();
    let malformed = |reason: String| FrameError::Malformed { topic: topic.clone(), reason };
    if !valid_topic(&topic) {
        return Err(malformed("the topic is not of the form word/word".into()));
    }
    let body = body.as_ref();
    let message = match topic.as_str() {
        TOPIC_LIST => Message::List(from_body(body).map_err(malformed)?),
        TOPIC_DELTA => Message::Delta(from_body(body).map_err(malformed)?),
        TOPIC_EVENT => Message::Event(from_body(body).map_err(malformed)?),
        _ => return Err(FrameError::UnknownTopic(topic)),
    };
    Ok(message)
}

/// A msgpack map read with addresses as text (msgpack is not "human readable" to serde).
fn from_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let mut de = rmp_serde::Deserializer::new(body).with_human_readable();
    let value = T::deserialize(&mut de).map_err(|e| e.to_string())?;
    Ok(value)
}

/// `value` as a msgpack map with string keys and addresses as text.
fn to_body<T: Serialize>(value: &T) -> Vec<u8> {
    let mut body = Vec::new();
    let mut ser = rmp_serde::Serializer::new(&mut body).with_struct_map().with_human_readable();
    // serializing these plain structs into a Vec cannot fail
    let _ = value.serialize(&mut ser);
    body
}

/// The two frames of `message` as Sentinel sends them (msgpack map with string keys; addresses
/// as text).
pub fn encode(message: &Message) -> [Vec<u8>; 2] {
    let (topic, body) = match message {
        Message::List(m) => (TOPIC_LIST, to_body(m)),
        Message::Delta(m) => (TOPIC_DELTA, to_body(m)),
        Message::Event(m) => (TOPIC_EVENT, to_body(m)),
    };
    [topic.as_bytes().to_vec(), body]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn messages_round_trip_through_their_frames() {
        let messages = [
            Message::List(List { serial: 7, list: vec![ip("192.0.2.1"), ip("2001:db8::1")], ts: Some(1_700_000_000), version: Some(1) }),
            Message::Delta(Delta { serial: 8, delta: Sign::Negative, ip: ip("192.0.2.1"), ts: None }),
            Message::Event(Event { event: "telnet_login".into(), ip: ip("198.51.100.9"), ts: Some(5) }),
        ];
        for message in messages {
            assert_eq!(decode(&encode(&message)).expect("decodes"), message);
        }
    }

    #[test]
    fn a_map_written_by_another_msgpack_library_decodes() {
        // the body as Python's msgpack.packb({"serial": 3, "delta": "positive", "ip": "10.0.0.1", "ts": 9, "extra": [1]})
        let value = rmpv::Value::Map(vec![
            ("serial".into(), 3.into()),
            ("delta".into(), "positive".into()),
            ("ip".into(), "10.0.0.1".into()),
            ("ts".into(), 9.into()),
            ("extra".into(), rmpv::Value::Array(vec![1.into()])),
        ]);
        let mut body = Vec::new();
        rmpv::encode::write_value(&mut body, &value).expect("encode");
        let message = decode(&[b"dynfw/delta".to_vec(), body, b"ignored third frame".to_vec()]).expect("decodes");
        assert_eq!(message, Message::Delta(Delta { serial: 3, delta: Sign::Positive, ip: ip("10.0.0.1"), ts: Some(9) }));
    }

    #[test]
    fn bad_frames_are_typed_errors() {
        assert_eq!(decode(&[b"dynfw/list".to_vec()]), Err(FrameError::FrameCount(1)));
        assert_eq!(decode(&[b"dynfw/other".to_vec(), vec![0x80]]), Err(FrameError::UnknownTopic("dynfw/other".into())));
        assert!(matches!(decode(&[b"Dynfw//x".to_vec(), vec![0x80]]), Err(FrameError::Malformed { .. })));
        let not_msgpack = decode(&[b"dynfw/delta".to_vec(), b"\xc1garbage".to_vec()]).expect_err("malformed");
        assert!(matches!(&not_msgpack, FrameError::Malformed { topic, .. } if topic == "dynfw/delta"), "{not_msgpack}");
        let no_serial = rmp_serde::to_vec_named(&serde_json::json!({"delta": "positive", "ip": "10.0.0.1"})).expect("encode");
        assert!(decode(&[b"dynfw/delta".to_vec(), no_serial]).expect_err("missing").to_string().contains("serial"));
        let bad_ip = rmp_serde::to_vec_named(&serde_json::json!({"serial": 1, "delta": "positive", "ip": "300.1.1.1"})).expect("encode");
        assert!(matches!(decode(&[b"dynfw/delta".to_vec(), bad_ip]), Err(FrameError::Malformed { .. })));
    }
}
