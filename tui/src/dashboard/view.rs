//! Drawing the dashboard from [`App`] state (no I/O): works from 80×24 up, 256 colours,
//! braille line charts.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Cell, Chart, Clear, Dataset, GraphType, Paragraph, Row, Table, Tabs};
use serde_json::Value;

use super::app::{App, KEYS, Tab};

const ACCENT: Color = Color::Indexed(39);
const DIM: Color = Color::Indexed(245);

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let [header, body, footer] = Layout::vertical([Constraint::Length(2), Constraint::Min(5), Constraint::Length(1)]).areas(frame.area());
    draw_header(frame, header, app);
    match app.tab {
        Tab::Overview => {
            let [left, right] = Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(body);
            let [a, b] = Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(left);
            let [c, d] = Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(right);
            chart(frame, a, app, "all_incidents_graph", "Incidents");
            chart(frame, b, app, "all_attackers_graph", "Attackers");
            table(frame, c, app, "top_countries_by_incidents_list", "Top countries", &["country"]);
            table(frame, d, app, "top_passwords_by_usages_list", "Top passwords", &["password"]);
        }
        Tab::Attackers => {
            let [top, bottom] = Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
            let [l, r] = Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(bottom);
            chart(frame, top, app, "all_attackers_graph", "Attackers");
            table(frame, l, app, "top_attackers_by_incidents_list_long", "Top attackers", &["ip"]);
            table(frame, r, app, "top_countries_by_attackers_list", "Countries by attackers", &["country"]);
        }
        Tab::Passwords => {
            let cols = Layout::horizontal([Constraint::Ratio(1, 3), Constraint::Ratio(1, 3), Constraint::Ratio(1, 3)]).split(body);
            table(frame, cols[0], app, "top_passwords_by_usages_list_long", "Passwords", &["password"]);
            table(frame, cols[1], app, "top_usernames_by_usages_list_long", "Usernames", &["username"]);
            table(frame, cols[2], app, "top_combinations_by_usages_list_long", "Combinations", &["username", "password"]);
        }
        Tab::Ports => {
            let [top, bottom] = Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
            let [l, r] = Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(bottom);
            chart(frame, top, app, "all_ports_by_scans_graph", "Port scans");
            table(frame, l, app, "top_ports_by_scans_list_long", "Top ports", &["port"]);
            table(frame, r, app, "top_incident_types_by_incidents_list", "Incident types", &["source", "action"]);
        }
        Tab::Operations => {
            let text = match app.jobs {
                Some((q, r, f)) => format!("jobs: {q} queued, {r} running, {f} failed\n\nbackend: {}", app.backend.as_deref().unwrap_or("opening…")),
                None => "loading…".to_string(),
            };
            frame.render_widget(Paragraph::new(text).block(Block::default().borders(Borders::ALL).title("Operations")), body);
        }
    }
    let status = match &app.error {
        Some(e) => Line::from(Span::styled(format!("error: {e}"), Style::default().fg(Color::Indexed(203)))),
        None => Line::from(Span::styled("? help  , . period  1-4 0 tabs  r refresh  q quit", Style::default().fg(DIM))),
    };
    frame.render_widget(Paragraph::new(status), footer);
    if app.help {
        help(frame, frame.area());
    }
}

fn draw_header(frame: &mut Frame, area: Rect, app: &App) {
    let [tabs_area, info] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let titles: Vec<&str> = Tab::ALL.iter().map(|t| t.title()).collect();
    let selected = Tab::ALL.iter().position(|t| *t == app.tab).unwrap_or(0);
    let tabs = Tabs::new(titles).select(selected).highlight_style(Style::default().fg(ACCENT).add_modifier(Modifier::BOLD));
    frame.render_widget(tabs, tabs_area);
    let state = if app.refreshing() { "refreshing…" } else { "up to date" };
    let age = app
        .tab
        .resources()
        .first()
        .and_then(|n| app.value(n))
        .and_then(|r| r.computed_at)
        .map(|t| format!(" · data of {}", t.format("%Y-%m-%d %H:%M")))
        .unwrap_or_default();
    let backend = app.backend.as_deref().map(|b| format!(" · {b}")).unwrap_or_default();
    let text = format!(" period {} ({}){age} · {state}{backend}", app.period, app.period.label());
    frame.render_widget(Paragraph::new(text).style(Style::default().fg(DIM)), info);
}

fn block(title: &str) -> Block<'_> {
    Block::default().borders(Borders::ALL).title(Span::styled(title, Style::default().fg(ACCENT)))
}

fn chart(frame: &mut Frame, area: Rect, app: &App, name: &str, title: &str) {
    let points: Vec<(String, f64)> = app
        .value(name)
        .and_then(|r| r.data.as_ref())
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|p| (p["bucket"].as_str().unwrap_or("").to_string(), p["count"].as_f64().unwrap_or(0.0))).collect())
        .unwrap_or_default();
    if points.is_empty() {
        frame.render_widget(Paragraph::new("loading…").block(block(title)), area);
        return;
    }
    let data: Vec<(f64, f64)> = points.iter().enumerate().map(|(i, (_, v))| (i as f64, *v)).collect();
    let max = points.iter().map(|p| p.1).fold(1.0, f64::max);
    let total: f64 = points.iter().map(|p| p.1).sum();
    let dataset = Dataset::default().marker(Marker::Braille).graph_type(GraphType::Line).style(Style::default().fg(ACCENT)).data(&data);
    let first = points.first().map(|p| p.0.clone()).unwrap_or_default();
    let last = points.last().map(|p| p.0.clone()).unwrap_or_default();
    let chart = Chart::new(vec![dataset])
        .block(block(title).title_bottom(Line::from(format!("total {total:.0}")).right_aligned()))
        .x_axis(Axis::default().bounds([0.0, (data.len().max(2) - 1) as f64]).labels([first, last]).style(Style::default().fg(DIM)))
        .y_axis(Axis::default().bounds([0.0, max]).labels(["0".to_string(), format!("{max:.0}")]).style(Style::default().fg(DIM)));
    frame.render_widget(chart, area);
}

fn table(frame: &mut Frame, area: Rect, app: &App, name: &str, title: &str, keys: &[&str]) {
    let items: Vec<Value> = app.value(name).and_then(|r| r.data.as_ref()).and_then(Value::as_array).cloned().unwrap_or_default();
    if app.value(name).is_none_or(|r| r.data.is_none()) {
        frame.render_widget(Paragraph::new("loading…").block(block(title)), area);
        return;
    }
    let rows: Vec<Row> = items
        .iter()
        .map(|i| {
            let mut cells: Vec<Cell> = keys.iter().map(|k| Cell::from(i[*k].as_str().unwrap_or("").escape_debug().to_string())).collect();
            cells.push(Cell::from(i["count"].to_string()));
            Row::new(cells)
        })
        .collect();
    let mut widths: Vec<Constraint> = keys.iter().map(|_| Constraint::Fill(1)).collect();
    widths.push(Constraint::Length(9));
    let mut header: Vec<&str> = keys.to_vec();
    header.push("count");
    let t = Table::new(rows, widths).header(Row::new(header).style(Style::default().fg(DIM))).block(block(title));
    frame.render_widget(t, area);
}

fn help(frame: &mut Frame, area: Rect) {
    let w = 60.min(area.width);
    let h = (KEYS.len() as u16 + 4).min(area.height);
    let popup = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    let lines: Vec<Line> = KEYS.iter().map(|(k, what)| Line::from(vec![Span::styled(format!("{k:>14}  "), Style::default().fg(ACCENT)), Span::raw(*what)])).collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block("Keys")), popup);
}

