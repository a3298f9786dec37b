//! The statistics service: cached resources with stale-while-revalidate, the refresh planner
//! ("suggest caching" / "suggest aggregation") and the execution of queued jobs.
//!
//! ## Planner rules (statistics.md, "Cache, refresh planner and queues")
//!
//! A computation for a key (an aggregation precision, or a resource × period × params) is
//! queued only if (a) no job for the key is queued or running (`vantage:pending:<key>`),
//! (b) no aggregation the period depends on (transitively) is pending or failed, and
//! (c) the key's refresh timeout can be claimed atomically (`SET NX EX`) — so two planners
//! never queue the same job. The timeout expires at the next refresh boundary + start delay.
//! A failed job keeps its timeout, so it is retried only after the timeout expires.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::aggregation::{self, Precision};
use super::periods::Period;
use super::resources::{self, Param, Params, Resource};
use super::tasks::{self as kinds, Aggregate, CacheResource};
use crate::backends::Backends;
use crate::cache::keys;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::jobs::{Job, Task};
use crate::progress::NoProgress;

/// On-demand computations a client may queue per minute (sview: more than 30 → refused).
pub const RATE_LIMIT_PER_MINUTE: i64 = 30;

/// Cache TTL cap for personal (`my_*`) resources.
pub const PERSONAL_TTL: Duration = Duration::seconds(600);

/// How long a failure record is kept.
const FAILED_TTL: StdDuration = StdDuration::from_secs(86_400);

/// How long a pending marker may outlive a lost job.
const PENDING_TTL: StdDuration = StdDuration::from_secs(6 * 3600);

/// What a suggestion did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A job was queued.
    Queued {
        /// Its id.
        job_id: String,
    },
    /// Dry run: a job would have been queued.
    WouldQueue,
    /// A job for the key is already queued or running.
    Pending,
    /// The key's refresh timeout has not expired.
    UpToDate,
    /// An aggregation the key depends on is pending or failed.
    Blocked {
        /// The blocking precision.
        on: Precision,
    },
    /// A `my_*` resource without device tokens: nothing to compute.
    NothingToDo,
}

/// One planner decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// The job key (`aggregation:<p>` or `resource:<id>`).
    pub key: String,
    /// The queue it goes to.
    pub queue: String,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A cached resource read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceRead {
    /// The resource's value, `None` while not computed yet.
    pub data: Option<Value>,
    /// When the value was computed (by the service clock).
    pub computed_at: Option<DateTime<Utc>>,
    /// True when a refresh is queued or running (the value may be stale meanwhile).
    pub refreshing: bool,
}

/// Statistics on a deployment's [`Backends`] (store, cache, queue, clock; reachable through
/// `Deref`): cached reads, the refresh planner and the statistics jobs.
#[derive(Clone)]
pub struct Statistics {
    backends: Backends,
}

impl std::ops::Deref for Statistics {
    type Target = Backends;
    fn deref(&self) -> &Backends {
        &self.backends
    }
}

/// The cache id of a resource computation: `name:period[:ip=…][:pw=…][:token=…]`, with
/// passwords and device tokens reduced to the first 10 hex digits of their SHA-256.
pub fn resource_id(resource: &Resource, period: Period, params: &Params) -> String {
    let mut id = format!("{}:{}", resource.name, period);
    if let Some(ip) = &params.ip {
        id.push_str(&format!(":ip={ip}"));
    }
    if let Some(pw) = &params.password {
        id.push_str(&format!(":pw={}", short_hash(pw)));
    }
    if !params.device_tokens.is_empty() {
        id.push_str(&format!(":token={}", short_hash(&params.device_tokens.concat())));
    }
    id
}

/// First 10 hex digits of SHA-256.
pub fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

fn ttl_until(at: DateTime<Utc>, now: DateTime<Utc>) -> StdDuration {
    (at - now).to_std().unwrap_or(StdDuration::from_millis(10)).max(StdDuration::from_millis(10))
}

fn aggregation_key(p: Precision) -> String {
    format!("aggregation:{p}")
}

fn resource_key(id: &str) -> String {
    format!("resource:{id}")
}

/// A computation the planner may queue.
struct Candidate {
    key: String,
    queue: &'static str,
    timeout_key: String,
    timeout: StdDuration,
    deps: &'static [Precision],
    task: Task,
}

impl Statistics {
    /// Statistics on `backends`.
    pub fn new(backends: Backends) -> Statistics {
        Statistics { backends }
    }

    /// The backends it works on.
    pub fn backends(&self) -> &Backends {
        &self.backends
    }

    /// Whether any aggregation of `deps` is pending or failed.
    async fn blocked_by(&self, deps: &[Precision]) -> Result<Option<Precision>> {
        for p in deps {
            let key = aggregation_key(*p);
            if self.cache.get(&keys::pending(&key)).await?.is_some() || self.cache.get(&keys::failed(&key)).await?.is_some() {
                return Ok(Some(*p));
            }
        }
        Ok(None)
    }

    async fn suggest(&self, c: Candidate, dry_run: bool) -> Result<Suggestion> {
        let Candidate { key, queue, timeout_key, timeout, deps, task } = c;
        let done = |outcome| Ok(Suggestion { key: key.clone(), queue: queue.to_string(), outcome });
        if self.cache.get(&keys::pending(&key)).await?.is_some() {
            return done(Outcome::Pending);
        }
        if let Some(on) = self.blocked_by(deps).await? {
            return done(Outcome::Blocked { on });
        }
        if dry_run {
            return done(if self.cache.get(&timeout_key).await?.is_some() { Outcome::UpToDate } else { Outcome::WouldQueue });
        }
        if !self.cache.set_nx(&timeout_key, "1", timeout).await? {
            return done(Outcome::UpToDate);
        }
        let job = Job::new(queue, key.clone(), task, self.clock.now());
        self.cache.set(&keys::pending(&key), &job.id, PENDING_TTL).await?;
        self.queue.push(&job).await?;
        done(Outcome::Queued { job_id: job.id })
    }

    /// Suggests aggregating the current window of `precision`.
    pub async fn suggest_aggregation(&self, precision: Precision, dry_run: bool) -> Result<Suggestion> {
        let now = self.clock.now();
        let window = aggregation::current_window(precision, now);
        let timeout = ttl_until(aggregation::next_run_allowed(precision, now), now);
        let task = kinds::aggregate_task(precision, window.start)?;
        let c = Candidate {
            key: aggregation_key(precision),
            queue: "aggregation",
            timeout_key: keys::aggregation_timeout(precision.as_str()),
            timeout,
            deps: precision.depends_on(),
            task,
        };
        self.suggest(c, dry_run).await
    }

    /// Suggests computing one resource of a period.
    pub async fn suggest_caching(&self, resource: &Resource, period: Period, params: &Params, dry_run: bool) -> Result<Suggestion> {
        let id = resource_id(resource, period, params);
        let queue = match period.queue() {
            super::periods::CacheQueue::QuickCache => "quick-cache",
            super::periods::CacheQueue::SlowCache => "slow-cache",
        };
        if resource.param == Some(Param::Devices) && params.device_tokens.is_empty() {
            return Ok(Suggestion { key: resource_key(&id), queue: queue.to_string(), outcome: Outcome::NothingToDo });
        }
        let now = self.clock.now();
        let timeout = ttl_until(period.refresh_timeout_at(now), now);
        let pinned = matches!(self.clock, Clock::Fixed(_)).then_some(now);
        let task = kinds::cache_resource_task(&CacheResource { name: resource.name.to_string(), period, params: params.clone(), now: pinned })?;
        let c = Candidate { key: resource_key(&id), queue, timeout_key: keys::resource_timeout(&id), timeout, deps: period.depends_on(), task };
        self.suggest(c, dry_run).await
    }

    /// Suggests caching every precached resource of a period.
    pub async fn cache_period(&self, period: Period, dry_run: bool) -> Result<Vec<Suggestion>> {
        let mut out = Vec::new();
        for r in resources::precached() {
            out.push(self.suggest_caching(r, period, &Params::default(), dry_run).await?);
        }
        Ok(out)
    }

    /// What cron ran every minute in sview: cache 1h; aggregations quarterly, hourly, daily;
    /// then cache 6h, 1d, 1w, 1m, 3m, 1y.
    pub async fn refresh(&self, dry_run: bool) -> Result<Vec<Suggestion>> {
        let mut out = self.cache_period(Period::Hour, dry_run).await?;
        for p in Precision::ALL {
            out.push(self.suggest_aggregation(p, dry_run).await?);
        }
        for period in &Period::ALL[1..] {
            out.extend(self.cache_period(*period, dry_run).await?);
        }
        Ok(out)
    }

    /// Reads a resource from the cache (stale-while-revalidate) and suggests a refresh. A
    /// `client` that would queue more than [`RATE_LIMIT_PER_MINUTE`] computations within a
    /// minute is refused ([`Error::RateLimited`]); reads of fresh values are not counted.
    /// Without a cache ([`Error::Redis`]), callers may answer from
    /// [`Statistics::read_uncached`] instead, marked as degraded.
    pub async fn read(&self, resource: &Resource, period: Period, params: &Params, client: Option<&str>) -> Result<ResourceRead> {
        let id = resource_id(resource, period, params);
        let cached = self.cache.get(&keys::resource(&id)).await?;
        if let Some(client) = client {
            let would = self.suggest_caching(resource, period, params, true).await?;
            if would.outcome == Outcome::WouldQueue {
                let n = self.cache.incr_window(&keys::rate_limit(client), StdDuration::from_secs(60)).await?;
                if n > RATE_LIMIT_PER_MINUTE {
                    return Err(Error::RateLimited(format!("more than {RATE_LIMIT_PER_MINUTE} computations queued within 60 s")));
                }
            }
        }
        let s = self.suggest_caching(resource, period, params, false).await?;
        let refreshing = matches!(s.outcome, Outcome::Queued { .. } | Outcome::Pending);
        let (data, computed_at) = match cached.as_deref().map(serde_json::from_str::<Value>) {
            Some(Ok(env)) => (Some(env["data"].clone()), env["computed_at"].as_str().and_then(|t| crate::clock::parse_instant(t).ok())),
            _ if resource.param == Some(Param::Devices) && params.device_tokens.is_empty() => (Some(resources::empty_value(resource)), None),
            _ => (None, None),
        };
        Ok(ResourceRead { data, computed_at, refreshing })
    }

    /// Computes a resource straight from the store, without cache, planner or rate limit:
    /// the degraded answer while the cache is unavailable (see [`Statistics::read`]).
    pub async fn read_uncached(&self, resource: &Resource, period: Period, params: &Params) -> Result<Value> {
        resources::compute(self.store.as_ref(), resource, period, params, self.clock.now()).await
    }

    /// Computes a resource now, stores it in the cache and returns it.
    pub async fn compute_and_cache(&self, resource: &Resource, period: Period, params: &Params, now: DateTime<Utc>) -> Result<Value> {
        let data = resources::compute(self.store.as_ref(), resource, period, params, now).await?;
        let ttl = if resource.param == Some(Param::Devices) { period.cache_ttl().min(PERSONAL_TTL) } else { period.cache_ttl() };
        let envelope = json!({"computed_at": self.clock.now().to_rfc3339(), "data": data});
        self.cache
            .set(&keys::resource(&resource_id(resource, period, params)), &envelope.to_string(), ttl.to_std().unwrap_or(StdDuration::from_secs(300)))
            .await?;
        Ok(data)
    }

    /// Runs a job's task and updates the bookkeeping (pending / failed markers). The queue's
    /// own complete/fail is the worker's business.
    pub async fn run_job(&self, job: &Job) -> Result<()> {
        let result = match job.task.kind() {
            kinds::AGGREGATE => match job.task.payload::<Aggregate>() {
                Ok(Aggregate { precision, window_start }) => {
                    let window = aggregation::Window { start: window_start, end: window_start + precision.width() };
                    aggregation::aggregate(self.store.as_ref(), precision, vec![window], false, self.clock.now(), Arc::new(NoProgress)).await.map(|_| ())
                }
                Err(e) => Err(e),
            },
            kinds::CACHE_RESOURCE => match job.task.payload::<CacheResource>() {
                Ok(CacheResource { name, period, params, now }) => match resources::find(&name) {
                    Ok(r) => self.compute_and_cache(r, period, &params, now.unwrap_or_else(|| self.clock.now())).await.map(|_| ()),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            },
            _ => Err(Error::InvalidArgument(format!("not a statistics job: {:?}", job.task))),
        };
        match &result {
            Ok(()) => {
                self.cache.del(&[keys::pending(&job.key), keys::failed(&job.key)]).await?;
            }
            // an outage: the worker puts the job back, its key stays pending
            Err(e) if e.is_unavailable() => {}
            Err(e) => self.record_failure(job, &e.to_string()).await?,
        }
        result
    }

    /// Marks a job's key failed (kept [`FAILED_TTL`]); its timeout stays, so the planner
    /// retries after it.
    pub async fn record_failure(&self, job: &Job, error: &str) -> Result<()> {
        self.cache.del(&[keys::pending(&job.key)]).await?;
        self.cache.set(&keys::failed(&job.key), error, FAILED_TTL).await
    }

    /// Clears the refresh timeouts of one kind for a period (`aggregation` takes a precision
    /// handle, `resource` a display period); returns the number cleared.
    pub async fn clear_timeouts(&self, kind: &str, period: &str) -> Result<u64> {
        let keys: Vec<String> = match kind {
            "aggregation" => vec![keys::aggregation_timeout(period.parse::<Precision>()?.as_str())],
            "resource" => {
                let p: Period = period.parse()?;
                let prefix = keys::resource_timeout("");
                self.cache.scan(&prefix).await?.into_iter().map(|e| e.key).filter(|k| k[prefix.len()..].split(':').nth(1) == Some(p.as_str())).collect()
            }
            other => return Err(Error::InvalidArgument(format!("unknown timeout kind `{other}`; valid: aggregation, resource"))),
        };
        self.cache.del(&keys).await
    }
}
