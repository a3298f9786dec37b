//! Drawing the DynFW tab (9): where its panels go, the feed's label (a demo feed's in
//! orange, bold), the blocked set's size over time as a braille line (ASCII: `#` bars) scaled
//! between its least and largest size, and the countries as a bar list. The recent deltas and
//! events are an ordinary table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph, Sparkline, Wrap};
use vantage_views::app::App;
use vantage_views::panels::{Panel, Source};
use vantage_views::tabs::dynfw::{DEMO_LABEL, NOT_CONFIGURED};

use super::style::{ACCENT, ASCII_BARS, DIM, block, loading};

/// The demo label's colour (256-colour orange).
const DEMO: Color = Color::Indexed(208);

/// Where the tab's panels go (feed, sizes, recent, countries). Wide: the feed beside the size
/// chart, the recent changes beside the countries. Narrow: the feed, the size chart and the
/// recent changes one above the other, the countries beside the last.
pub fn areas(body: Rect) -> Vec<Rect> {
    if body.width >= 120 {
        let [top, bottom] = Layout::vertical([Constraint::Length(8), Constraint::Min(5)]).areas(body);
        let [feed, sizes] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
        let [recent, countries] = Layout::horizontal([Constraint::Percentage(65), Constraint::Percentage(35)]).areas(bottom);
        return vec![feed, sizes, recent, countries];
    }
    let [feed, sizes, bottom] = Layout::vertical([Constraint::Length(8), Constraint::Length(5), Constraint::Min(4)]).areas(body);
    let [recent, countries] = Layout::horizontal([Constraint::Min(40), Constraint::Length(22)]).areas(bottom);
    vec![feed, sizes, recent, countries]
}

/// Draws the panels this tab draws its own way; false for the others (drawn as usual).
pub fn draw(frame: &mut Frame, area: Rect, app: &App, panel: &Panel, focused: bool) -> bool {
    match panel.source {
        Source::DynfwFeed => feed(frame, area, app, panel, focused),
        Source::DynfwSizes => sizes(frame, area, app, panel, focused),
        Source::DynfwCountries => countries(frame, area, app, panel, focused),
        _ => return false,
    }
    true
}

/// The feed's lines, its label first: orange and bold for a demo feed, dim without a feed.
fn feed(frame: &mut Frame, area: Rect, app: &App, panel: &Panel, focused: bool) {
    let mut lines: Vec<Line> = app.text(panel).into_iter().map(Line::from).collect();
    if let Some(first) = lines.first_mut() {
        let text = first.to_string();
        let style = match text.as_str() {
            DEMO_LABEL => Style::default().fg(DEMO).add_modifier(Modifier::BOLD),
            NOT_CONFIGURED => Style::default().fg(DIM),
            _ => Style::default().fg(ACCENT),
        };
        *first = Line::from(Span::styled(text, style));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block(app, panel.title.clone(), focused)), area);
}

/// The blocked set's size over time, between its least and largest size.
fn sizes(frame: &mut Frame, area: Rect, app: &App, panel: &Panel, focused: bool) {
    let title = panel.title.clone();
    let Some(status) = app.dynfw.feed() else {
        let text = if app.dynfw.not_running() { "no feed".to_string() } else { loading(app) };
        frame.render_widget(Paragraph::new(text).block(block(app, title, focused)), area);
        return;
    };
    let (Some(&(t0, _)), Some(&(t1, now))) = (status.sizes.first(), status.sizes.last()) else {
        frame.render_widget(Paragraph::new("no list yet").block(block(app, title, focused)), area);
        return;
    };
    let least = status.sizes.iter().map(|(_, n)| *n).min().unwrap_or(0);
    let most = status.sizes.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let time = |t: i64| chrono::DateTime::from_timestamp(t, 0).map_or(String::new(), |t| t.format("%H:%M:%S").to_string());
    let b = block(app, title, focused).title_bottom(Line::from(format!("now {now}, {least}..{most}")).right_aligned());
    if app.ascii {
        let inner = b.inner(area);
        frame.render_widget(b, area);
        // one bar per point, the last on the right; the least size one step above the floor
        let bars: Vec<u64> = status.sizes.iter().map(|(_, n)| (n - least + 1) as u64).collect();
        let shown = &bars[bars.len().saturating_sub(inner.width as usize)..];
        frame.render_widget(Sparkline::default().data(shown).max((most - least + 1) as u64).bar_set(ASCII_BARS), inner);
        return;
    }
    let points: Vec<(f64, f64)> = status.sizes.iter().map(|(t, n)| ((t - t0) as f64, *n as f64)).collect();
    let line = Dataset::default().marker(Marker::Braille).graph_type(GraphType::Line).style(Style::default().fg(ACCENT)).data(&points);
    let (low, high) = (least as f64, (most as f64).max(least as f64 + 1.0));
    let chart = Chart::new(vec![line])
        .block(b)
        .x_axis(Axis::default().bounds([0.0, ((t1 - t0) as f64).max(1.0)]).labels([time(t0), time(t1)]).style(Style::default().fg(DIM)))
        .y_axis(Axis::default().bounds([low, high]).labels([least.to_string(), most.to_string()]).style(Style::default().fg(DIM)));
    frame.render_widget(chart, area);
}

/// The countries as a bar list (the table as shown: sorted and filtered), the selected one
/// highlighted when the panel is focused.
fn countries(frame: &mut Frame, area: Rect, app: &App, panel: &Panel, focused: bool) {
    let state = app.tables.get(&panel.key()).cloned().unwrap_or_default();
    let mut title = panel.title.clone();
    if !state.filter.is_empty() {
        title.push_str(&format!(" [/{}]", state.filter));
    }
    let b = block(app, title, focused);
    let Some(t) = app.visible(panel) else {
        frame.render_widget(Paragraph::new(loading(app)).block(b), area);
        return;
    };
    if t.rows.is_empty() {
        frame.render_widget(Paragraph::new("no blocked addresses").block(b), area);
        return;
    }
    let counts: Vec<usize> = t.rows.iter().map(|r| r.get(1).and_then(|c| c.parse().ok()).unwrap_or(0)).collect();
    let most = counts.iter().copied().max().unwrap_or(1).max(1);
    let width = b.inner(area).width as usize;
    let digits = most.to_string().len();
    let room = width.saturating_sub(4 + digits + 1).max(1);
    let full = if app.ascii { "#" } else { "█" };
    let selected = state.selected.min(t.rows.len() - 1);
    let lines: Vec<Line> = t
        .rows
        .iter()
        .zip(&counts)
        .enumerate()
        .map(|(i, (row, count))| {
            let bar = full.repeat((count * room).div_ceil(most).min(room));
            let line = Line::from(vec![
                Span::raw(format!("{:<3} ", row.first().map_or("", String::as_str))),
                Span::styled(bar, Style::default().fg(ACCENT)),
                Span::raw(format!(" {count}")),
            ]);
            if focused && i == selected { line.style(Style::default().add_modifier(Modifier::REVERSED)) } else { line }
        })
        .collect();
    let skip = (selected + 1).saturating_sub(b.inner(area).height as usize);
    frame.render_widget(Paragraph::new(lines).scroll((skip as u16, 0)).block(b), area);
}
