//! The Events tab's own state: its filters (taxonomy and country stepped through pick-lists
//! from the data, ASNs typed), the answers to its questions, and the ASN operator view.

use std::collections::HashMap;

use vantage_core::engine::{Update, Request};
use vantage_core::events::model::Field;
use vantage_core::events::query::{Filter, Taxonomy};
use vantage_core::events::questions::View;
use vantage_core::events::table::Table;
use vantage_core::export::ChartData;

use super::{Ctx, Reply, TabModel, Taken};
use crate::keys::{Action, Mode};
use crate::panels::{Detail, Panel, Source};
use crate::table::TableData;

/// The Events tab's model.
#[derive(Debug)]
pub struct Events {
    /// The tab's filters (`from`/`to` follow the period).
    pub filter: Filter,
    /// Answers by question, with the filter and days they were asked with.
    answers: HashMap<View, (Filter, u32, Table)>,
    /// Pick-lists from the data (taxonomies, countries), largest first.
    pub pick: HashMap<Field, Vec<String>>,
}

impl Default for Events {
    fn default() -> Events {
        Events { filter: Filter { taxonomy: Taxonomy::AllButTest, ..Filter::default() }, answers: HashMap::new(), pick: HashMap::new() }
    }
}

/// Days the Events tab covers: the period's, at least a week (the data is daily).
pub fn days(ctx: &Ctx) -> u32 {
    ctx.period.range().num_days().max(7) as u32
}

impl Events {
    /// The filter a question is asked with: the tab's, the open ASN's in its detail, none for
    /// pick-lists (every value of the range, `test` included).
    fn filter_for(&self, ctx: &Ctx, view: View) -> Filter {
        match (view, ctx.detail) {
            (View::Values(_), _) => Filter::default(),
            (_, Some(Detail::EventsAsn { asn })) => Filter { asns: vec![*asn], ..self.filter.clone() },
            _ => self.filter.clone(),
        }
    }

    fn request(&self, ctx: &Ctx, view: View) -> Request {
        Request::Events { view, filter: self.filter_for(ctx, view), days: days(ctx) }
    }

    /// The answer to `view` for the current filters and period, once it arrived.
    pub fn answer(&self, ctx: &Ctx, view: View) -> Option<&Table> {
        let (filter, days_asked, table) = self.answers.get(&view)?;
        (*filter == self.filter_for(ctx, view) && *days_asked == days(ctx)).then_some(table)
    }

    /// Forgets the pick-lists (read once; `r` reads them again, e.g. after an import).
    pub fn forget_pick_lists(&mut self) {
        self.pick.clear();
    }

    /// Steps a pick-list filter to its next value.
    fn next_pick(&mut self, field: Field) {
        let values = self.pick.get(&field).cloned().unwrap_or_default();
        if field == Field::Taxonomy {
            let mut options = vec![Taxonomy::AllButTest, Taxonomy::Any];
            options.extend(values.into_iter().map(Taxonomy::Is));
            let at = options.iter().position(|t| *t == self.filter.taxonomy).map_or(0, |i| i + 1);
            self.filter.taxonomy = options[at % options.len()].clone();
        } else {
            let mut options = vec![None];
            options.extend(values.into_iter().map(Some));
            let at = options.iter().position(|c| *c == self.filter.country).map_or(0, |i| i + 1);
            self.filter.country = options[at % options.len()].clone();
        }
    }

    fn filter_lines(&self, ctx: &Ctx) -> Vec<String> {
        let f = &self.filter;
        let taxonomy = match &f.taxonomy {
            Taxonomy::AllButTest => "all (but test)".to_string(),
            Taxonomy::Any => "any (test too)".to_string(),
            Taxonomy::Is(t) => t.clone(),
        };
        let asns = if f.asns.is_empty() { "all".to_string() } else { f.asns.iter().map(|a| format!("AS{a}")).collect::<Vec<_>>().join(" ") };
        let distinct = self.answer(ctx, View::DistinctIps).and_then(|t| t.facts.first()).map_or("…".to_string(), |(_, v)| v.display());
        vec![
            format!("range     last {} days ({})", days(ctx), ctx.period),
            format!("taxonomy  {taxonomy} (t)"),
            format!("country   {} (g)", f.country.as_deref().unwrap_or("all")),
            format!("ASNs      {asns} (f)"),
            format!("distinct source IPs  {distinct}"),
            "Enter on an ASN: its operator view".into(),
        ]
    }
}

impl TabModel for Events {
    fn requests(&self, ctx: &Ctx, source: &Source) -> Vec<Request> {
        match source {
            Source::Events(View::TopProblems) if self.filter.country.is_none() => Vec::new(),
            Source::Events(view) => vec![self.request(ctx, *view)],
            Source::EventsFilters => {
                let mut out: Vec<Request> =
                    [Field::Taxonomy, Field::Country].into_iter().filter(|f| !self.pick.contains_key(f)).map(|f| self.request(ctx, View::Values(f))).collect();
                out.push(self.request(ctx, View::DistinctIps));
                out
            }
            _ => Vec::new(),
        }
    }

    fn take(&mut self, event: Update) -> Taken {
        match event {
            Update::Events { view: View::Values(field), table, .. } => {
                let values = table.rows.iter().filter_map(|r| r.first().map(|c| c.display())).filter(|v| !v.is_empty()).collect();
                self.pick.insert(field, values);
            }
            Update::Events { view, filter, days, table } => {
                self.answers.insert(view, (filter, days, table));
            }
            other => return Taken::NotMine(other),
        }
        Taken::Mine(Reply::default())
    }

    fn act(&mut self, ctx: &Ctx, action: &Action) -> Option<Reply> {
        if ctx.detail.is_some() {
            return None;
        }
        match action {
            Action::NextTaxonomy => self.next_pick(Field::Taxonomy),
            Action::NextCountry => self.next_pick(Field::Country),
            Action::FilterAsns => {
                return Some(Reply::typing(Mode::EventsAsns, self.filter.asns.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")));
            }
            _ => return None,
        }
        Some(Reply::reload())
    }

    fn submit(&mut self, _: &Ctx, _: Mode, input: String) -> Reply {
        let parsed: Result<Vec<i64>, _> = input
            .split([' ', ',', ';'])
            .filter(|w| !w.is_empty())
            .map(|w| w.trim_start_matches("AS").trim_start_matches("as").parse::<i64>())
            .collect();
        match parsed {
            Ok(asns) => {
                self.filter.asns = asns;
                Reply::reload()
            }
            Err(_) => Reply::error(format!("ASNs are numbers separated by spaces or commas, not `{}`", input.trim())),
        }
    }

    fn table(&self, ctx: &Ctx, p: &Panel) -> Option<TableData> {
        match p.source {
            Source::Events(View::TopProblems) if self.filter.country.is_none() => {
                Some(TableData::new(&["classification.type", "classification.identifier", "events"], Vec::new()))
            }
            Source::Events(view) => {
                let t = self.answer(ctx, view)?;
                Some(TableData { header: t.columns.clone(), rows: t.text_rows() })
            }
            _ => None,
        }
    }

    fn text(&self, ctx: &Ctx, p: &Panel) -> Vec<String> {
        if p.source == Source::EventsFilters { self.filter_lines(ctx) } else { Vec::new() }
    }

    fn chart(&self, ctx: &Ctx, p: &Panel) -> Option<ChartData> {
        let Source::Events(view) = p.source else { return None };
        self.answer(ctx, view)?.chart().map(|c| ChartData { title: p.title.clone(), ..c })
    }
}
