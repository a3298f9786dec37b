//! A capture requested from an attacker's detail, on both backends, against two Stenographer
//! stand-ins configured as the `[pcap]` sensors (TLS with client certificates; one answers
//! at once, one after a delay): the request pre-filled with the address, the PCAP view's job
//! list following the job's live state to completion, and its summary showing what the
//! stand-ins served for the query; and a capture whose sensor holds its answer, cancelled
//! from the PCAP view.

#[macro_use]
mod support;

use std::cell::RefCell;
use std::time::Duration;

use eframe::egui::{Key, Role};
use egui_kittest::kittest::Queryable;
use vantage_core::pcap::pipeline::{JobState, JobStatus};
use vantage_views::keys::Mode;
use vantage_views::panels::{Detail, Tab};

use support::capture::{Sensors, ipv4};
use support::{App, Backend, Deployment, click, engine_ready, loaded_panel, open_tab, rows, shows, until};

on_both_backends!(capture_from_attacker_detail: capture_from_attacker_detail_sqlite, capture_from_attacker_detail_postgres);
on_both_backends!(capture_cancelled_from_the_pcap_view: capture_cancelled_from_the_pcap_view_sqlite, capture_cancelled_from_the_pcap_view_postgres);

/// The sensors: `alpha` answers at once, `beta` after a delay, so the job is seen running.
const SENSORS: [(&str, Duration); 2] = [("alpha", Duration::ZERO), ("beta", Duration::from_secs(3))];

/// The most active attacker of the demo day (the stand-ins' capture is made to hold it).
fn top_attacker(h: &mut App) -> String {
    open_tab(h, Tab::Attackers);
    let top = loaded_panel(h, "Top attackers");
    rows(h, &top)[0][0].clone()
}

/// The job the app asked for (not the demo's), as the models know it.
fn requested(h: &App, ip: &str) -> Option<JobStatus> {
    h.state().session.app.pcap.jobs.iter().flatten().find(|j| j.query.contains(&format!("host {ip}"))).cloned()
}

/// Request → job list (live, then completed) → summary equal to what the stand-ins served.
fn capture_from_attacker_detail(backend: Backend) {
    let d = Deployment::new(backend);
    // the demo first, to learn the attacker the stand-ins' capture must hold
    let ip = {
        let mut h = d.demo_app();
        top_attacker(&mut h)
    };
    let sensors = Sensors::start(&d, ipv4(&ip), &SENSORS);
    let mut h = d.app(&sensors.toml, None);
    engine_ready(&mut h);
    assert_eq!(top_attacker(&mut h), ip, "the same store, the same top attacker");

    // the attacker's detail asks for the capture, the request pre-filled with the address
    h.get_by_label(&ip).click();
    let _ = h.run_ok();
    click(&mut h, "Open");
    assert_eq!(h.state().session.app.detail, Some(Detail::Attacker { ip: ip.clone() }));
    click(&mut h, "Request a capture for this IP…");
    assert_eq!(h.state().session.app.mode, Mode::PcapQuery);
    let prefilled = format!("host {ip} ");
    assert_eq!(h.state().session.app.input, prefilled);
    assert_eq!(h.get_by_role_and_label(Role::TextInput, "Capture request").value().as_deref(), Some(prefilled.as_str()), "the request window shows it");
    h.key_press(Key::Enter);
    let _ = h.run_ok();
    assert_eq!(h.state().session.app.mode, Mode::Normal);
    assert_eq!((h.state().session.app.tab, h.state().session.app.detail.clone()), (Tab::Pcap, None), "the PCAP view follows the request");
    // the status line says the request went out, or already that the job was made
    let notice = h.state().session.app.notice.clone().unwrap_or_default();
    assert!(notice == format!("requesting a capture: host {ip}") || notice.starts_with("capture job "), "{notice}");

    // the job list shows the job's state as it changes, until it completes
    let jobs = loaded_panel(&mut h, "Capture jobs");
    let seen: RefCell<Vec<JobState>> = RefCell::default();
    until(&mut h, "the capture job to complete", |h| {
        let Some(job) = requested(h, &ip) else { return false };
        let row = rows(h, &jobs).into_iter().find(|r| job.id.starts_with(&r[0])).expect("the job's row");
        assert_eq!(row[1], job.state.to_string());
        assert!(shows(h, &row[0]) && shows(h, &row[1]), "the row is drawn: {row:?}");
        let mut seen = seen.borrow_mut();
        if seen.last() != Some(&job.state) {
            seen.push(job.state);
        }
        job.state.is_final()
    });
    let seen = seen.into_inner();
    assert!(seen.len() >= 2 && !seen[0].is_final(), "seen running before it ended: {seen:?}");
    let job = requested(&h, &ip).expect("the job");
    assert_eq!(job.state, JobState::Completed, "{job:?}");
    for name in &sensors.names {
        assert_eq!(job.requests.get(name).map(|r| r.state), Some(JobState::RequestComplete), "{name}: {job:?}");
    }
    let row = rows(&h, &jobs).into_iter().find(|r| job.id.starts_with(&r[0])).expect("the job's row");
    assert_eq!(row[2], format!("{n}/{n} ok", n = SENSORS.len()));
    assert!(shows(&h, &row[2]), "per-sensor state drawn: {row:?}");

    // each stand-in was asked the job's query once; the summary is what they served for it
    assert_eq!(sensors.queries(), vec![vec![job.query.clone()]; SENSORS.len()]);
    let (packets, bytes) = sensors.served(&job.query);
    h.get_by_label(&row[0]).click();
    let _ = h.run_ok();
    click(&mut h, "Open");
    assert_eq!(h.state().session.app.detail, Some(Detail::Capture { id: job.id.clone() }));
    until(&mut h, "the capture's summary", |h| h.state().session.app.pcap.captures.contains_key(&job.id));
    let summary = h.state().session.app.pcap.captures[&job.id].clone();
    assert_eq!((summary.packets, summary.bytes), (packets, bytes), "{summary:?}");
    let _ = h.run_ok();
    assert!(shows(&h, &format!("Capture {}", &job.id[..12])));
    assert!(shows(&h, &format!("packets  {packets}   bytes {bytes}")), "the summary's counts are drawn");
    for name in &sensors.names {
        assert!(h.query_by_label_contains(&format!("sensor   {name}: Request Complete")).is_some(), "{name}'s state is drawn");
    }
    // the attacker is in every packet served: a top talker (with its peer), with all of them
    let talkers = loaded_panel(&mut h, "Top talkers");
    let talkers = rows(&h, &talkers);
    assert_eq!(talkers[0][1], packets.to_string(), "{talkers:?}");
    assert!(talkers.iter().take(2).any(|r| r[..2] == [ip.clone(), packets.to_string()]), "{talkers:?}");
    let list = loaded_panel(&mut h, "Packets");
    let shown = rows(&h, &list);
    assert!(!shown.is_empty() && shown.len() == summary.preview.len() && shown.len() as u64 <= packets, "{} of {packets}", shown.len());
    let of_ip = |endpoint: &str| endpoint == ip || endpoint.strip_prefix(ip.as_str()).is_some_and(|port| port.starts_with(':'));
    assert!(shown.iter().all(|r| of_ip(&r[1]) || of_ip(&r[2])), "every packet is to or from {ip}: {shown:?}");
    assert!(shows(&h, &shown[0][0]), "the first packet's time is drawn");
}

/// A request typed in the PCAP view whose only sensor holds its answer: the job is seen
/// Requesting, its row is selected, *Cancel job* stops it — Cancelled in the models and drawn
/// in its row, the sensor asked once.
fn capture_cancelled_from_the_pcap_view(backend: Backend) {
    let d = Deployment::new(backend);
    let ip = "192.0.2.7";
    let sensors = Sensors::start(&d, ipv4(ip), &[("stuck", Duration::from_secs(3600))]);
    let mut h = d.app(&sensors.toml, None);
    engine_ready(&mut h);
    open_tab(&mut h, Tab::Pcap);
    click(&mut h, "Request a capture…");
    support::type_and_submit(&mut h, Role::TextInput, "Capture request", &format!("host {ip}"));
    until(&mut h, "the job to ask its sensor", |h| {
        requested(h, ip).is_some_and(|j| j.state == JobState::Requesting) && sensors.queries()[0].len() == 1
    });
    let job = requested(&h, ip).expect("the job");
    let jobs = loaded_panel(&mut h, "Capture jobs");
    let row = rows(&h, &jobs).into_iter().find(|r| job.id.starts_with(&r[0])).expect("the job's row");
    h.get_by_label(&row[0]).click();
    let _ = h.run_ok();
    click(&mut h, "Cancel job");
    until(&mut h, "the job to be cancelled", |h| requested(h, ip).is_some_and(|j| j.state == JobState::Cancelled));
    let _ = h.run_ok();
    let row = rows(&h, &jobs).into_iter().find(|r| job.id.starts_with(&r[0])).expect("the job's row");
    assert_eq!(row[1], "Cancelled");
    assert!(shows(&h, "Cancelled"), "the row's state is drawn");
    let cancelled = requested(&h, ip).expect("the job");
    assert!(cancelled.events.iter().any(|e| e.message == "cancelled by an analyst"), "{:?}", cancelled.events);
    assert_eq!(sensors.queries(), vec![vec![job.query.clone()]], "asked once, never again");
}
