//! The `:` command palette: the CLI's own commands, parsed by the CLI's own clap definitions
//! and turned into engine requests or views. Commands that make no sense inside a running
//! dashboard (`worker`, `serve`, `demo`, `ingest`) are refused with a pointer to the shell.
//! `events import FILE…` and `flows import FILE…` run inside it — one transaction each, with
//! a progress bar that X (or *Cancel*) stops, storing nothing; standard input and the eventDB
//! form stay the shell's.

use clap::Parser as _;
use vantage_core::engine::{Import, Request};
use vantage_core::statistics::aggregation::Precision;
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::{self, Params};

use crate::cli::{Cli, Command, EventsCommand, FlowsCommand};
use crate::panels::{Detail, Tab};

/// What a palette command does to the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Send a request to the engine.
    Request(Request),
    /// Show a tab.
    Tab(Tab),
    /// Switch the period and open a resource.
    Resource {
        /// The period.
        period: Period,
        /// The detail view showing it.
        detail: Detail,
    },
    /// Open a detail view (`ip <target>`: its dossier).
    Open(Detail),
    /// Leave the dashboard.
    Quit,
}

/// Parses a palette line (`refresh`, `migrate-period daily --days 30`, `resource … 1w --ip …`,
/// `quit`, …). The error is one line naming what is wrong.
pub fn parse(line: &str) -> Result<Vec<Outcome>, String> {
    let words = split(line)?;
    match words.first().map(String::as_str) {
        None => return Ok(Vec::new()),
        Some("q" | "quit" | "exit") => return Ok(vec![Outcome::Quit]),
        _ => {}
    }
    let cli = Cli::try_parse_from(std::iter::once("vantage".to_string()).chain(words.iter().cloned()))
        .map_err(|e| one_line(&e.to_string()))?;
    let Some(command) = cli.command else { return Ok(Vec::new()) };
    let err = |e: vantage_core::Error| e.to_string();
    Ok(match command {
        Command::Refresh(_) => vec![Outcome::Request(Request::Refresh), Outcome::Tab(Tab::Operations)],
        Command::AggregatePeriod(a) => vec![Outcome::Request(Request::Aggregate { precision: a.period.parse().map_err(err)? })],
        Command::MigratePeriod(a) => {
            let precision: Precision = a.period.parse().map_err(err)?;
            let days = a.days.unwrap_or_else(|| precision.default_backfill_days());
            if days == 0 || days > 36_600 {
                return Err(format!("--days {days}: must be between 1 and 36600"));
            }
            vec![Outcome::Request(Request::Migrate { precision, days })]
        }
        Command::ClearCache(a) => vec![Outcome::Request(Request::ClearCache { all: a.all }), Outcome::Tab(Tab::Operations)],
        Command::ClearTimeouts(a) => vec![Outcome::Request(Request::ClearTimeouts { kind: a.kind, period: a.period }), Outcome::Tab(Tab::Operations)],
        Command::ViewJobs(_) | Command::ViewTimeouts(_) | Command::ViewCache(_) => vec![Outcome::Tab(Tab::Operations)],
        Command::Resource(a) => {
            let resource = resources::find(&a.name).map_err(err)?;
            let period: Period = a.period.parse().map_err(err)?;
            let params = Params::for_resource(resource, a.params.ip.as_deref(), a.params.password.as_deref(), &a.params.device_token).map_err(err)?;
            vec![Outcome::Resource { period, detail: Detail::Resource { name: resource.name, params } }]
        }
        Command::CachePeriod(_) | Command::CacheResource(_) => {
            return Err("cache-period / cache-resource: the planner (F or :refresh) caches every period; run them in a shell for one".into());
        }
        Command::Ip(a) => {
            let target = vantage_core::engine::dossier::Target::parse(&a.target)?;
            if a.from.is_some() || a.to.is_some() || a.json || a.out.is_some() {
                return Err("ip: the dashboard's dossier covers the display period 1y; --from, --to, --json and --out run in a shell".into());
            }
            vec![Outcome::Open(Detail::Dossier { target: target.to_string() })]
        }
        Command::Events(EventsCommand::Import(a)) if a.eventdb_url.is_none() => import(Import::Events, a.files, a.strict)?,
        Command::Flows(FlowsCommand::Import(a)) => import(Import::Flows, a.files, a.strict)?,
        Command::Ingest(_) | Command::Demo(_) | Command::Worker(_) | Command::Serve(_) | Command::Passwords(_) | Command::Pcap(_) | Command::Events(_) | Command::Flows(_) | Command::Greylist(_) | Command::Dynfw(_) | Command::Token(_) => {
            return Err(format!("`{}` runs in a shell, not inside the dashboard", words[0]));
        }
    })
}

/// Clap's error on one line: its first, and the one after when the first ends with `:` (e.g.
/// "the following required arguments were not provided: <FILE>...").
fn one_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid command").trim_start_matches("error: ");
    match lines.next() {
        Some(next) if first.ends_with(':') => format!("{first} {next}"),
        _ => first.to_string(),
    }
}

/// An import of `files` (standard input refused: the dashboard holds it).
fn import(what: Import, files: Vec<String>, strict: bool) -> Result<Vec<Outcome>, String> {
    if files.iter().any(|f| f == "-") {
        return Err(format!("{} import -: standard input is the shell's; name the files", what.name()));
    }
    Ok(vec![Outcome::Request(Request::Import { what, files: files.into_iter().map(Into::into).collect(), strict })])
}

/// Splits on whitespace; double quotes group words (`--password "a b"`).
fn split(line: &str) -> Result<Vec<String>, String> {
    let (mut words, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err("unclosed \" in the command".into());
    }
    if any {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_commands_become_requests_and_views() {
        assert_eq!(parse("migrate-period daily --days 30"), Ok(vec![Outcome::Request(Request::Migrate { precision: Precision::Daily, days: 30 })]));
        assert_eq!(parse("migrate-period hourly").map(|o| o.len()), Ok(1));
        assert_eq!(parse("aggregate-period quarterly"), Ok(vec![Outcome::Request(Request::Aggregate { precision: Precision::Quarterly })]));
        assert!(matches!(parse("refresh").as_deref(), Ok([Outcome::Request(Request::Refresh), Outcome::Tab(Tab::Operations)])));
        assert!(matches!(parse("clear-cache --all").as_deref(), Ok([Outcome::Request(Request::ClearCache { all: true }), _])));
        let r = parse("resource logins_of_password_by_usages_list 1w --password \"a b\"").expect("resource");
        assert!(
            matches!(&r[..], [Outcome::Resource { period: Period::Week, detail: Detail::Resource { name: "logins_of_password_by_usages_list", params } }] if params.password.as_deref() == Some("a b"))
        );
        assert_eq!(parse("  "), Ok(vec![]));
        assert_eq!(parse(":q").ok(), None, "only the words of the CLI");
        assert_eq!(parse("quit"), Ok(vec![Outcome::Quit]));
    }

    #[test]
    fn imports_of_named_files_run_in_the_dashboard() {
        use vantage_core::engine::Import;
        let files = |names: &[&str]| names.iter().map(std::path::PathBuf::from).collect::<Vec<_>>();
        assert_eq!(
            parse("events import a.jsonl b.jsonl --strict"),
            Ok(vec![Outcome::Request(Request::Import { what: Import::Events, files: files(&["a.jsonl", "b.jsonl"]), strict: true })])
        );
        assert_eq!(parse("flows import day.csv"), Ok(vec![Outcome::Request(Request::Import { what: Import::Flows, files: files(&["day.csv"]), strict: false })]));
    }

    #[test]
    fn bad_commands_get_one_line_errors() {
        for (line, says) in [
            ("migrate-period weekly", "weekly"),
            ("migrate-period daily --days 0", "--days 0"),
            ("resource all_incident_graph 1d", "unknown resource"),
            ("resource selected_attacker_incidents_graph 1d", "--ip"),
            ("frobnicate", "frobnicate"),
            ("worker", "shell"),
            ("resource x \"1d", "unclosed"),
            ("events import -", "standard input is the shell's"),
            ("events import --eventdb-url postgres://x/y", "shell"),
            ("flows import", "FILE"),
        ] {
            let e = parse(line).expect_err(line);
            assert!(e.contains(says) && !e.contains('\n'), "{line}: {e}");
        }
    }
}
