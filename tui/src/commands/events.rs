//! `vantage events …`: imports, aggregation, the questions, Grafana.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use vantage_core::Config;
use vantage_core::config::SecretUrl;
use vantage_core::engine::Engine;
use vantage_core::engine::events::Question;
use vantage_core::events::aggregate::Scope;
use vantage_core::events::import::{ImportOptions, ImportReport, Input};
use vantage_core::events::model::Field;
use vantage_core::events::query::{Filter, Taxonomy};
use vantage_core::events::table::{Cell, Table};
use vantage_core::events::{grafana, questions};

use super::{export, import_exit, open_inputs, open_store, report_rejections};
use crate::cli::{EventsAggregateArgs, EventsCommand, EventsImportArgs, EventsView};
use crate::progress::Bars;

/// Runs one `vantage events` command.
pub async fn run(config: &Config, command: EventsCommand) -> anyhow::Result<ExitCode> {
    match command {
        EventsCommand::Import(args) => return import(config, args).await,
        EventsCommand::Aggregate(args) => return aggregate(config, args).await,
        EventsCommand::Grafana(args) => {
            let text = serde_json::to_string_pretty(&grafana::dashboard())?;
            match args.out {
                Some(path) => std::fs::write(&path, text + "\n").with_context(|| format!("writing {}", path.display()))?,
                None => println!("{text}"),
            }
            return Ok(ExitCode::SUCCESS);
        }
        EventsCommand::Status(args) => {
            let engine = open_store(config).await?;
            let status = engine.events().status().await;
            engine.close().await;
            let status = status?;
            if args.json {
                println!("{}", serde_json::to_string(&status)?);
            } else {
                println!(
                    "{} events ({} without time.source), days {} … {}",
                    status.events,
                    status.without_time_source,
                    day(status.first_day),
                    day(status.last_day)
                );
                println!("{} days waiting for aggregation", status.pending_days.len());
                for (table, rows) in &status.table_rows {
                    println!("{table}: {rows} rows");
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let engine = open_store(config).await?;
    let answer = ask(&engine, config, command).await;
    engine.close().await;
    let (table, view) = answer?;
    show(&table, &view)?;
    Ok(ExitCode::SUCCESS)
}

fn day(d: Option<chrono::NaiveDate>) -> String {
    d.map_or_else(|| "-".into(), |d| d.to_string())
}

/// A dimension named on the command line.
fn field(name: &str) -> anyhow::Result<Field> {
    Field::parse(name).with_context(|| {
        format!("unknown dimension `{name}`; valid: taxonomy, type, identifier, malware, application, transport, feed, provider, code, country, asn, port, network, domain_suffix (or the IntelMQ name)")
    })
}

/// The filter of a view: the range defaults to the 30 days ending today by the clock.
fn filter(config: &Config, view: &EventsView) -> anyhow::Result<Filter> {
    let (from, to) = questions::default_days(view.from, view.to, config.clock.now())?;
    let country = match &view.country {
        Some(cc) if cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_alphabetic()) => Some(cc.to_ascii_uppercase()),
        Some(cc) => anyhow::bail!("--country `{cc}`: two letters, e.g. AT"),
        None => None,
    };
    Ok(Filter { from: Some(from), to: Some(to), taxonomy: Taxonomy::from_arg(view.taxonomy.as_deref()), asns: view.asn.clone(), country, equals: Vec::new(), among: Vec::new() })
}

/// Answers a question command: the table and the view options it was asked with.
async fn ask(engine: &Engine, config: &Config, command: EventsCommand) -> anyhow::Result<(Table, EventsView)> {
    let events = engine.events();
    Ok(match command {
        EventsCommand::Values(a) => {
            let mut f = filter(config, &a.view)?;
            // pick-lists cover all stored days and every taxonomy unless asked otherwise
            (f.from, f.to) = (a.view.from, a.view.to);
            if a.view.taxonomy.is_none() {
                f.taxonomy = Taxonomy::Any;
            }
            (events.answer(Question::Values(field(&a.dimension)?), &f).await?, a.view)
        }
        EventsCommand::PerDay(a) => {
            let f = filter(config, &a.view)?;
            (events.answer(Question::PerDay(a.by.as_deref().map(field).transpose()?), &f).await?, a.view)
        }
        EventsCommand::Operator(a) => {
            let f = filter(config, &a.view)?;
            (events.answer(Question::Operator(a.by.as_deref().map(field).transpose()?), &f).await?, a.view)
        }
        EventsCommand::DistinctIps(v) => (events.answer(Question::DistinctIps, &filter(config, &v)?).await?, v),
        EventsCommand::AsnFeeds(v) => (events.answer(Question::AsnFeeds, &filter(config, &v)?).await?, v),
        EventsCommand::TopAsns(a) => {
            let f = filter(config, &a.view)?;
            (events.answer(Question::TopAsns { by: field(&a.by)?, limit: a.limit }, &f).await?, a.view)
        }
        EventsCommand::RisingAsns(a) => {
            let f = filter(config, &a.view)?;
            (events.answer(Question::RisingAsns { limit: a.limit, min_events: a.min_events }, &f).await?, a.view)
        }
        EventsCommand::TopProblems(a) => (events.answer(Question::TopProblems { limit: a.limit }, &filter(config, &a.view)?).await?, a.view),
        EventsCommand::FeedHealth(a) => (events.answer(Question::FeedHealth { flagged: a.flagged }, &filter(config, &a.view)?).await?, a.view),
        EventsCommand::Import(_) | EventsCommand::Aggregate(_) | EventsCommand::Status(_) | EventsCommand::Grafana(_) => {
            anyhow::bail!("not a question")
        }
    })
}

/// Prints the table (text or JSON) and writes the requested exports.
fn show(table: &Table, view: &EventsView) -> anyhow::Result<()> {
    if view.json {
        println!("{}", serde_json::to_string(table)?);
    } else {
        println!("{}", table.title);
        let rows: Vec<Vec<String>> =
            table.rows.iter().map(|r| r.iter().map(|c| if *c == Cell::Null { "(null)".into() } else { c.display() }).collect()).collect();
        let header: Vec<&str> = table.columns.iter().map(String::as_str).collect();
        print!("{}", crate::output::table(&header, &rows));
        for (name, value) in &table.facts {
            println!("{name}: {}", value.display());
        }
    }
    export::write(&view.export, &table.columns, &table.text_rows(), table.chart(), &table.title)
}

/// `vantage events import`: bad lines are reported as `file:line: field: reason` (exit 3).
async fn import(config: &Config, args: EventsImportArgs) -> anyhow::Result<ExitCode> {
    let options = ImportOptions { strict: args.strict, aggregate: !args.no_aggregate };
    let inputs = open_inputs(&args.files)?.into_iter().map(|(name, reader)| Input { name, reader }).collect();
    let engine = open_store(config).await?;
    let report = match &args.eventdb_url {
        Some(url) => engine.events().import_eventdb(&SecretUrl::new(url.clone()), options, Arc::new(Bars::default())).await,
        None => engine.events().import(inputs, options, Arc::new(Bars::default())).await,
    };
    engine.close().await;
    let report = report?;
    report_rejections(&report.rejected, report.rejected_lines);
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_import(&report);
    }
    Ok(import_exit(report.committed, report.rejected_lines))
}

fn print_import(report: &ImportReport) {
    if !report.committed {
        println!("nothing imported: {} rejected lines (--strict)", report.rejected_lines);
        return;
    }
    println!(
        "imported {} events ({} without time.source) on {} days in {:.2} s; {} rejected lines",
        report.imported,
        report.without_time_source,
        report.days.len(),
        report.seconds,
        report.rejected_lines
    );
    if let Some(a) = &report.aggregation {
        println!("re-aggregated {} days in {:.2} s", a.outcome.days.len(), a.seconds);
    }
}

/// `vantage events aggregate`
async fn aggregate(config: &Config, args: EventsAggregateArgs) -> anyhow::Result<ExitCode> {
    let scope = match (args.full, args.from, args.to) {
        (true, _, _) => Scope::Full,
        (false, Some(from), Some(to)) => Scope::Days(from, to),
        _ => Scope::Pending,
    };
    let engine = open_store(config).await?;
    let report = engine.events().aggregate(scope).await;
    engine.close().await;
    let report = report?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        let what = if report.outcome.full { "all days".to_string() } else { format!("{} days", report.outcome.days.len()) };
        let [all, net, feed] = report.outcome.rows_written;
        println!("aggregated {what} in {:.2} s: {all} all_tags, {net} netobject_tags, {feed} feed_tags rows", report.seconds);
        println!("{} events without time.source (in no daily table)", report.outcome.without_time_source);
    }
    Ok(ExitCode::SUCCESS)
}
