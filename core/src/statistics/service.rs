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
use super::tasks::{self as kinds, Aggregate, CacheResource, CacheResources, Member};
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

/// The queue a period's resources are computed on.
fn queue_of(period: Period) -> &'static str {
    match period.queue() {
        super::periods::CacheQueue::QuickCache => "quick-cache",
        super::periods::CacheQueue::SlowCache => "slow-cache",
    }
}

/// The bookkeeping keys a job stands for: its members' for a `cache_resources` job, else its
/// own.
fn job_keys(job: &Job) -> Vec<String> {
    let members = match job.task.kind() {
        kinds::CACHE_RESOURCES => job.task.payload::<CacheResources>().map(|c| c.members).unwrap_or_default(),
        _ => Vec::new(),
    };
    let keys: Vec<String> =
        members.iter().filter_map(|m| resources::find(&m.name).ok().map(|r| resource_key(&resource_id(r, m.period, &Params::default())))).collect();
    if keys.is_empty() { vec![job.key.clone()] } else { keys }
}

/// What the checks before queueing decided for a key.
enum Decision {
    /// Nothing is queued, for this reason.
    Final(Outcome),
    /// The key's timeout is claimed: it is to be queued.
    Claimed,
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

    /// The checks before queueing a key: already pending, blocked by an aggregation, (dry
    /// run) whether its timeout holds, else claims the timeout.
    async fn decide(&self, key: &str, timeout_key: &str, timeout: StdDuration, deps: &[Precision], dry_run: bool) -> Result<Decision> {
        if self.cache.get(&keys::pending(key)).await?.is_some() {
            return Ok(Decision::Final(Outcome::Pending));
        }
        if let Some(on) = self.blocked_by(deps).await? {
            return Ok(Decision::Final(Outcome::Blocked { on }));
        }
        if dry_run {
            let held = self.cache.get(timeout_key).await?.is_some();
            return Ok(Decision::Final(if held { Outcome::UpToDate } else { Outcome::WouldQueue }));
        }
        if !self.cache.set_nx(timeout_key, "1", timeout).await? {
            return Ok(Decision::Final(Outcome::UpToDate));
        }
        Ok(Decision::Claimed)
    }

    /// Queues `task` as one job with bookkeeping key `key`, marking each of `members`' keys
    /// pending with its id; returns the id.
    async fn enqueue(&self, queue: &str, key: String, task: Task, members: &[String]) -> Result<String> {
        let job = Job::new(queue, key, task, self.clock.now());
        for member in members {
            self.cache.set(&keys::pending(member), &job.id, PENDING_TTL).await?;
        }
        self.queue.push(&job).await?;
        Ok(job.id)
    }

    async fn suggest(&self, c: Candidate, dry_run: bool) -> Result<Suggestion> {
        let Candidate { key, queue, timeout_key, timeout, deps, task } = c;
        let outcome = match self.decide(&key, &timeout_key, timeout, deps, dry_run).await? {
            Decision::Final(outcome) => outcome,
            Decision::Claimed => Outcome::Queued { job_id: self.enqueue(queue, key.clone(), task, std::slice::from_ref(&key)).await? },
        };
        Ok(Suggestion { key, queue: queue.to_string(), outcome })
    }

    /// The clock a job computes with: the planner's when pinned (`--now`), else none.
    fn pinned(&self) -> Option<DateTime<Utc>> {
        matches!(self.clock, Clock::Fixed(_)).then(|| self.clock.now())
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
        let queue = queue_of(period);
        if resource.param == Some(Param::Devices) && params.device_tokens.is_empty() {
            return Ok(Suggestion { key: resource_key(&id), queue: queue.to_string(), outcome: Outcome::NothingToDo });
        }
        let now = self.clock.now();
        let timeout = ttl_until(period.refresh_timeout_at(now), now);
        let task = kinds::cache_resource_task(&CacheResource { name: resource.name.to_string(), period, params: params.clone(), now: self.pinned() })?;
        let c = Candidate { key: resource_key(&id), queue, timeout_key: keys::resource_timeout(&id), timeout, deps: period.depends_on(), task };
        self.suggest(c, dry_run).await
    }

    /// Suggests caching every precached resource of a period.
    pub async fn cache_period(&self, period: Period, dry_run: bool) -> Result<Vec<Suggestion>> {
        self.cache_periods(&[period], dry_run).await
    }

    /// Suggests caching every precached resource of `periods`, each key decided on its own
    /// (pending, blocked, timeout) as [`Statistics::suggest_caching`] does. The keys claimed
    /// are queued together: per data type and level read, one `cache_resources` job computes
    /// them from one scan ([`resources::compute_shared`]); a lone key is queued as its own
    /// `cache_resource` job, one query being cheaper than a scan.
    pub async fn cache_periods(&self, periods: &[Period], dry_run: bool) -> Result<Vec<Suggestion>> {
        let now = self.clock.now();
        let mut out = Vec::new();
        let mut claimed: Vec<(usize, &'static Resource, Period)> = Vec::new();
        for period in periods {
            let timeout = ttl_until(period.refresh_timeout_at(now), now);
            for r in resources::precached() {
                let id = resource_id(r, *period, &Params::default());
                let key = resource_key(&id);
                let outcome = match self.decide(&key, &keys::resource_timeout(&id), timeout, period.depends_on(), dry_run).await? {
                    Decision::Final(outcome) => outcome,
                    Decision::Claimed => {
                        claimed.push((out.len(), r, *period));
                        Outcome::WouldQueue
                    }
                };
                out.push(Suggestion { key, queue: queue_of(*period).to_string(), outcome });
            }
        }
        while let Some(&(_, first, period)) = claimed.first() {
            let together = |r: &Resource, p: Period| r.data == first.data && p.source() == period.source() && queue_of(p) == queue_of(period);
            let (group, rest): (Vec<_>, Vec<_>) = claimed.into_iter().partition(|(_, r, p)| together(r, *p));
            claimed = rest;
            let keys: Vec<String> = group.iter().map(|(i, ..)| out[*i].key.clone()).collect();
            let job_id = if let [(_, r, p)] = group[..] {
                let task = kinds::cache_resource_task(&CacheResource { name: r.name.to_string(), period: p, params: Params::default(), now: self.pinned() })?;
                self.enqueue(queue_of(p), keys[0].clone(), task, &keys).await?
            } else {
                let members = group.iter().map(|(_, r, p)| Member { name: r.name.to_string(), period: *p }).collect();
                let task = kinds::cache_resources_task(&CacheResources { members, now: self.pinned() })?;
                let handles: Vec<&str> = periods.iter().filter(|p| group.iter().any(|(_, _, q)| q == *p)).map(|p| p.as_str()).collect();
                let key = format!("resources:{}:{}", period.source().table(first.data), handles.join(","));
                self.enqueue(queue_of(period), key, task, &keys).await?
            };
            for (i, ..) in &group {
                out[*i].outcome = Outcome::Queued { job_id: job_id.clone() };
            }
        }
        Ok(out)
    }

    /// What cron ran every minute in sview: cache 1h; aggregations quarterly, hourly, daily;
    /// then cache 6h, 1d, 1w, 1m, 3m, 1y (the periods reading one level share their scans).
    pub async fn refresh(&self, dry_run: bool) -> Result<Vec<Suggestion>> {
        let mut out = self.cache_period(Period::Hour, dry_run).await?;
        for p in Precision::ALL {
            out.push(self.suggest_aggregation(p, dry_run).await?);
        }
        out.extend(self.cache_periods(&Period::ALL[1..], dry_run).await?);
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
        self.store_value(resource, period, params, &data).await?;
        Ok(data)
    }

    /// Computes the members of a `cache_resources` job from one scan and stores each.
    async fn compute_and_cache_shared(&self, members: &[Member], now: DateTime<Utc>) -> Result<()> {
        let found = members.iter().map(|m| Ok((resources::find(&m.name)?, m.period))).collect::<Result<Vec<_>>>()?;
        let values = resources::compute_shared(self.store.as_ref(), &found, now).await?;
        for ((resource, period), data) in found.iter().zip(&values) {
            self.store_value(resource, *period, &Params::default(), data).await?;
        }
        Ok(())
    }

    /// Stores a computed value in the cache with its period's TTL (capped for personal ones).
    async fn store_value(&self, resource: &Resource, period: Period, params: &Params, data: &Value) -> Result<()> {
        let ttl = if resource.param == Some(Param::Devices) { period.cache_ttl().min(PERSONAL_TTL) } else { period.cache_ttl() };
        let envelope = json!({"computed_at": self.clock.now().to_rfc3339(), "data": data});
        self.cache
            .set(&keys::resource(&resource_id(resource, period, params)), &envelope.to_string(), ttl.to_std().unwrap_or(StdDuration::from_secs(300)))
            .await
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
            kinds::CACHE_RESOURCES => match job.task.payload::<CacheResources>() {
                Ok(CacheResources { members, now }) => self.compute_and_cache_shared(&members, now.unwrap_or_else(|| self.clock.now())).await,
                Err(e) => Err(e),
            },
            _ => Err(Error::InvalidArgument(format!("not a statistics job: {:?}", job.task))),
        };
        match &result {
            Ok(()) => {
                let done: Vec<String> = job_keys(job).iter().flat_map(|k| [keys::pending(k), keys::failed(k)]).collect();
                self.cache.del(&done).await?;
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
        for key in job_keys(job) {
            self.cache.del(&[keys::pending(&key)]).await?;
            self.cache.set(&keys::failed(&key), error, FAILED_TTL).await?;
        }
        Ok(())
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
