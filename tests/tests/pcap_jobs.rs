//! Packet-capture jobs on the queues, on both queue backends (in-process and Redis): a worker
//! that died in the middle of a merge leaves the job in Merging with a partial `merged.pcap.tmp`
//! and its inputs; recovery re-queues the merge, which writes the whole capture (nothing
//! partial is ever named `merged.pcap`); a step queued twice does nothing the second time; a
//! job that keeps losing its worker ends in Error.

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
