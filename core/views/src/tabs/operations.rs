//! The Operations tab's own state: the queue, refresh timeouts and cache entries, and the
//! planner, aggregation, migration and cache actions with their outcomes.

use std::collections::{BTreeSet, HashMap};

use vantage_core::cache::{EntryInfo, keys};
use vantage_core::engine::{Update, Request};
use vantage_core::jobs::Snapshot;
use vantage_core::statistics::aggregation::Precision;
use vantage_core::statistics::service;

use super::{Ctx, Reply, TabModel, Taken};
use crate::effect::Effect;
use crate::keys::Action;
use crate::panels::{Panel, Source};
use crate::table::TableData;

/// The Operations tab's model.
#[derive(Debug, Default)]
pub struct Operations {
    /// Queue contents.
    pub jobs: Option<Snapshot>,
    /// Cache entries by key prefix.
    pub entries: HashMap<String, Vec<EntryInfo>>,
}

fn timeout_prefix() -> String {
    format!("{}timeout:", keys::PREFIX)
}

/// The cache key prefix a panel lists.
fn prefix(source: &Source) -> String {
    if *source == Source::Timeouts { timeout_prefix() } else { keys::resource("") }
}

impl Operations {
    fn deployment_lines(&self, ctx: &Ctx) -> Vec<String> {
        let workers: BTreeSet<&str> = self.jobs.iter().flat_map(|s| s.running.iter().map(|r| r.worker.as_str())).collect();
        let (queued, running, failed) =
            self.jobs.as_ref().map_or((0, 0, 0), |s| (s.queued.iter().map(|(_, j)| j.len()).sum(), s.running.len(), s.failed.len()));
        vec![
            format!("backend  {}", ctx.backend.unwrap_or("opening")),
            format!("jobs     {queued} queued, {running} running"),
            format!("failed   {failed}"),
            format!("workers  {}", if workers.is_empty() { "none busy".to_string() } else { workers.into_iter().collect::<Vec<_>>().join(", ") }),
            "F planner   A aggregate".into(),
            "M migrate   C clear cache".into(),
            ":clear-timeouts resource 1d".into(),
        ]
    }
}

impl TabModel for Operations {
    fn requests(&self, _: &Ctx, source: &Source) -> Vec<Request> {
        match source {
            Source::Jobs => vec![Request::Jobs],
            Source::Timeouts | Source::Cache => vec![Request::Entries { prefix: prefix(source) }],
            _ => Vec::new(),
        }
    }

    fn take(&mut self, event: Update) -> Taken {
        Taken::Mine(match event {
            Update::Jobs(s) => {
                self.jobs = Some(s);
                Reply::default()
            }
            Update::Entries { prefix, mut entries } => {
                entries.sort_by(|a, b| a.key.cmp(&b.key));
                self.entries.insert(prefix, entries);
                Reply::default()
            }
            Update::Planned(s) => {
                let queued = s.iter().filter(|s| matches!(s.outcome, service::Outcome::Queued { .. })).count();
                Reply::notice(format!("planner: {} decisions, {queued} jobs queued", s.len()))
            }
            Update::Migrated(r) => {
                let precision = r.precision.map(|p| p.to_string()).unwrap_or_default();
                let notice = format!("{precision}: {} windows — {} written, {} replaced, {} already done", r.windows, r.inserted, r.replaced, r.skipped);
                Reply { finished: true, ..Reply::notice(notice) }
            }
            Update::Imported { what, imported, rejected, committed, rejections } => {
                let stored = if committed { format!("{imported} stored") } else { "nothing stored (strict)".into() };
                let notice = format!("{} import: {stored}, {rejected} lines rejected — r reloads the view", what.name());
                let mut reply = Reply { finished: true, ..Reply::notice(notice) };
                reply.error = rejections.first().map(|r| format!("{r}{}", if rejections.len() > 1 { " (and more: see the CLI)" } else { "" }));
                reply
            }
            Update::Cleared { what, count } => Reply::notice(format!("cleared {count} keys ({what})")),
            other => return Taken::NotMine(other),
        })
    }

    fn act(&mut self, _: &Ctx, action: &Action) -> Option<Reply> {
        let requests = match action {
            Action::RunPlanner => vec![Request::Refresh],
            Action::AggregateNow => Precision::ALL.iter().map(|p| Request::Aggregate { precision: *p }).collect(),
            Action::Migrate => Precision::ALL.iter().map(|p| Request::Migrate { precision: *p, days: p.default_backfill_days() }).collect(),
            Action::ClearCache => vec![Request::ClearCache { all: false }],
            _ => return None,
        };
        Some(Reply::effects(requests.into_iter().map(Effect::Engine).collect()))
    }

    fn tick(&self, _: u64, requests: Vec<Request>) -> Vec<Request> {
        requests
    }

    fn table(&self, _: &Ctx, p: &Panel) -> Option<TableData> {
        match p.source {
            Source::Jobs => {
                let s = self.jobs.as_ref()?;
                let mut rows: Vec<Vec<String>> = Vec::new();
                for r in &s.running {
                    rows.push(vec![
                        "running".into(),
                        r.job.queue.clone(),
                        r.job.key.clone(),
                        format!("{} lease {:.0}s", r.worker, r.lease_left_ms as f64 / 1000.0),
                    ]);
                }
                for (queue, jobs) in &s.queued {
                    rows.extend(jobs.iter().map(|j| vec!["queued".into(), queue.clone(), j.key.clone(), j.enqueued_at.format("since %H:%M:%S").to_string()]));
                }
                rows.extend(s.failed.iter().map(|j| vec!["failed".into(), j.queue.clone(), j.key.clone(), j.error.clone().unwrap_or_default()]));
                Some(TableData::new(&["state", "queue", "job", "worker / error"], rows))
            }
            Source::Timeouts | Source::Cache => {
                let prefix = prefix(&p.source);
                let rows = self
                    .entries
                    .get(&prefix)?
                    .iter()
                    .map(|e| {
                        vec![e.key.trim_start_matches(prefix.as_str()).to_string(), e.ttl_seconds.map_or("∞".into(), |s| format!("{s}s")), e.size.to_string()]
                    })
                    .collect();
                Some(TableData::new(&["key", "ttl", "bytes"], rows))
            }
            _ => None,
        }
    }

    fn text(&self, ctx: &Ctx, p: &Panel) -> Vec<String> {
        if p.source == Source::Deployment { self.deployment_lines(ctx) } else { Vec::new() }
    }
}
