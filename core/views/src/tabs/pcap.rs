//! The PCAP tab's own state: capture jobs with their per-sensor state, the sensors' health,
//! and the summaries of completed captures (the capture detail view).

use std::collections::HashMap;

use vantage_core::engine::{Update, Request};
use vantage_core::pcap::demo;
use vantage_core::pcap::pipeline::{JobState, JobStatus};
use vantage_core::pcap::service::SensorStats;
use vantage_core::pcap::summary::CaptureSummary;

use super::{Ctx, Reply, TabModel, Taken};
use crate::effect::{Effect, Export};
use crate::keys::{Action, Mode};
use crate::panels::{Detail, Panel, Source, Tab};
use vantage_core::engine::RequestKind;
use crate::table::TableData;

/// The PCAP tab's model.
#[derive(Debug, Default)]
pub struct Pcap {
    /// Packet-capture jobs, oldest first.
    pub jobs: Option<Vec<JobStatus>>,
    /// Sensors' counters or errors, and the spool's free bytes.
    pub sensors: Option<(Vec<SensorStats>, Option<u64>)>,
    /// Summaries of completed captures by job id.
    pub captures: HashMap<String, CaptureSummary>,
    /// The capture whose summary is being computed.
    summary_pending: Option<String>,
}

impl Pcap {
    /// The job of the open capture detail, once the job list is loaded.
    pub fn capture_job(&self, ctx: &Ctx) -> Option<&JobStatus> {
        let Some(Detail::Capture { id }) = ctx.detail else { return None };
        self.jobs.as_ref()?.iter().find(|j| &j.id == id)
    }

    /// The full id of the job whose id starts with `shown` (the table shows a prefix).
    pub fn full_id(&self, shown: &str) -> Option<String> {
        self.jobs.iter().flatten().find(|j| j.id.starts_with(shown)).map(|j| j.id.clone())
    }

    /// The job X cancels: the open capture's, else the selected row's, when not final.
    pub fn job_to_cancel(&self, ctx: &Ctx) -> Option<&JobStatus> {
        let job = match ctx.detail {
            Some(Detail::Capture { .. }) => self.capture_job(ctx)?,
            _ if ctx.focused.is_some_and(|p| p.source == Source::PcapJobs) => {
                let shown = ctx.selected?.first()?;
                self.jobs.iter().flatten().find(|j| j.id.starts_with(shown.as_str()))?
            }
            _ => return None,
        };
        (!job.state.is_final()).then_some(job)
    }

    /// The open capture's job when it is completed with a capture whose summary is neither
    /// known nor being computed.
    fn capture_to_summarize(&self, ctx: &Ctx) -> Option<String> {
        let job = self.capture_job(ctx)?;
        let wanted = job.state == JobState::Completed && job.merged.is_some() && !self.captures.contains_key(&job.id);
        (wanted && self.summary_pending.as_deref() != Some(job.id.as_str())).then(|| job.id.clone())
    }

    fn summary(&self, ctx: &Ctx) -> Option<&CaptureSummary> {
        self.capture_job(ctx).and_then(|j| self.captures.get(&j.id))
    }

    fn request_lines(&self) -> Vec<String> {
        let mut lines = vec![
            "n  request a capture, e.g.".to_string(),
            "   host 10.0.0.1 port 80".into(),
            "   net 10.0.0.0 24 after 2h ago".into(),
            "   host 10.0.0.1 and (port 53 or".into(),
            "   icmp)".into(),
            "Enter: a job's sensors, summary".into(),
            "X: cancel the selected running job".into(),
        ];
        if let Some((_, Some(free))) = &self.sensors {
            lines.push(format!("spool    {:.1} GiB free", *free as f64 / (1u64 << 30) as f64));
        }
        if let Some(jobs) = &self.jobs {
            let running = jobs.iter().filter(|j| !j.state.is_final()).count();
            lines.push(format!("jobs     {} ({running} running)", jobs.len()));
        }
        lines
    }

    fn capture_lines(&self, ctx: &Ctx) -> Vec<String> {
        let Some(Detail::Capture { id }) = ctx.detail else { return Vec::new() };
        let Some(job) = self.capture_job(ctx) else { return vec![format!("job {id}"), "loading".into()] };
        let mut lines = vec![format!("job      {}", job.id), format!("state    {}", job.state), format!("query    {}", job.query)];
        for (sensor, r) in &job.requests {
            lines.push(format!("sensor   {sensor}: {} ({})", r.state, r.message));
        }
        match self.captures.get(&job.id) {
            Some(s) => {
                lines.push(format!("packets  {}   bytes {}", s.packets, s.bytes));
                if let (Some(a), Some(b)) = (s.first, s.last) {
                    lines.push(format!(
                        "span     {} – {} ({:.1} s)",
                        a.format("%Y-%m-%d %H:%M:%S"),
                        b.format("%H:%M:%S"),
                        (b - a).num_milliseconds() as f64 / 1000.0
                    ));
                }
                let protocols: Vec<String> = s.protocols.iter().map(|c| format!("{} {}", c.key, c.packets)).collect();
                lines.push(format!("protos   {}", protocols.join(", ")));
                lines.push("w saves the capture to a file".into());
            }
            None if job.state == JobState::Completed && job.merged.is_none() => lines.push("no packets matched".into()),
            None if job.state == JobState::Completed => lines.push("summarizing".into()),
            None if !job.state.is_final() => lines.push("X cancels this job".into()),
            None => {}
        }
        lines.extend(job.events.iter().rev().take(3).map(|e| format!("{}  {}", e.time.format("%H:%M:%S"), e.message)));
        lines
    }
}

impl TabModel for Pcap {
    fn requests(&self, ctx: &Ctx, source: &Source) -> Vec<Request> {
        match source {
            Source::PcapJobs | Source::CaptureInfo => vec![Request::PcapJobs],
            Source::PcapSensors => vec![Request::PcapSensors],
            Source::CaptureTalkers | Source::CapturePorts | Source::CapturePackets => {
                self.capture_to_summarize(ctx).map(|id| Request::PcapSummary { id }).into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    fn sent(&mut self, request: &Request) {
        if let Request::PcapSummary { id } = request {
            self.summary_pending = Some(id.clone());
        }
    }

    fn take(&mut self, event: Update) -> Taken {
        match event {
            Update::PcapSubmitted(job) => {
                let notice = format!("capture job {} {} — Enter on it for details", &job.id[..12], job.state);
                let jobs = self.jobs.get_or_insert_with(Vec::new);
                match jobs.iter_mut().find(|j| j.id == job.id) {
                    Some(known) => *known = job,
                    None => jobs.push(job),
                }
                return Taken::Mine(Reply::notice(notice));
            }
            Update::PcapCancelled(job) => {
                let notice = match job.state {
                    JobState::Cancelled => format!("capture job {} cancelled", &job.id[..12]),
                    state => format!("capture job {} ({state}): its worker stops it", &job.id[..12]),
                };
                if let Some(known) = self.jobs.iter_mut().flatten().find(|j| j.id == job.id) {
                    *known = job;
                }
                return Taken::Mine(Reply::notice(notice));
            }
            Update::PcapJobs(jobs) => self.jobs = Some(jobs),
            Update::PcapSensors(sensors, free) => self.sensors = Some((sensors, free)),
            Update::PcapSummary { id, summary } => {
                if self.summary_pending.as_deref() == Some(id.as_str()) {
                    self.summary_pending = None;
                }
                self.captures.insert(id, summary);
            }
            other => return Taken::NotMine(other),
        }
        Taken::Mine(Reply::default())
    }

    fn failed(&mut self, kind: RequestKind) {
        if kind == RequestKind::PcapSummary {
            self.summary_pending = None;
        }
    }

    fn act(&mut self, ctx: &Ctx, action: &Action) -> Option<Reply> {
        match action {
            Action::NewCapture if ctx.detail.is_none() => Some(Reply::typing(Mode::PcapQuery, "")),
            Action::CancelWork => Some(match self.job_to_cancel(ctx) {
                Some(job) => Reply {
                    notice: Some(format!("cancelling capture job {}", &job.id[..12])),
                    effects: vec![Effect::Engine(Request::PcapCancel { id: job.id.clone() })],
                    ..Reply::default()
                },
                None => Reply::notice("nothing to cancel: select a running capture job"),
            }),
            Action::SaveCapture => {
                let job = self.capture_job(ctx).filter(|j| j.merged.is_some())?;
                Some(Reply::typing(Mode::SaveCapture, format!("{}.pcap", job.id)))
            }
            _ => None,
        }
    }

    fn submit(&mut self, ctx: &Ctx, mode: Mode, input: String) -> Reply {
        match mode {
            Mode::SaveCapture => match self.capture_job(ctx).and_then(|j| j.merged.clone()) {
                Some(from) if !input.trim().is_empty() => Reply::effects(vec![Effect::Export(Export::Pcap { from, to: input.trim().to_string() })]),
                _ => Reply::default(),
            },
            _ => Reply {
                notice: Some(format!("requesting a capture: {}", input.trim())),
                goto: (ctx.tab != Tab::Pcap || ctx.detail.is_some()).then_some(Tab::Pcap),
                effects: vec![Effect::Engine(Request::PcapSubmit { text: input })],
                ..Reply::default()
            },
        }
    }

    fn tick(&self, ticks: u64, requests: Vec<Request>) -> Vec<Request> {
        // sensors are asked every 5th tick; jobs (live per-sensor state) every tick
        if ticks.is_multiple_of(5) { requests } else { requests.into_iter().filter(|r| *r != Request::PcapSensors).collect() }
    }

    fn table(&self, ctx: &Ctx, p: &Panel) -> Option<TableData> {
        match p.source {
            Source::PcapJobs => {
                let rows = self
                    .jobs
                    .as_ref()?
                    .iter()
                    .rev()
                    .map(|j| {
                        let answered = j.requests.values().filter(|r| r.state != JobState::Error).count();
                        // a demo job asked no sensor: marked as such
                        let sensors = if demo::is_demo(j) { demo::DEMO_SENSOR.to_string() } else { format!("{answered}/{} ok", j.requests.len()) };
                        vec![
                            j.id[..12].to_string(),
                            j.state.to_string(),
                            sensors,
                            j.bytes.to_string(),
                            j.time.format("%Y-%m-%d %H:%M").to_string(),
                            j.query.clone(),
                        ]
                    })
                    .collect();
                Some(TableData::new(&["id", "job state", "sensors", "size", "time", "query"], rows))
            }
            Source::PcapSensors => {
                let (sensors, _) = self.sensors.as_ref()?;
                let rows = sensors
                    .iter()
                    .map(|(name, r)| match r {
                        Ok(c) => {
                            let reads = c.get("indexfile_current_reads").map_or("-", String::as_str);
                            let oldest = c
                                .get("oldest_timestamp")
                                .and_then(|ns| ns.parse::<i64>().ok())
                                .map(chrono::DateTime::from_timestamp_nanos)
                                .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string());
                            let state = if reads == "0" { "idle".to_string() } else { format!("busy ({reads} reads)") };
                            vec![name.clone(), state, oldest]
                        }
                        Err(e) => vec![name.clone(), format!("error: {e}"), "-".into()],
                    })
                    .collect();
                Some(TableData::new(&["sensor", "health", "oldest packet"], rows))
            }
            Source::CaptureTalkers => {
                let rows = self.summary(ctx)?.talkers.iter().map(|c| vec![c.key.clone(), c.packets.to_string(), c.bytes.to_string()]).collect();
                Some(TableData::new(&["address", "packets", "bytes"], rows))
            }
            Source::CapturePorts => {
                let rows = self.summary(ctx)?.ports.iter().map(|c| vec![c.key.clone(), c.packets.to_string()]).collect();
                Some(TableData::new(&["port", "packets"], rows))
            }
            Source::CapturePackets => {
                let rows = self
                    .summary(ctx)?
                    .preview
                    .iter()
                    .map(|l| {
                        let time = l.time.map_or("-".into(), |t| t.format("%H:%M:%S%.6f").to_string());
                        vec![time, l.source.clone(), l.destination.clone(), l.protocol.clone(), l.length.to_string()]
                    })
                    .collect();
                Some(TableData::new(&["time", "source", "destination", "protocol", "length"], rows))
            }
            _ => None,
        }
    }

    fn text(&self, ctx: &Ctx, p: &Panel) -> Vec<String> {
        match p.source {
            Source::PcapRequest => self.request_lines(),
            Source::CaptureInfo => self.capture_lines(ctx),
            _ => Vec::new(),
        }
    }
}
