//! Packet-capture jobs on the queues, on both queue backends (in-process and Redis): a worker
//! that died in the middle of a merge leaves the job in Merging with a partial `merged.pcap.tmp`
//! and its inputs; recovery re-queues the merge, which writes the whole capture (nothing
//! partial is ever named `merged.pcap`); a step queued twice does nothing the second time; a
//! job that keeps losing its worker ends in Error; a job is cancelled while its worker waits for
//! a sensor (from another process's service, through the spool) or while it is still queued.

use std::path::Path;
use std::time::Duration;

use vantage_core::Clock;
use vantage_core::jobs::{MAX_ATTEMPTS, Queue};
use vantage_core::pcap::client::SensorConfig;
use vantage_core::pcap::merge::merge_files;
use vantage_core::pcap::pipeline::{self, JobState};
use vantage_core::pcap::request::{Request, RequestSettings};
use vantage_core::pcap::service::PcapService;
use vantage_core::pcap::settings::PcapConfig;
use vantage_tests::steno_standin::pcap_dir;
use vantage_tests::{BOTH, cache_and_queue, t};

const NOW: &str = "2024-06-15T12:40:00Z";

fn config(spool: &Path) -> PcapConfig {
    let mut c = PcapConfig::with_spool(spool.to_path_buf());
    for name in ["alpha", "beta"] {
        c.sensors.push(SensorConfig { name: name.into(), host: "localhost".into(), port: 1, ca: "/none".into(), cert: "/none".into(), key: "/none".into() });
    }
    c
}

/// Creates a job and leaves it as a worker killed mid-merge would: both answers on disk, state
/// Merging, a half-written `merged.pcap.tmp`.
fn crashed_mid_merge(service: &PcapService) -> (String, Vec<std::path::PathBuf>) {
    let request = Request::from_text("host 192.168.2.1", &RequestSettings::default(), t(NOW)).expect("request");
    let (_, created) = pipeline::create(&request, &service.config, t(NOW)).expect("created");
    assert!(created);
    let dir = service.config.spool_dir.join(&request.id);
    let inputs = vec![dir.join("alpha.pcap"), dir.join("beta.pcap")];
    std::fs::copy(pcap_dir().join("android.pcap"), &inputs[0]).expect("alpha");
    std::fs::copy(pcap_dir().join("dns_exfiltration.pcap"), &inputs[1]).expect("beta");
    std::fs::write(dir.join("merged.pcap.tmp"), b"\xd4\xc3\xb2\xa1 half a capture").expect("partial");
    let mut status = pipeline::status(&service.config.spool_dir, &request.id).expect("read").expect("status");
    status.state = JobState::Merging;
    for (name, input) in ["alpha", "beta"].iter().zip(&inputs) {
        let bytes = std::fs::metadata(input).expect("size").len();
        let result = serde_json::json!({"state": "Request Complete", "time": NOW, "bytes": bytes, "message": format!("{bytes} bytes")});
        status.requests.insert(name.to_string(), serde_json::from_value(result).expect("result"));
    }
    std::fs::write(dir.join(pipeline::STATUS), serde_json::to_vec(&status).expect("json")).expect("status");
    (request.id, inputs)
}

/// Runs every queued pcap step in this process.
async fn run_queued(service: &PcapService, queue: &dyn Queue) -> usize {
    let queues = vec!["pcap-query".to_string(), "pcap-io".to_string()];
    let mut n = 0;
    while let Some(job) = queue.pop(&queues, "test", Duration::from_secs(30), Duration::ZERO).await.expect("pop") {
        service.run_job(&job).await.expect("step");
        queue.complete(&job).await.expect("complete");
        n += 1;
    }
    n
}

#[tokio::test(flavor = "multi_thread")]
async fn a_merge_interrupted_by_a_crash_is_redone_whole() {
    for kind in BOTH {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, queue) = cache_and_queue(kind).await;
        let service = PcapService::new(config(&dir.path().join("spool")), queue.clone(), Clock::Fixed(t(NOW)));
        let (id, inputs) = crashed_mid_merge(&service);
        let job_dir = service.config.spool_dir.join(&id);
        let expected = dir.path().join("expected.pcap");
        merge_files(&inputs, &expected).expect("reference merge");

        assert!(!job_dir.join("merged.pcap").exists(), "{kind:?}: nothing partial is served");
        assert_eq!(service.recover(Duration::ZERO).await.expect("recover"), vec![id.clone()], "{kind:?}");
        assert!(service.recover(Duration::ZERO).await.expect("recover").is_empty(), "{kind:?}: queued once");
        assert_eq!(run_queued(&service, queue.as_ref()).await, 1, "{kind:?}");
        let done = service.status(&id).expect("read").expect("status");
        assert_eq!((done.state, done.recoveries), (JobState::Completed, 1), "{kind:?}");
        assert!(done.events.iter().any(|e| e.message == "worker lost in state Merging: re-queued (recovery 1)"), "{kind:?}: {:?}", done.events);
        assert_eq!(std::fs::read(job_dir.join("merged.pcap")).expect("merged"), std::fs::read(&expected).expect("expected"), "{kind:?}");
        assert!(!job_dir.join("merged.pcap.tmp").exists() && inputs.iter().all(|i| !i.exists()), "{kind:?}: no leftovers");

        // the same step again (a duplicate in the queue) changes nothing
        let before = std::fs::read(job_dir.join(pipeline::STATUS)).expect("status");
        let step = vantage_core::jobs::Job::new("pcap-io", format!("pcap:{id}"), vantage_core::jobs::Task::new(vantage_core::pcap::service::MERGE, &vantage_core::pcap::service::Step { id: id.clone() }).expect("task"), t(NOW));
        service.run_job(&step).await.expect("no-op");
        assert_eq!(std::fs::read(job_dir.join(pipeline::STATUS)).expect("status"), before, "{kind:?}");
        assert!(service.recover(Duration::ZERO).await.expect("recover").is_empty(), "{kind:?}: final jobs are left alone");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_keeps_losing_its_worker_ends_in_error() {
    for kind in BOTH {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, queue) = cache_and_queue(kind).await;
        let service = PcapService::new(config(&dir.path().join("spool")), queue.clone(), Clock::Fixed(t(NOW)));
        let (id, _) = crashed_mid_merge(&service);
        let queues = vec!["pcap-io".to_string()];
        for attempt in 1..=MAX_ATTEMPTS {
            assert_eq!(service.recover(Duration::ZERO).await.expect("recover"), vec![id.clone()], "{kind:?} attempt {attempt}");
            // the step is taken and its worker dies: the queue job is dropped, the state stays
            let job = queue.pop(&queues, "doomed", Duration::from_secs(30), Duration::ZERO).await.expect("pop").expect("queued");
            queue.complete(&job).await.expect("drop");
        }
        assert_eq!(service.recover(Duration::ZERO).await.expect("recover"), vec![id.clone()]);
        let status = service.status(&id).expect("read").expect("status");
        assert_eq!((status.state, status.recoveries), (JobState::Error, MAX_ATTEMPTS + 1), "{kind:?}");
        assert!(queue.pop(&queues, "any", Duration::from_secs(30), Duration::ZERO).await.expect("pop").is_none(), "{kind:?}: nothing re-queued");
    }
}

/// A job waits for a sensor that never answers (a Stenographer stand-in holding its reply);
/// another process cancels it: the worker drops the sensors, deletes the answer it had, ends
/// the job Cancelled and queues no merge. A second cancel is refused. The same request again
/// is a new job; cancelled while still queued, it is Cancelled at once and its step asks no
/// sensor.
#[tokio::test(flavor = "multi_thread")]
async fn a_job_is_cancelled_while_its_worker_waits_and_while_it_is_queued() {
    use std::sync::Arc;
    use vantage_tests::process::until;
    use vantage_tests::steno_standin::{Standin, issue, make_ca};
    for kind in BOTH {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = make_ca(dir.path(), "ca");
        let server = issue(dir.path(), &ca, "server", "localhost", 30, true);
        let client = issue(dir.path(), &ca, "client", "vantage", 30, false);
        let capture = pcap_dir().join("android.pcap");
        let fast = Standin::start(&ca.cert, &server, &capture).await;
        let stuck = Standin::start(&ca.cert, &server, &capture).await;
        stuck.set_query_delay(Duration::from_secs(3600));
        let mut settings = PcapConfig::with_spool(dir.path().join("spool"));
        for (name, port) in [("fast", fast.port), ("stuck", stuck.port)] {
            let (ca, cert, key) = (ca.cert.clone(), client.cert.clone(), client.key.clone());
            settings.sensors.push(SensorConfig { name: name.into(), host: "localhost".into(), port, ca, cert, key });
        }
        let (_, queue) = cache_and_queue(kind).await;
        let worker = PcapService::new(settings.clone(), queue.clone(), Clock::Fixed(t(NOW)));
        let (_, other_queue) = cache_and_queue(kind).await;
        let analyst = PcapService::new(settings.clone(), other_queue, Clock::Fixed(t(NOW)));
        let request = Request::from_text("host 192.168.2.1", &settings.request_settings(), t(NOW)).expect("request");
        let id = worker.submit(&request).await.expect("submitted").id;
        let job_dir = settings.spool_dir.join(&id);
        let running = tokio::spawn({
            let (worker, queue) = (Arc::clone(&worker), queue.clone());
            async move { run_queued(&worker, queue.as_ref()).await }
        });
        let queries = |s: &Standin| s.requests().iter().filter(|r| r.path == "/query").count();
        tokio::task::block_in_place(|| {
            until(Duration::from_secs(30), "the fast answer stored and the stuck sensor asked", || {
                let status = worker.status(&id).ok().flatten()?;
                (status.requests.contains_key("fast") && queries(&stuck) == 1).then_some(())
            })
        });
        assert!(job_dir.join("fast.pcap").is_file(), "{kind:?}: the fast sensor's answer is on disk");

        let asked = analyst.cancel(&id).expect("cancel").expect("known job");
        assert_eq!(asked.state, JobState::Requesting, "{kind:?}: its worker holds it and stops it");
        assert_eq!(tokio::time::timeout(Duration::from_secs(30), running).await.expect("the worker stops").expect("joined"), 1, "{kind:?}");
        let done = worker.status(&id).expect("read").expect("status");
        assert_eq!(done.state, JobState::Cancelled, "{kind:?}: {:?}", done.events);
        assert!(done.events.iter().any(|e| e.message == "cancelled by an analyst"), "{kind:?}: {:?}", done.events);
        let left: Vec<String> = std::fs::read_dir(&job_dir).expect("dir").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        assert!(left.iter().all(|f| !f.ends_with(".pcap")), "{kind:?}: no answers left: {left:?}");
        assert!(queue.snapshot().await.expect("snapshot").queued.iter().all(|(_, jobs)| jobs.is_empty()), "{kind:?}: no merge queued");
        let again = analyst.cancel(&id).expect_err("final");
        assert!(again.to_string().contains("already Cancelled: nothing to cancel"), "{kind:?}: {again}");
        assert!(analyst.cancel(&"0".repeat(32)).expect("unknown").is_none());

        // asked again: a new job, cancelled while queued, never asks a sensor
        let renewed = worker.submit(&request).await.expect("submitted again");
        assert_eq!((renewed.id.as_str(), renewed.state), (id.as_str(), JobState::Created), "{kind:?}");
        let cancelled = analyst.cancel(&id).expect("cancel").expect("known job");
        assert_eq!(cancelled.state, JobState::Cancelled, "{kind:?}: nobody held it");
        let before = (queries(&fast), queries(&stuck));
        assert_eq!(run_queued(&worker, queue.as_ref()).await, 1, "{kind:?}: the queued step runs");
        assert_eq!((queries(&fast), queries(&stuck)), before, "{kind:?}: and asks no sensor");
        assert_eq!(worker.status(&id).expect("read").expect("status").state, JobState::Cancelled, "{kind:?}");
    }
}
