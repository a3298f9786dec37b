//! The context menu of a table cell (right click): copy the cell, copy the row (tab-separated),
//! open the row's detail where the table opens one, open the IP dossier of the address (or
//! ASN) the row names, request a capture for a row that starts
//! with an address, check a password row's password, cancel a capture job. The last two go through the models' own
//! flows: the PCAP tab's capture request and the Passwords tab's leak check, pre-filled.

use std::net::IpAddr;

use eframe::egui::Ui;
use vantage_views::app::TableData;
use vantage_views::keys::Action;
use vantage_views::panels::{Opens, Panel, Source, Tab};

use crate::session::Session;

/// What was picked in a menu, beside copying (done at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// Open the row's detail.
    Open,
    /// Open the dossier of the address the row names.
    Dossier,
    /// Request a capture of this address.
    Capture(IpAddr),
    /// Check the password in this column.
    CheckPassword(usize),
    /// Cancel this capture job (the PCAP tab's model says when it is already final).
    CancelJob,
}

/// The menu of cell `column` of row `row` of table `t` (as shown) in panel `p`.
pub fn show(ui: &mut Ui, p: &Panel, t: &TableData, row: usize, column: usize) -> Option<Pick> {
    let cells = t.rows.get(row)?;
    if ui.button("Copy cell").clicked() {
        ui.ctx().copy_text(cells.get(column).cloned().unwrap_or_default());
        ui.close();
    }
    if ui.button("Copy row").clicked() {
        ui.ctx().copy_text(cells.join("\t"));
        ui.close();
    }
    let mut pick = None;
    if p.opens.is_some() && ui.button("Open detail").clicked() {
        pick = Some(Pick::Open);
    }
    if let Some(target) = vantage_views::tabs::dossier::address_in(&t.header, cells)
        && ui.button(format!("Open dossier of {target}")).clicked()
    {
        pick = Some(Pick::Dossier);
    }
    if let Some(ip) = cells.first().and_then(|c| c.parse::<IpAddr>().ok())
        && ui.button(format!("Request capture for {ip}")).clicked()
    {
        pick = Some(Pick::Capture(ip));
    }
    if p.opens == Some(Opens::Password)
        && let Some(c) = t.header.iter().position(|h| h == "password")
        && ui.button("Check password").clicked()
    {
        pick = Some(Pick::CheckPassword(c));
    }
    if p.source == Source::PcapJobs && ui.button("Cancel job").clicked() {
        pick = Some(Pick::CancelJob);
    }
    if pick.is_some() {
        ui.close();
    }
    pick
}

/// Carries out a pick on row `row` of table `t` (as shown; the row already selected and the
/// panel focused).
pub fn apply(d: &mut Session, p: &Panel, t: &TableData, row: usize, pick: Pick) {
    match pick {
        Pick::Open => d.apply(Action::Open),
        Pick::Dossier => d.apply(Action::Dossier),
        Pick::CancelJob => d.apply(Action::CancelWork),
        Pick::Capture(ip) => {
            goto(d, Tab::Pcap);
            d.apply(Action::NewCapture);
            type_in(d, &format!("host {ip} "));
        }
        Pick::CheckPassword(c) => {
            let Some(shown) = t.rows.get(row).and_then(|r| r.get(c)) else { return };
            let password = d.app.statistics.raw_cell(d.app.period, p, t, row, c).unwrap_or_else(|| shown.clone());
            goto(d, Tab::Passwords);
            d.apply(Action::CheckPassword);
            type_in(d, &password);
        }
    }
}

/// Shows `tab` itself (not a detail on it), where the action lives.
fn goto(d: &mut Session, tab: Tab) {
    if d.app.tab != tab || d.app.detail.is_some() {
        d.apply(Action::Tab(tab));
    }
}

/// Types `text` into the input line the models opened.
fn type_in(d: &mut Session, text: &str) {
    for c in text.chars() {
        d.apply(Action::Input(c));
    }
}
