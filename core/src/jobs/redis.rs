//! Reliable priority queue in Redis.
//!
//! Keys: `vantage:q:<queue>` (list of job ids: LPUSH in, RPOP out), `vantage:jobs` (hash
//! id → job JSON), `vantage:running` (sorted set id → lease deadline in ms, Redis server time),
//! `vantage:running:worker` (hash id → worker), `vantage:failed` (list of failed job JSON,
//! newest first, capped at 1000), `vantage:wakeup` (list pushed on every enqueue so idle
//! workers blocked in BLPOP wake up). Taking a job and leasing it is one Lua script, so a
//! job is never lost between the two and never taken twice.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Script};

use super::{Expired, Job, MAX_ATTEMPTS, PRIORITY, Queue, Running, Snapshot};
use crate::cache::connection::{CONNECT_TIMEOUT, RedisConn};
use crate::cache::connection::redis_error;
use crate::config::SecretUrl;
use crate::error::{Error, Result};

const JOBS: &str = "vantage:jobs";
const RUNNING: &str = "vantage:running";
const RUNNING_WORKER: &str = "vantage:running:worker";
const FAILED: &str = "vantage:failed";
const WAKEUP: &str = "vantage:wakeup";
const QUEUE: &str = "vantage:q:";

const POP: &str = r"
local t = redis.call('TIME')
local deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 3, #ARGV do
  local id = redis.call('RPOP', ARGV[i])
  if id then
    redis.call('ZADD', KEYS[1], deadline, id)
    redis.call('HSET', KEYS[2], id, ARGV[2])
    return redis.call('HGET', KEYS[3], id)
  end
end
return false
";

/// Puts one running job back at the head of its queue (only while it is still leased: a lease
/// that ran out was re-queued already).
const RELEASE: &str = r"
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('RPUSH', ARGV[2], ARGV[1])
  redis.call('LPUSH', KEYS[3], ARGV[1])
  redis.call('LTRIM', KEYS[3], 0, 63)
end
return 1
";

const REQUEUE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
local requeued = {}
local failed = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local worker = redis.call('HGET', KEYS[2], id) or '?'
  redis.call('HDEL', KEYS[2], id)
  local raw = redis.call('HGET', KEYS[3], id)
  if raw then
    local job = cjson.decode(raw)
    job['attempts'] = (job['attempts'] or 0) + 1
    if job['attempts'] >= tonumber(ARGV[1]) then
      job['error'] = 'lease lost ' .. job['attempts'] .. ' times (last worker ' .. worker .. ')'
      redis.call('HDEL', KEYS[3], id)
      local encoded = cjson.encode(job)
      redis.call('LPUSH', KEYS[4], encoded)
      redis.call('LTRIM', KEYS[4], 0, 999)
      table.insert(failed, encoded)
    else
      redis.call('HSET', KEYS[3], id, cjson.encode(job))
      redis.call('RPUSH', ARGV[2] .. job['queue'], id)
      redis.call('LPUSH', KEYS[5], id)
      table.insert(requeued, id)
    end
  end
end
return {requeued, failed}
";

/// Redis implementation of [`Queue`].
pub struct RedisQueue {
    ns: String,
    conn: RedisConn,
    blocking: tokio::sync::Mutex<Option<MultiplexedConnection>>,
}

impl RedisQueue {
    /// Connects. Blocking pops get their own connection without a response timeout.
    pub async fn connect(url: &SecretUrl) -> Result<Self> {
        Self::connect_namespaced(url, "").await
    }

    /// Like [`RedisQueue::connect`], with every key prefixed by `ns`.
    pub async fn connect_namespaced(url: &SecretUrl, ns: &str) -> Result<Self> {
        Ok(RedisQueue { ns: ns.to_string(), conn: RedisConn::connect(url).await?, blocking: tokio::sync::Mutex::new(None) })
    }

    fn k(&self, key: &str) -> String {
        format!("{}{key}", self.ns)
    }

    fn queue_key(&self, q: &str) -> String {
        format!("{}{QUEUE}{q}", self.ns)
    }

    /// Waits on the wakeup list for up to `wait` (a dedicated connection, reopened on error).
    async fn wait_for_push(&self, wait: Duration) -> Result<()> {
        let mut slot = self.blocking.lock().await;
        if slot.is_none() {
            let cfg = AsyncConnectionConfig::new().set_response_timeout(None).set_connection_timeout(Some(CONNECT_TIMEOUT));
            *slot = Some(self.conn.client().get_multiplexed_async_connection_with_config(&cfg).await.map_err(redis_error)?);
        }
        let Some(conn) = slot.as_mut() else { return Ok(()) };
        let secs = wait.as_secs_f64().max(0.01);
        let r: redis::RedisResult<Option<(String, String)>> = redis::cmd("BLPOP").arg(self.k(WAKEUP)).arg(secs).query_async(conn).await;
        if let Err(e) = r {
            *slot = None;
            return Err(redis_error(e));
        }
        Ok(())
    }
}

fn encode(job: &Job) -> Result<String> {
    serde_json::to_string(job).map_err(|e| Error::InvalidArgument(format!("job encoding: {e}")))
}

fn decode(raw: &str) -> Option<Job> {
    serde_json::from_str(raw).ok()
}

#[async_trait]
impl Queue for RedisQueue {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn push(&self, job: &Job) -> Result<()> {
        redis::pipe()
            .atomic()
            .hset(self.k(JOBS), &job.id, encode(job)?)
            .lpush(self.queue_key(&job.queue), &job.id)
            .lpush(self.k(WAKEUP), &job.id)
            .ltrim(self.k(WAKEUP), 0, 63)
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(redis_error)
    }

    async fn pop(&self, queues: &[String], worker: &str, lease: Duration, wait: Duration) -> Result<Option<Job>> {
        let deadline = tokio::time::Instant::now() + wait;
        let script = Script::new(POP);
        loop {
            let mut inv = script.key(self.k(RUNNING));
            inv.key(self.k(RUNNING_WORKER)).key(self.k(JOBS)).arg(lease.as_millis() as u64).arg(worker);
            for q in queues {
                inv.arg(self.queue_key(q));
            }
            let raw: Option<String> = inv.invoke_async(&mut self.conn.clone()).await.map_err(redis_error)?;
            if let Some(job) = raw.as_deref().and_then(decode) {
                return Ok(Some(job));
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.wait_for_push(left.min(Duration::from_secs(1))).await?;
        }
    }

    async fn extend(&self, job: &Job, lease: Duration) -> Result<()> {
        let time: (u64, u64) = redis::cmd("TIME").query_async(&mut self.conn.clone()).await.map_err(redis_error)?;
        let deadline = time.0 * 1000 + time.1 / 1000 + lease.as_millis() as u64;
        redis::cmd("ZADD").arg(self.k(RUNNING)).arg("XX").arg(deadline).arg(&job.id).query_async::<()>(&mut self.conn.clone()).await.map_err(redis_error)
    }

    async fn complete(&self, job: &Job) -> Result<()> {
        redis::pipe()
            .atomic()
            .zrem(self.k(RUNNING), &job.id)
            .hdel(self.k(RUNNING_WORKER), &job.id)
            .hdel(self.k(JOBS), &job.id)
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(redis_error)
    }

    async fn fail(&self, job: &Job, error: &str) -> Result<()> {
        let failed = Job { error: Some(error.to_string()), ..job.clone() };
        redis::pipe()
            .atomic()
            .zrem(self.k(RUNNING), &job.id)
            .hdel(self.k(RUNNING_WORKER), &job.id)
            .hdel(self.k(JOBS), &job.id)
            .lpush(self.k(FAILED), encode(&failed)?)
            .ltrim(self.k(FAILED), 0, 999)
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(redis_error)
    }

    async fn release(&self, job: &Job) -> Result<()> {
        Script::new(RELEASE)
            .key(self.k(RUNNING))
            .key(self.k(RUNNING_WORKER))
            .key(self.k(WAKEUP))
            .arg(&job.id)
            .arg(self.queue_key(&job.queue))
            .invoke_async::<()>(&mut self.conn.clone())
            .await
            .map_err(redis_error)
    }

    async fn requeue_expired(&self) -> Result<Expired> {
        let (requeued, failed): (Vec<String>, Vec<String>) = Script::new(REQUEUE)
            .key(self.k(RUNNING))
            .key(self.k(RUNNING_WORKER))
            .key(self.k(JOBS))
            .key(self.k(FAILED))
            .key(self.k(WAKEUP))
            .arg(MAX_ATTEMPTS)
            .arg(self.queue_key(""))
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(redis_error)?;
        Ok(Expired { requeued, failed: failed.iter().filter_map(|r| decode(r)).collect() })
    }

    async fn snapshot(&self) -> Result<Snapshot> {
        let mut conn = self.conn.clone();
        let jobs: std::collections::HashMap<String, String> = redis::cmd("HGETALL").arg(self.k(JOBS)).query_async(&mut conn).await.map_err(redis_error)?;
        let job = |id: &str| jobs.get(id).and_then(|raw| decode(raw));
        let mut queued = Vec::new();
        for q in PRIORITY {
            let ids: Vec<String> = redis::cmd("LRANGE").arg(self.queue_key(q)).arg(0).arg(-1).query_async(&mut conn).await.map_err(redis_error)?;
            queued.push((q.to_string(), ids.iter().rev().filter_map(|id| job(id)).collect()));
        }
        let time: (u64, u64) = redis::cmd("TIME").query_async(&mut conn).await.map_err(redis_error)?;
        let now = (time.0 * 1000 + time.1 / 1000) as i64;
        let leases: Vec<(String, i64)> = redis::cmd("ZRANGE").arg(self.k(RUNNING)).arg(0).arg(-1).arg("WITHSCORES").query_async(&mut conn).await.map_err(redis_error)?;
        let workers: std::collections::HashMap<String, String> = redis::cmd("HGETALL").arg(self.k(RUNNING_WORKER)).query_async(&mut conn).await.map_err(redis_error)?;
        let running = leases
            .into_iter()
            .filter_map(|(id, deadline)| {
                Some(Running { job: job(&id)?, worker: workers.get(&id).cloned().unwrap_or_default(), lease_left_ms: deadline - now })
            })
            .collect();
        let failed_raw: Vec<String> = redis::cmd("LRANGE").arg(self.k(FAILED)).arg(0).arg(-1).query_async(&mut conn).await.map_err(redis_error)?;
        Ok(Snapshot { queued, running, failed: failed_raw.iter().filter_map(|r| decode(r)).collect() })
    }

    async fn clear_failed(&self) -> Result<u64> {
        let mut conn = self.conn.clone();
        let n: u64 = redis::cmd("LLEN").arg(self.k(FAILED)).query_async(&mut conn).await.map_err(redis_error)?;
        redis::cmd("DEL").arg(self.k(FAILED)).query_async::<()>(&mut conn).await.map_err(redis_error)?;
        Ok(n)
    }
}
