//! In-process priority queue: one FIFO per queue under a mutex, a `Notify` to wake workers.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{Expired, Job, MAX_ATTEMPTS, PRIORITY, Queue, Running, Snapshot};
use crate::error::Result;

#[derive(Debug, Default)]
struct State {
    queues: HashMap<String, VecDeque<Job>>,
    running: HashMap<String, (Job, String, Instant)>,
    failed: VecDeque<Job>,
}

/// The embedded default queue.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    state: Mutex<State>,
    notify: Notify,
}

const KEEP_FAILED: usize = 1000;

impl MemoryQueue {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    fn take(&self, queues: &[String], worker: &str, lease: Duration) -> Option<Job> {
        self.with(|s| {
            for q in queues {
                if let Some(job) = s.queues.get_mut(q).and_then(VecDeque::pop_front) {
                    s.running.insert(job.id.clone(), (job.clone(), worker.to_string(), Instant::now() + lease));
                    return Some(job);
                }
            }
            None
        })
    }
}

fn record_failure(s: &mut State, job: Job) {
    s.failed.push_front(job);
    s.failed.truncate(KEEP_FAILED);
}

#[async_trait]
impl Queue for MemoryQueue {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn push(&self, job: &Job) -> Result<()> {
        self.with(|s| s.queues.entry(job.queue.clone()).or_default().push_back(job.clone()));
        self.notify.notify_waiters();
        self.notify.notify_one();
        Ok(())
    }

    async fn pop(&self, queues: &[String], worker: &str, lease: Duration, wait: Duration) -> Result<Option<Job>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(job) = self.take(queues, worker, lease) {
                return Ok(Some(job));
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(self.take(queues, worker, lease));
            }
        }
    }

    async fn extend(&self, job: &Job, lease: Duration) -> Result<()> {
        self.with(|s| {
            if let Some(r) = s.running.get_mut(&job.id) {
                r.2 = Instant::now() + lease;
            }
        });
        Ok(())
    }

    async fn complete(&self, job: &Job) -> Result<()> {
        self.with(|s| s.running.remove(&job.id));
        Ok(())
    }

    async fn release(&self, job: &Job) -> Result<()> {
        let released = self.with(|s| match s.running.remove(&job.id) {
            Some((job, _, _)) => {
                s.queues.entry(job.queue.clone()).or_default().push_front(job);
                true
            }
            None => false,
        });
        if released {
            self.notify.notify_waiters();
            self.notify.notify_one();
        }
        Ok(())
    }

    async fn fail(&self, job: &Job, error: &str) -> Result<()> {
        self.with(|s| {
            s.running.remove(&job.id);
            record_failure(s, Job { error: Some(error.to_string()), ..job.clone() });
        });
        Ok(())
    }

    async fn requeue_expired(&self) -> Result<Expired> {
        let now = Instant::now();
        let out = self.with(|s| {
            let mut out = Expired::default();
            let expired: Vec<String> = s.running.iter().filter(|(_, r)| r.2 <= now).map(|(id, _)| id.clone()).collect();
            for id in expired {
                if let Some((mut job, worker, _)) = s.running.remove(&id) {
                    job.attempts += 1;
                    if job.attempts >= MAX_ATTEMPTS {
                        job.error = Some(format!("lease lost {} times (last worker {worker})", job.attempts));
                        out.failed.push(job.clone());
                        record_failure(s, job);
                    } else {
                        s.queues.entry(job.queue.clone()).or_default().push_front(job);
                        out.requeued.push(id);
                    }
                }
            }
            out
        });
        if !out.requeued.is_empty() {
            self.notify.notify_waiters();
            self.notify.notify_one();
        }
        Ok(out)
    }

    async fn snapshot(&self) -> Result<Snapshot> {
        let now = Instant::now();
        Ok(self.with(|s| Snapshot {
            queued: PRIORITY
                .iter()
                .map(|q| (q.to_string(), s.queues.get(*q).map(|d| d.iter().cloned().collect()).unwrap_or_default()))
                .collect(),
            running: s
                .running
                .values()
                .map(|(job, worker, deadline)| Running {
                    job: job.clone(),
                    worker: worker.clone(),
                    lease_left_ms: if *deadline > now {
                        deadline.duration_since(now).as_millis() as i64
                    } else {
                        -(now.duration_since(*deadline).as_millis() as i64)
                    },
                })
                .collect(),
            failed: s.failed.iter().cloned().collect(),
        }))
    }

    async fn clear_failed(&self) -> Result<u64> {
        Ok(self.with(|s| {
            let n = s.failed.len() as u64;
            s.failed.clear();
            n
        }))
    }
}
