//! The My devices tab's own state: the analyst's registered device tokens (shown masked),
//! added and removed here and saved by the front end.

use vantage_core::devices;

use super::{Ctx, Reply, TabModel};
use crate::effect::Effect;
use crate::keys::{Action, Mode};
use crate::panels::{Panel, Source};
use crate::table::TableData;

/// The My devices tab's model (its graphs are [`super::statistics::Statistics`]').
#[derive(Debug, Default)]
pub struct Devices {
    /// Registered device tokens.
    pub tokens: Vec<String>,
}

impl TabModel for Devices {
    fn act(&mut self, ctx: &Ctx, action: &Action) -> Option<Reply> {
        match action {
            Action::AddToken if ctx.detail.is_none() => Some(Reply::typing(Mode::AddToken, "")),
            Action::RemoveToken if ctx.detail.is_none() && ctx.focused.is_some_and(|p| p.source == Source::Devices) => {
                let Some(index) = ctx.selected.and_then(|r| r[0].parse::<usize>().ok()) else { return Some(Reply::default()) };
                self.tokens.remove(index - 1);
                Some(Reply {
                    effects: vec![Effect::SaveDevices(self.tokens.clone())],
                    notice: Some("device token removed".into()),
                    reload: true,
                    reset_selection: Some(Source::Devices),
                    ..Reply::default()
                })
            }
            _ => None,
        }
    }

    fn submit(&mut self, _: &Ctx, _: Mode, input: String) -> Reply {
        let token = input.trim().to_lowercase();
        if !devices::is_valid(&token) {
            return Reply::error(format!("device token of {} characters: a token is 64 characters of [a-z0-9]", token.chars().count()));
        }
        if !self.tokens.contains(&token) {
            self.tokens.push(token);
        }
        Reply {
            effects: vec![Effect::SaveDevices(self.tokens.clone())],
            notice: Some(format!("{} device token(s) registered", self.tokens.len())),
            reload: true,
            ..Reply::default()
        }
    }

    fn table(&self, _: &Ctx, p: &Panel) -> Option<TableData> {
        (p.source == Source::Devices).then(|| TableData::new(&["#", "token"], self.tokens.iter().enumerate().map(|(i, t)| vec![(i + 1).to_string(), mask(t)]).collect()))
    }
}

/// A device token shown without giving it away.
fn mask(token: &str) -> String {
    let head: String = token.chars().take(4).collect();
    format!("{head}{}", "*".repeat(12))
}
