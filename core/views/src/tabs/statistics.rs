//! The statistics resources every statistics panel shows (Overview, Attackers, Passwords,
//! Ports, My devices and the resource detail views): the latest read of each resource,
//! period and parameters, as tables and charts; a read without a value keeps the last value.

use std::collections::HashMap;

use vantage_core::engine::{Update, Request};
use vantage_core::export::ChartData;
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::{self, Kind, Params};
use vantage_core::statistics::service::ResourceRead;

use super::{Ctx, Reply, TabModel, Taken};
use crate::panels::{Panel, Source};
use crate::table::TableData;

/// The model of Overview and Ports, and of the resource panels of every tab.
#[derive(Debug, Default)]
pub struct Statistics {
    /// Latest value of each (resource, period, parameters).
    pub data: HashMap<(String, Period, Params), ResourceRead>,
}

impl Statistics {
    /// The latest read of a resource panel for `period`.
    pub fn read(&self, period: Period, p: &Panel) -> Option<&ResourceRead> {
        match &p.source {
            Source::Resource { name, params } => self.data.get(&((*name).to_string(), period, params.clone())),
            _ => None,
        }
    }

    fn value(&self, period: Period, p: &Panel) -> Option<&serde_json::Value> {
        self.read(period, p)?.data.as_ref()
    }

    /// The unescaped cell value (tables show `\n` escaped; a detail needs the real text).
    pub fn raw_cell(&self, period: Period, p: &Panel, t: &TableData, row: usize, column: usize) -> Option<String> {
        let key = t.header.get(column)?;
        let shown = t.rows.get(row)?.get(column)?;
        let items = self.value(period, p).and_then(|v| v.as_array())?;
        items.iter().filter_map(|i| i[key.as_str()].as_str()).find(|s| s.escape_debug().to_string() == *shown).map(str::to_string)
    }
}

impl TabModel for Statistics {
    fn requests(&self, ctx: &Ctx, source: &Source) -> Vec<Request> {
        match source {
            Source::Resource { name, params } => vec![Request::Resource { name: name.to_string(), period: ctx.period, params: params.clone() }],
            _ => Vec::new(),
        }
    }

    fn take(&mut self, event: Update) -> Taken {
        match event {
            Update::Resource { name, period, params, mut read } => {
                let key = (name, period, params);
                // a read without a value (the cache lost it: Redis restarted empty, the cache
                // was cleared) keeps the last value shown, with its time, until a new one comes
                if read.data.is_none()
                    && let Some(last) = self.data.get(&key).filter(|last| last.data.is_some())
                {
                    read.data = last.data.clone();
                    read.computed_at = last.computed_at;
                }
                self.data.insert(key, read);
                Taken::Mine(Reply::default())
            }
            other => Taken::NotMine(other),
        }
    }

    fn table(&self, ctx: &Ctx, p: &Panel) -> Option<TableData> {
        let Source::Resource { name, .. } = &p.source else { return None };
        let value = self.value(ctx.period, p)?;
        match resources::find(name).ok()?.kind {
            Kind::List { keys, .. } => {
                let mut header: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                header.push("count".into());
                let rows = value
                    .as_array()?
                    .iter()
                    .map(|i| {
                        let mut row: Vec<String> = keys.iter().map(|k| i[*k].as_str().unwrap_or("").escape_debug().to_string()).collect();
                        row.push(i["count"].to_string());
                        row
                    })
                    .collect();
                Some(TableData { header, rows })
            }
            _ => {
                let mut rows: Vec<Vec<String>> = value.as_object()?.iter().map(|(k, v)| vec![k.clone(), v.to_string()]).collect();
                rows.sort_by_key(|r| std::cmp::Reverse(r[1].parse::<i64>().unwrap_or(0)));
                Some(TableData::new(&["country", "count"], rows))
            }
        }
    }

    fn chart(&self, ctx: &Ctx, p: &Panel) -> Option<ChartData> {
        ChartData::from_resource(&p.title, self.value(ctx.period, p)?)
    }
}
