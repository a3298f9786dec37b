//! `GET /dynfw/list.json` and the WebSocket `GET /dynfw/ws` of `vantage serve` (merged by
//! `Engine::http_api` while a feed runs).
//!
//! **`/dynfw/list.json`**: the current set,
//! `{"serial": N | null, "size": n, "list": ["192.0.2.1", "2001:db8::1", …], "source": S, "demo": bool}`
//! with the addresses sorted; `source` is the endpoint (`tcp://host:port`) or `"demo"`, and
//! `demo` is true for the demo's replayed feed (not Sentinel's list).
//!
//! **`/dynfw/ws`**: a live relay in sview's message format, one JSON text message
//! `{"msgtype": T, "payload": P}` per change:
//!
//! | `msgtype` | when | `payload` |
//! |---|---|---|
//! | `info` | on connect (and after a lag) | `{serial, size, phase, source, demo, health, link, per_country: [{country, count}], since_last_list_secs}` |
//! | `list` | right after that `info` | `{serial, size, list: [{ip, country}, …]}`: the whole set |
//! | `delta` | an address added or removed | `{serial, delta: "positive" \| "negative", ip, country, ts}` |
//! | `event` | an event about an address | `{event, ip, country, ts}` |
//! | `list` | a list replaced the set | `{serial, size}` (the set: `/dynfw/list.json`) |
//!
//! `phase` is `waiting_for_list`, `synced` or `resyncing`; `country` is the GeoIP ISO code
//! (empty when unknown); `ts` is when Vantage received the change (Unix seconds); `health` is
//! the feed's counters (`lists`, `deltas`, `events`, `resyncs`, `gaps`, `duplicates`,
//! `before_first_list`, `dropped_while_resyncing`, `malformed`, `bad_frames`,
//! `unknown_topics`, `last_list_at`, `last_message_at`). A client that falls so far behind
//! that changes were lost gets a fresh `info` and whole `list` instead of being dropped; the
//! relay ends when the client closes or the feed stops. Messages from the client are ignored.

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::feed::{Applied, Recent, RecentKind};
use super::service::{FeedHandle, Source};
use crate::clock::Clock;

/// The state of the routes.
#[derive(Clone)]
struct Api {
    feed: FeedHandle,
    clock: Clock,
}

/// The DynFW routes over `feed`.
pub fn routes(feed: FeedHandle, clock: Clock) -> Router {
    Router::new().route("/dynfw/list.json", get(list)).route("/dynfw/ws", get(ws)).with_state(Api { feed, clock })
}

/// `source` as the API shows it: the endpoint, or `"demo"`.
fn source_text(source: &Source) -> String {
    match source {
        Source::Demo => "demo".into(),
        Source::Endpoint(endpoint) => endpoint.clone(),
    }
}

async fn list(State(api): State<Api>) -> axum::Json<Value> {
    let (serial, blocked) = api.feed.blocked();
    let source = api.feed.source();
    axum::Json(json!({
        "serial": serial,
        "size": blocked.len(),
        "list": blocked.iter().map(|(ip, _)| ip.to_string()).collect::<Vec<_>>(),
        "source": source_text(source),
        "demo": *source == Source::Demo,
    }))
}

async fn ws(State(api): State<Api>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| relay(socket, api))
}

/// One `{"msgtype", "payload"}` text message.
fn message(msgtype: &str, payload: Value) -> WsMessage {
    WsMessage::Text(json!({"msgtype": msgtype, "payload": payload}).to_string().into())
}

/// The `info` and whole `list` messages of the feed now, and the serial they show.
fn snapshot(api: &Api) -> (Option<u64>, [WsMessage; 2]) {
    let status = api.feed.status(api.clock.now());
    let info = json!({
        "serial": status.serial,
        "size": status.size,
        "phase": status.phase,
        "source": source_text(&status.source),
        "demo": status.demo,
        "health": status.health,
        "link": status.link,
        "per_country": status.per_country,
        "since_last_list_secs": status.since_last_list_secs,
    });
    let (serial, blocked) = api.feed.blocked();
    let list: Vec<Value> = blocked.iter().map(|(ip, country)| json!({"ip": ip, "country": country})).collect();
    let list = json!({"serial": serial, "size": list.len(), "list": list});
    (serial, [message("info", info), message("list", list)])
}

/// The messages of one relayed change; deltas at or before `shown` (already in the snapshot
/// the client got) are left out.
fn changes(applied: Applied, shown: &mut Option<u64>) -> Vec<WsMessage> {
    let recent = |r: Recent| -> Option<WsMessage> {
        let ts = r.at.timestamp();
        match r.kind {
            RecentKind::Added | RecentKind::Removed if r.serial.is_some_and(|s| shown.is_some_and(|shown| s <= shown)) => None,
            RecentKind::Added => Some(message("delta", json!({"serial": r.serial, "delta": "positive", "ip": r.ip, "country": r.country, "ts": ts}))),
            RecentKind::Removed => Some(message("delta", json!({"serial": r.serial, "delta": "negative", "ip": r.ip, "country": r.country, "ts": ts}))),
            RecentKind::Event(event) => Some(message("event", json!({"event": event, "ip": r.ip, "country": r.country, "ts": ts}))),
        }
    };
    match applied {
        Applied::List { serial, size } => {
            // a list may go back in serials (a re-sync): from here on every delta is new
            *shown = None;
            vec![message("list", json!({"serial": serial, "size": size}))]
        }
        Applied::Deltas(deltas) => deltas.into_iter().filter_map(recent).collect(),
        Applied::Event(event) => recent(event).into_iter().collect(),
        Applied::Nothing => Vec::new(),
    }
}

/// Sends `messages` in order; false when the client is gone.
async fn send_all(socket: &mut WebSocket, messages: impl IntoIterator<Item = WsMessage>) -> bool {
    for m in messages {
        if socket.send(m).await.is_err() {
            return false;
        }
    }
    true
}

/// Relays the feed to one client until it closes or the feed stops.
async fn relay(mut socket: WebSocket, api: Api) {
    // subscribed before the snapshot, so that no change falls between the two
    let mut relayed = api.feed.relay();
    let mut ticks = api.feed.changes();
    let (mut shown, first) = snapshot(&api);
    if !send_all(&mut socket, first).await {
        return;
    }
    loop {
        tokio::select! {
            received = relayed.recv() => {
                let messages = match received {
                    Ok(applied) => changes(applied, &mut shown),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!("dynfw ws: a client missed {missed} changes, sending the set again");
                        let (serial, again) = snapshot(&api);
                        shown = serial;
                        again.into()
                    }
                    Err(RecvError::Closed) => break,
                };
                if !send_all(&mut socket, messages).await {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            changed = ticks.changed() => {
                if changed.is_err() || api.feed.is_stopped() {
                    break;
                }
            }
        }
    }
    let _ = socket.send(WsMessage::Close(None)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recent(kind: RecentKind, serial: Option<u64>) -> Recent {
        Recent { at: chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("time"), ip: "192.0.2.7".parse().expect("ip"), country: "CZ".into(), kind, serial }
    }

    fn texts(messages: Vec<WsMessage>) -> Vec<Value> {
        messages
            .into_iter()
            .map(|m| match m {
                WsMessage::Text(t) => serde_json::from_str(t.as_str()).expect("json"),
                other => panic!("not text: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn changes_become_sview_messages_and_shown_deltas_are_left_out() {
        let mut shown = Some(5);
        let deltas = Applied::Deltas(vec![recent(RecentKind::Added, Some(5)), recent(RecentKind::Removed, Some(6))]);
        assert_eq!(
            texts(changes(deltas, &mut shown)),
            vec![json!({"msgtype": "delta", "payload": {"serial": 6, "delta": "negative", "ip": "192.0.2.7", "country": "CZ", "ts": 1_700_000_000}})]
        );
        let event = Applied::Event(recent(RecentKind::Event("telnet_login".into()), None));
        assert_eq!(texts(changes(event, &mut shown))[0], json!({"msgtype": "event", "payload": {"event": "telnet_login", "ip": "192.0.2.7", "country": "CZ", "ts": 1_700_000_000}}));
        assert_eq!(texts(changes(Applied::List { serial: 2, size: 9 }, &mut shown)), vec![json!({"msgtype": "list", "payload": {"serial": 2, "size": 9}})]);
        assert_eq!(shown, None, "after a list every delta is new");
        assert_eq!(texts(changes(Applied::Deltas(vec![recent(RecentKind::Added, Some(3))]), &mut shown)).len(), 1);
        assert!(changes(Applied::Nothing, &mut shown).is_empty());
    }
}
