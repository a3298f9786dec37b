//! Drawing the dashboard from [`App`] state (no I/O): usable from 80×24 up, 256 colours,
//! braille line charts, or plain ASCII (bars of `#`, `+-|` borders) with `--ascii`. A table
//! with a `rep` column (the Flows tab's suspicious connections) colours each row by its
//! reputation level; a table too wide for its box leaves out its least needed columns. The
//! DynFW tab's own drawing is in [`super::dynfw`].

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::{self, Marker};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Cell, Chart, Clear, Dataset, GraphType, LegendPosition, Paragraph, Row, Sparkline, Table, TableState, Tabs, Wrap};
use vantage_core::export::ChartData;

use vantage_core::events::questions::View;
use vantage_views::app::App;
use vantage_views::keys::{KEYS, Mode};
use vantage_views::panels::{Detail, Panel, Shape, Source, Tab};
use vantage_views::tabs::flows::tables::{REP, reputation_of_cell};

use super::style::{ACCENT, ASCII_BARS, DIM, block, ellipsis, loading};

const ERROR: Color = Color::Indexed(203);
/// Series colours (256-colour palette, distinguishable on dark and light backgrounds).
const SERIES: [Color; 7] =
    [Color::Indexed(39), Color::Indexed(208), Color::Indexed(77), Color::Indexed(170), Color::Indexed(220), Color::Indexed(203), Color::Indexed(44)];

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let [header, body, footer] = Layout::vertical([Constraint::Length(2), Constraint::Min(5), Constraint::Length(1)]).areas(frame.area());
    draw_header(frame, header, app);
    let panels = app.panels();
    for (i, (panel, area)) in panels.iter().zip(areas(app, body, &panels)).enumerate() {
        draw_panel(frame, area, app, panel, i == app.focus);
    }
    draw_footer(frame, footer, app);
    if app.help {
        help(frame, frame.area(), app);
    }
}

/// Where each panel of the current view goes.
fn areas(app: &App, body: Rect, panels: &[Panel]) -> Vec<Rect> {
    let rows = |r: &[u16]| Layout::vertical(r.iter().map(|p| Constraint::Percentage(*p))).split(body).to_vec();
    let split_h = |area: Rect, p: &[u16]| Layout::horizontal(p.iter().map(|p| Constraint::Percentage(*p))).split(area).to_vec();
    match (&app.detail, app.tab) {
        (Some(Detail::Attacker { .. }), _) => Layout::vertical([Constraint::Length(10), Constraint::Min(5)]).split(body).to_vec(),
        (Some(Detail::Password { .. }), _) => rows(&[50, 50]),
        (Some(Detail::Resource { .. }), _) => vec![body],
        (Some(Detail::Dossier { .. }), _) => dossier_areas(body, app.focus, panels.len()),
        (Some(Detail::EventsAsn { .. }), _) => {
            let r = rows(&[50, 50]);
            [vec![r[0]], Layout::horizontal([Constraint::Ratio(1, 3); 3]).split(r[1]).to_vec()].concat()
        }
        (None, Tab::Events) => {
            let r = rows(&[40, 30, 30]);
            [split_h(r[0], &[60, 40]), split_h(r[1], &[50, 50]), split_h(r[2], &[50, 50])].concat()
        }
        (Some(Detail::Capture { .. }), _) => {
            let r = Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).split(body).to_vec();
            [split_h(r[0], &[48, 30, 22]), vec![r[1]]].concat()
        }
        (None, Tab::Pcap) => {
            let r = Layout::vertical([Constraint::Length(10), Constraint::Min(5)]).split(body).to_vec();
            [split_h(r[0], &[45, 55]), vec![r[1]]].concat()
        }
        (None, Tab::Overview) => {
            let cols = split_h(body, &[60, 40]);
            [
                Layout::vertical([Constraint::Percentage(50); 2]).split(cols[0]).to_vec(),
                Layout::vertical([Constraint::Percentage(50); 2]).split(cols[1]).to_vec(),
            ]
            .concat()
        }
        (None, Tab::Attackers) => {
            let r = rows(&[45, 55]);
            [vec![r[0]], split_h(r[1], &[60, 40])].concat()
        }
        (None, Tab::Passwords) => {
            let r = rows(&[60, 40]);
            [Layout::horizontal([Constraint::Ratio(1, 3); 3]).split(r[0]).to_vec(), split_h(r[1], &[40, 60])].concat()
        }
        (None, Tab::Ports) => {
            let r = rows(&[45, 55]);
            [Layout::horizontal([Constraint::Ratio(1, 3); 3]).split(r[0]).to_vec(), split_h(r[1], &[40, 60])].concat()
        }
        (None, Tab::Devices) if panels.len() == 1 => vec![body],
        (None, Tab::Operations) => {
            let r = rows(&[50, 50]);
            [split_h(r[0], &[58, 42]), split_h(r[1], &[50, 50])].concat()
        }
        (None, Tab::Devices) => {
            let r = rows(&[50, 50]);
            [split_h(r[0], &[60, 40]), split_h(r[1], &[50, 50])].concat()
        }
        (None, Tab::Flows) => flows_areas(body, app.focus, panels),
        (None, Tab::Dynfw) => super::dynfw::areas(body),
    }
}

/// The dossier: its summary and timeline on top; below, the focused section (the incidents
/// while the summary or the timeline has the focus) with the room, and the other sections in
/// a strip of boxes under it, their titles showing (Tab moves the room to the next one).
fn dossier_areas(body: Rect, focus: usize, n: usize) -> Vec<Rect> {
    let [top, main, strip] = Layout::vertical([Constraint::Length(12), Constraint::Min(5), Constraint::Length(3)]).areas(body);
    let [summary, timeline] = Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(top);
    let big = if focus >= 2 { focus } else { 3 };
    let others = n.saturating_sub(3);
    let boxes = Layout::horizontal((0..others).map(|_| Constraint::Ratio(1, others.max(1) as u32))).split(strip);
    let mut small = boxes.iter().copied();
    (0..n)
        .map(|i| match i {
            0 => summary,
            1 => timeline,
            i if i == big => main,
            _ => small.next().unwrap_or_default(),
        })
        .collect()
}

/// The Flows tab: the suspicious connections across the middle, the day and the flows per
/// minute above them, and below the details of the selection (edges, peers, storyboard). Wide,
/// the beacons go top right; narrow, below with the details, where the focused one (else the
/// edges) takes the row and the others keep room for their titles.
fn flows_areas(body: Rect, focus: usize, panels: &[Panel]) -> Vec<Rect> {
    let [top, middle, bottom] = Layout::vertical([Constraint::Length(8), Constraint::Min(6), Constraint::Percentage(30)]).areas(body);
    // panels: 0 suspicious, 1 day, 2 per minute, 3 edges, 4 pairs, 5 beacons, 6 storyboard
    if body.width >= 140 {
        let [day, ingest, beacons] = Layout::horizontal([Constraint::Length(40), Constraint::Min(30), Constraint::Length(60)]).areas(top);
        let [edges, pairs, story] = Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(30), Constraint::Percentage(30)]).areas(bottom);
        return vec![middle, day, ingest, edges, pairs, beacons, story];
    }
    let [day, ingest] = Layout::horizontal([Constraint::Length(40), Constraint::Min(20)]).areas(top);
    let wide = if (3..=6).contains(&focus) { focus } else { 3 };
    let titled = |i: usize| Constraint::Length(panels.get(i).map_or(10, |p| p.title.chars().count() as u16 + 2));
    let details = Layout::horizontal((3..=6).map(|i| if i == wide { Constraint::Fill(1) } else { titled(i) })).split(bottom);
    [vec![middle, day, ingest], details.to_vec()].concat()
}

fn draw_header(frame: &mut Frame, area: Rect, app: &App) {
    let [tabs_area, info] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let titles: Vec<String> = Tab::ALL.iter().map(|t| format!("{} {}", t.key(), if area.width < 100 { t.short_name() } else { t.name() })).collect();
    let selected = Tab::ALL.iter().position(|t| *t == app.tab).unwrap_or(0);
    // narrow, the tabs go without the space before each divider (9 tabs in 80 columns)
    let tabs = Tabs::new(titles)
        .select(selected)
        .divider(if app.ascii { "|" } else { symbols::line::VERTICAL })
        .padding("", if area.width < 100 { "" } else { " " })
        .highlight_style(Style::default().fg(ACCENT).add_modifier(Modifier::BOLD));
    frame.render_widget(tabs, tabs_area);
    let sep = if app.ascii { " - " } else { " · " };
    let state = match (app.refreshing(), &app.outage) {
        (true, _) => format!("refreshing{}", ellipsis(app)),
        (false, Some(_)) => "showing what was loaded".into(),
        (false, None) => "up to date".into(),
    };
    let age = app.data_age().map(|t| format!("{sep}data of {}", t.format("%Y-%m-%d %H:%M"))).unwrap_or_default();
    let backend = app.backend.as_deref().map(|b| format!("{sep}{b}")).unwrap_or_default();
    let progress = match &app.progress {
        Some((label, done, Some(total))) => format!("{sep}{label} {done}/{total}"),
        Some((label, done, None)) => format!("{sep}{label} {done}"),
        None => String::new(),
    };
    let progress = if app.working.is_some() { format!("{progress} (X cancels)") } else { progress };
    let period = format!(" period {} ({}){age}{sep}", app.period, app.period.label());
    let rest = format!("{state}{backend}{progress}");
    // an outage goes right after the period, in the error colour, while it lasts
    let line = match &app.outage {
        Some(outage) => Line::from(vec![
            Span::styled(period, Style::default().fg(DIM)),
            Span::styled(format!("UNAVAILABLE: {outage}{sep}"), Style::default().fg(ERROR).add_modifier(Modifier::BOLD)),
            Span::styled(rest, Style::default().fg(DIM)),
        ]),
        None => Line::from(Span::styled(format!("{period}{rest}"), Style::default().fg(DIM))),
    };
    frame.render_widget(Paragraph::new(line), info);
}

fn draw_footer(frame: &mut Frame, area: Rect, app: &App) {
    let line = match app.mode {
        Mode::Filter => typed("filter /", app),
        Mode::Palette => typed(":", app),
        Mode::PcapQuery => typed("capture: ", app),
        Mode::SaveCapture => typed("save capture to: ", app),
        Mode::EventsAsns => typed("ASNs: ", app),
        Mode::FlowsIp => typed("IP (empty: all): ", app),
        Mode::DynfwIp => typed("address to search in DynFW and the greylist (empty: none): ", app),
        Mode::FlowsScore => Line::from(Span::styled("score the selected connection: 1 high, 2 medium, 3 low (benign); Esc cancels", Style::default().fg(ACCENT))),
        Mode::StoryTitle => typed("storyboard title: ", app),
        Mode::StoryText => typed("storyboard text (\\n: new line): ", app),
        Mode::AddToken => masked(app, "device token: "),
        Mode::CheckPassword => masked(app, "password to check: "),
        Mode::Normal => match (&app.error, &app.notice) {
            (Some(e), _) => Line::from(Span::styled(format!("error: {e}"), Style::default().fg(ERROR))),
            (None, Some(n)) => Line::from(Span::styled(n.clone(), Style::default().fg(ACCENT))),
            (None, None) => {
                let back = if app.detail.is_some() { "Esc back  " } else { "" };
                Line::from(Span::styled(format!("{back}? help  , . period  Tab focus  / filter  : command  e p export  q quit"), Style::default().fg(DIM)))
            }
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The input line after a prompt.
fn typed(prompt: &'static str, app: &App) -> Line<'static> {
    Line::from(vec![Span::styled(prompt, Style::default().fg(ACCENT)), Span::raw(format!("{}_", app.input))])
}

/// The input line shown as stars and a length.
fn masked(app: &App, prompt: &'static str) -> Line<'static> {
    let n = app.input.chars().count();
    Line::from(vec![Span::styled(prompt, Style::default().fg(ACCENT)), Span::raw(format!("{}_ ({n} chars)", "*".repeat(n)))])
}

fn draw_panel(frame: &mut Frame, area: Rect, app: &App, panel: &Panel, focused: bool) {
    if super::dynfw::draw(frame, area, app, panel, focused) {
        return;
    }
    match panel.shape {
        Shape::Chart => chart(frame, area, app, panel, focused),
        Shape::Table => table(frame, area, app, panel, focused),
        Shape::Text => {
            let lines: Vec<Line> = app.text(panel).into_iter().map(Line::from).collect();
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block(app, panel.title.clone(), focused)), area);
        }
    }
}

fn chart(frame: &mut Frame, area: Rect, app: &App, panel: &Panel, focused: bool) {
    let data = app.chart(panel);
    let loaded = data.is_some();
    let Some(data) = data.filter(|c| !c.x_labels.is_empty()) else {
        let answered = match panel.source {
            Source::Events(view) => app.events_table(view).is_some(),
            Source::Resource { .. } => app.read(panel).is_some_and(|r| r.data.is_some()),
            _ => loaded,
        };
        let text = if answered { "no data".to_string() } else { loading(app) };
        frame.render_widget(Paragraph::new(text).block(block(app, panel.title.clone(), focused)), area);
        return;
    };
    let total: f64 = data.series.iter().flat_map(|s| s.values.iter()).sum();
    let first = data.x_labels.first().map(|l| short_label(l, app)).unwrap_or_default();
    let last = data.x_labels.last().map(|l| short_label(l, app)).unwrap_or_default();
    let b = block(app, panel.title.clone(), focused).title_bottom(Line::from(format!("total {total:.0}")).right_aligned());
    if app.ascii {
        ascii_chart(frame, area, app, b, &data);
        return;
    }
    let points: Vec<Vec<(f64, f64)>> = data.series.iter().map(|s| s.values.iter().enumerate().map(|(i, v)| (i as f64, *v)).collect()).collect();
    let datasets: Vec<Dataset> = data
        .series
        .iter()
        .zip(&points)
        .enumerate()
        .map(|(i, (s, p))| {
            let d = Dataset::default().marker(Marker::Braille).graph_type(GraphType::Line).style(Style::default().fg(SERIES[i % SERIES.len()])).data(p);
            if data.series.len() > 1 { d.name(s.label.clone()) } else { d }
        })
        .collect();
    let max = data.max().max(1.0);
    let chart = Chart::new(datasets)
        .block(b)
        .legend_position(Some(LegendPosition::TopLeft))
        .hidden_legend_constraints((Constraint::Percentage(45), Constraint::Percentage(60)))
        .x_axis(Axis::default().bounds([0.0, (data.x_labels.len().max(2) - 1) as f64]).labels([first, last]).style(Style::default().fg(DIM)))
        .y_axis(Axis::default().bounds([0.0, max]).labels(["0".to_string(), format!("{max:.0}")]).style(Style::default().fg(DIM)));
    frame.render_widget(chart, area);
}

/// `2024-06-15 12:30` as `12:30` for periods up to a day, `06-15` beyond.
fn short_label(label: &str, app: &App) -> String {
    let day_or_less = app.period.range() <= chrono::Duration::days(1);
    match (label.get(5..10), label.get(11..16)) {
        (_, Some(time)) if day_or_less => time.to_string(),
        (Some(date), _) => date.to_string(),
        _ => label.to_string(),
    }
}

/// The ASCII fallback: the sum of all series as `#` bars, last bucket on the right.
fn ascii_chart(frame: &mut Frame, area: Rect, app: &App, b: Block, data: &ChartData) {
    let sums: Vec<u64> =
        (0..data.x_labels.len()).map(|i| data.series.iter().map(|s| s.values.get(i).copied().unwrap_or(0.0)).sum::<f64>().round() as u64).collect();
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let [bars, axis] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    let shown = &sums[sums.len().saturating_sub(bars.width as usize)..];
    frame.render_widget(Sparkline::default().data(shown).bar_set(ASCII_BARS), bars);
    let first = short_label(&data.x_labels[data.x_labels.len() - shown.len()], app);
    let last = data.x_labels.last().map(|l| short_label(l, app)).unwrap_or_default();
    let gap = (axis.width as usize).saturating_sub(first.len() + last.len());
    frame.render_widget(Paragraph::new(format!("{first}{}{last}", " ".repeat(gap))).style(Style::default().fg(DIM)), axis);
}

fn table(frame: &mut Frame, area: Rect, app: &App, panel: &Panel, focused: bool) {
    let state = app.tables.get(&panel.key()).cloned().unwrap_or_default();
    let mut title = panel.title.clone();
    if !state.filter.is_empty() {
        title.push_str(&format!(" [/{}]", state.filter));
    }
    let Some(t) = app.visible(panel) else {
        frame.render_widget(Paragraph::new(loading(app)).block(block(app, title, focused)), area);
        return;
    };
    if let Some((c, desc)) = state.sort {
        let arrow = match (desc, app.ascii) {
            (true, false) => "↓",
            (false, false) => "↑",
            (true, true) => "v",
            (false, true) => "^",
        };
        title.push_str(&format!(" {arrow}{}", t.header.get(c).map_or("", String::as_str)));
    }
    if t.rows.is_empty() {
        let hint = match panel.source {
            Source::Devices => "no device tokens: press a to add one (64 characters, from your device)",
            Source::Jobs => "no jobs queued, running or failed",
            Source::Timeouts => "no refresh timeouts",
            Source::Cache => "nothing cached",
            Source::LeakedTop => "no leaked passwords stored: vantage passwords import",
            Source::PcapJobs => "no captures yet: n requests one",
            Source::Events(View::TopProblems) => "g picks a country",
            Source::Events(_) => "none in this range",
            Source::PcapSensors => "no sensors configured ([[pcap.sensors]])",
            Source::CaptureTalkers | Source::CapturePorts | Source::CapturePackets => "no packets",
            Source::FlowsSuspicious => "none: no OA run on this day, or all scored ([ ] another day)",
            Source::FlowsEdges => "no connection selected, or no raw flows stored for it",
            Source::FlowsChord => "not a threat IP (under 2 suspicious peers)",
            Source::FlowsBeacons => "no beacons on this day",
            Source::DynfwRecent if app.dynfw.not_running() => "no feed running",
            Source::DynfwRecent => "no deltas or events yet",
            _ if !state.filter.is_empty() => "no row matches the filter",
            _ => "no data",
        };
        frame.render_widget(Paragraph::new(hint).block(block(app, title, focused)), area);
        return;
    }
    let shown = fitting(&t.header, area.width.saturating_sub(4));
    let widths: Vec<Constraint> = shown.iter().map(|&c| width(&t.header[c]).map_or(Constraint::Fill(1), Constraint::Length)).collect();
    let rep = t.header.iter().position(|h| h == REP);
    let rows: Vec<Row> = t
        .rows
        .iter()
        .map(|r| {
            let row = Row::new(shown.iter().map(|&c| Cell::from(r.get(c).map_or("", String::as_str))));
            match rep.and_then(|c| reputation_of_cell(r.get(c)?)) {
                Some(level) => row.style(reputation_style(level)),
                None => row,
            }
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(Row::new(shown.iter().map(|&c| Cell::from(t.header[c].as_str()))).style(Style::default().fg(DIM)))
        .block(block(app, title, focused))
        .row_highlight_style(Style::default().fg(Color::Indexed(16)).bg(ACCENT))
        .highlight_symbol(if app.ascii { ">" } else { "▶" });
    let mut ts = TableState::default();
    if focused {
        ts.select(Some(state.selected.min(t.rows.len() - 1)));
    }
    frame.render_stateful_widget(table, area, &mut ts);
}

/// A column's fixed width, by its name (None: it shares what is left).
fn width(header: &str) -> Option<u16> {
    Some(match header {
        "count" => 9,
        "received" => 8,
        "cc" => 3,
        "serial" => 7,
        "change" => 12,
        "bytes" | "ttl" | "score" => 7,
        "#" => 3,
        "state" | "rep" | "flags" => 8,
        "queue" | "id" | "sensor" => 12,
        "job state" | "oldest packet" | "time" => 16,
        "sensors" | "packets" | "protocol" | "tstart" => 8,
        "size" => 10,
        "ports" => 11,
        "length" | "rank" | "proto" | "sport" | "dport" | "conns" | "level" | "share" | "ts" | "ds" | "dur" | "hist" => 6,
        _ => return None,
    })
}

/// The columns left out first, one by one, when a table is wider than its box (the Flows
/// tables' details, then packets and source ports).
const DROPPED_FIRST: [&str; 12] = ["proto", "rank", "hist", "dur", "ds", "ts", "flags", "tstart", "share", "conns", "packets", "sport"];

/// Least width of a column that shares what is left (an address needs room).
fn least(header: &str) -> u16 {
    if header.contains("ip") || ["src", "dst"].contains(&header) { 15 } else { 6 }
}

/// The columns of `header` drawn in `room` cells: all of them when they fit, else without the
/// first of [`DROPPED_FIRST`] until they do.
fn fitting(header: &[String], room: u16) -> Vec<usize> {
    let mut shown: Vec<usize> = (0..header.len()).collect();
    let need = |shown: &[usize]| shown.iter().map(|&c| width(&header[c]).unwrap_or_else(|| least(&header[c])) + 1).sum::<u16>();
    for name in DROPPED_FIRST {
        if need(&shown) <= room {
            break;
        }
        shown.retain(|&c| header[c] != name);
    }
    shown
}

/// A row's colours by its reputation level: high red, medium orange, low yellow, unknown dim.
fn reputation_style(level: i32) -> Style {
    match level {
        3.. => Style::default().fg(ERROR),
        2 => Style::default().fg(Color::Indexed(208)),
        1 => Style::default().fg(Color::Indexed(220)),
        0 => Style::default(),
        _ => Style::default().fg(DIM),
    }
}

fn help(frame: &mut Frame, area: Rect, app: &App) {
    let w = 100.min(area.width);
    let h = (KEYS.len() as u16 + 2).min(area.height);
    let popup = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    let lines: Vec<Line> =
        KEYS.iter().map(|(k, what)| Line::from(vec![Span::styled(format!("{k:>17}  "), Style::default().fg(ACCENT)), Span::raw(*what)])).collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block(app, "Keys (Esc closes)".into(), true)), popup);
}
