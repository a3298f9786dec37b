//! The router without a screen: keys over the neutral key type, and engine failures routed
//! to the model whose request failed; an outage of the store or the cache, and its end.

use serde_json::json;
use vantage_core::engine::{Request, RequestId, RequestKind, Update};
use vantage_core::pcap::pipeline::JobStatus;

use crate::app::{App, Effect};
use crate::keys::{Action, Key, KeyCode, Mode, action_for};
use crate::panels::{Detail, Tab};

const JOB: &str = "0123456789abcdef0123456789abcdef";

fn completed_job() -> JobStatus {
    let t = "2024-06-15T12:40:00Z";
    serde_json::from_value(json!({
        "id": JOB, "query": "host 192.0.2.7", "state": "Completed", "time": t,
        "requests": {"alpha": {"state": "Request Complete", "time": t, "bytes": 2048, "message": "2048 bytes"}},
        "events": [], "successes": ["alpha"], "merged": "/spool/merged.pcap", "bytes": 2048
    }))
    .expect("a job status")
}

fn summaries(effects: &[Effect]) -> usize {
    effects.iter().filter(|e| matches!(e, Effect::Engine(Request::PcapSummary { .. }))).count()
}

#[test]
fn neutral_keys_map_to_actions() {
    assert_eq!(action_for(Key::plain(KeyCode::Char('7')), Mode::Normal), Some(Action::Tab(Tab::Pcap)));
    assert_eq!(action_for(Key::plain(KeyCode::BackTab), Mode::Normal), Some(Action::Focus(-1)));
    assert_eq!(action_for(Key::plain(KeyCode::Char('q')), Mode::Palette), Some(Action::Input('q')));
    assert_eq!(action_for(Key { code: KeyCode::Char('c'), ctrl: true }, Mode::Palette), Some(Action::Quit));
    assert_eq!(action_for(Key::plain(KeyCode::Tab), Mode::Filter), None);
}

/// A failure of request `id` of `kind` with a pcap error saying `message`.
fn failed(id: u64, kind: RequestKind, message: &str) -> Update {
    let error = vantage_core::engine::Error::Failed(vantage_core::Error::Pcap(message.into()));
    Update::Failed { id: RequestId(id), kind, error: std::sync::Arc::new(error) }
}

#[test]
fn a_failed_summary_is_asked_again_and_other_failures_leave_it_pending() {
    let mut app = App::new(Vec::new(), false);
    app.apply(Action::Tab(Tab::Pcap));
    app.on_event(Update::PcapJobs(vec![completed_job()]));
    app.detail = Some(Detail::Capture { id: JOB.into() });
    assert_eq!(summaries(&app.apply(Action::Refresh)), 1);
    assert_eq!(summaries(&app.apply(Action::Refresh)), 0, "pending");
    app.on_event(failed(1, RequestKind::PcapJobs, "spool gone"));
    assert_eq!(app.error.as_deref(), Some("pcap: spool gone"));
    assert_eq!(summaries(&app.apply(Action::Refresh)), 0, "another request's failure");
    app.on_event(failed(2, RequestKind::PcapSummary, "truncated capture"));
    assert_eq!(app.error.as_deref(), Some("pcap: truncated capture"), "shown as the engine said it");
    assert_eq!(summaries(&app.apply(Action::Refresh)), 1, "asked again");
}

#[test]
fn a_running_backfill_can_be_cancelled_and_a_cancel_with_nothing_running_does_nothing() {
    let mut app = App::new(Vec::new(), false);
    assert!(app.apply(Action::CancelWork).is_empty());
    assert_eq!(app.notice.as_deref(), Some("nothing to cancel"));
    app.apply(Action::Tab(Tab::Operations));
    let effects = app.apply(Action::Migrate);
    assert!(effects.iter().any(|e| matches!(e, Effect::Engine(Request::Migrate { .. }))), "{effects:?}");
    assert_eq!(app.working, Some(RequestKind::Migrate));
    app.on_event(Update::Progress { label: "back-fill".into(), done: 3, total: Some(96) });
    assert_eq!(action_for(Key::plain(KeyCode::Char('X')), Mode::Normal), Some(Action::CancelWork));
    assert_eq!(app.apply(Action::CancelWork), vec![Effect::Cancel(RequestKind::Migrate)]);
    app.on_event(Update::Cancelled { id: RequestId(1), kind: RequestKind::Migrate });
    assert_eq!((app.working, app.progress.clone()), (None, None));
    assert_eq!(app.notice.as_deref(), Some("cancelled; what was finished stays"));
    // a back-fill that ends by itself is no longer cancellable
    app.apply(Action::Migrate);
    app.on_event(Update::Migrated(Default::default()));
    assert_eq!(app.working, None);
}

#[test]
fn x_on_the_pcap_tab_cancels_the_selected_running_job_only() {
    use crate::panels::Source;
    let running_id = "fedcba9876543210fedcba9876543210";
    let mut running = completed_job();
    (running.id, running.state, running.merged) = (running_id.into(), vantage_core::pcap::pipeline::JobState::Requesting, None);
    let mut app = App::new(Vec::new(), false);
    app.apply(Action::Tab(Tab::Pcap));
    app.on_event(Update::PcapJobs(vec![completed_job(), running.clone()]));
    let panels = app.panels();
    let jobs = panels.iter().position(|p| p.source == Source::PcapJobs).expect("the job list");
    app.focus = jobs;
    // newest first: the running job is row 0
    assert_eq!(app.apply(Action::CancelWork), vec![Effect::Engine(Request::PcapCancel { id: running_id.into() })]);
    assert_eq!(app.notice.as_deref(), Some("cancelling capture job fedcba987654"));
    app.tables.entry(panels[jobs].key()).or_default().selected = 1;
    assert!(app.apply(Action::CancelWork).is_empty(), "a completed job is not cancelled");
    assert_eq!(app.notice.as_deref(), Some("nothing to cancel: select a running capture job"));
    running.state = vantage_core::pcap::pipeline::JobState::Cancelled;
    app.on_event(Update::PcapCancelled(running));
    assert_eq!(app.notice.as_deref(), Some("capture job fedcba987654 cancelled"));
    let shown = app.visible(&panels[jobs]).expect("rows");
    assert_eq!(shown.rows[0][1], "Cancelled", "the list shows it at once");
    // the open capture's job is the one cancelled in its detail view
    app.on_event(Update::PcapJobs(vec![completed_job()]));
    app.detail = Some(Detail::Capture { id: JOB.into() });
    assert!(app.apply(Action::CancelWork).is_empty(), "completed");
}

#[test]
fn an_outage_shows_while_it_lasts_and_its_end_asks_the_view_again() {
    let mut app = App::new(Vec::new(), false);
    let view = app.requests();
    assert!(view.iter().any(|e| matches!(e, Effect::Engine(Request::Resource { .. }))), "{view:?}");
    let cache = "cache unavailable: redis: connection refused";
    assert!(app.on_event(Update::Health { outage: Some(cache.into()) }).is_empty(), "nothing is asked while it lasts");
    assert_eq!(app.outage.as_deref(), Some(cache));
    let error = vantage_core::engine::Error::Unavailable(vantage_core::Error::Redis("connection refused".into()));
    app.on_event(Update::Failed { id: RequestId(1), kind: RequestKind::Resource, error: std::sync::Arc::new(error) });
    assert_eq!(app.error.as_deref(), Some("redis: connection refused"));
    let both = format!("store unavailable: database: pool timed out; {cache}");
    assert!(app.on_event(Update::Health { outage: Some(both.clone()) }).is_empty(), "still out: nothing asked");
    assert_eq!(app.outage.as_deref(), Some(both.as_str()));
    assert_eq!(app.error.as_deref(), Some("redis: connection refused"), "a change of the outage keeps the error");

    assert_eq!(app.on_event(Update::Health { outage: None }), view, "everything answers: the view asks for its data again");
    assert_eq!((app.outage.as_deref(), app.error.as_deref()), (None, None));
    assert_eq!(app.notice.as_deref(), Some("the store and the cache answer again"));
    assert!(app.on_event(Update::Health { outage: None }).is_empty(), "no outage ended: nothing asked");

    // an error the outage did not cause stays when it ends
    app.on_event(Update::Health { outage: Some(cache.into()) });
    app.exported(Err("disk full".into()));
    app.on_event(Update::Health { outage: None });
    assert_eq!(app.error.as_deref(), Some("export failed: disk full"));
}

#[test]
fn a_read_without_a_value_keeps_the_last_value_until_a_new_one_comes() {
    use vantage_core::statistics::resources::Params;
    use vantage_core::statistics::service::ResourceRead;
    let mut app = App::new(Vec::new(), false);
    let at = |m: u32| chrono::DateTime::parse_from_rfc3339(&format!("2024-06-15T12:{m:02}:00Z")).map(|t| t.to_utc()).ok();
    let mut give = |data: Option<serde_json::Value>, computed_at, refreshing| {
        let read = ResourceRead { data, computed_at, refreshing };
        app.on_event(Update::Resource { name: "top_countries_by_incidents_list".into(), period: app.period, params: Params::default(), read });
        app.statistics.data.values().next().cloned().expect("a read")
    };
    let first = give(Some(json!([{"country": "CZ", "count": 3}])), at(30), false);
    // the cache lost it (Redis restarted empty): the read has no value and a refresh is queued
    let kept = give(None, None, true);
    assert_eq!((kept.data, kept.computed_at, kept.refreshing), (first.data, at(30), true));
    let new = give(Some(json!([{"country": "SK", "count": 5}])), at(40), false);
    assert_eq!((new.data, new.computed_at), (Some(json!([{"country": "SK", "count": 5}])), at(40)));
}
