//! The dashboard's shared look: accent and dim colours, ASCII borders and bars, panel blocks,
//! the loading text — used by [`super::view`] and the tabs drawn in their own modules.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols;
use ratatui::text::Span;
use ratatui::widgets::Block;
use vantage_views::app::App;

/// Focus, titles, prompts.
pub(super) const ACCENT: Color = Color::Indexed(39);
/// Borders of unfocused panels, axes, hints.
pub(super) const DIM: Color = Color::Indexed(245);

const ASCII_BORDER: symbols::border::Set = symbols::border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// Bars in plain ASCII mode.
pub(super) const ASCII_BARS: symbols::bar::Set = symbols::bar::Set {
    full: "#",
    seven_eighths: "#",
    three_quarters: "#",
    five_eighths: "=",
    half: "=",
    three_eighths: "-",
    one_quarter: "-",
    one_eighth: "_",
    empty: " ",
};

/// A panel's bordered block, accented when focused.
pub(super) fn block<'a>(app: &App, title: String, focused: bool) -> Block<'a> {
    let colour = if focused { ACCENT } else { DIM };
    let title_style = if focused { Style::default().fg(ACCENT).add_modifier(Modifier::BOLD) } else { Style::default().fg(ACCENT) };
    let b = Block::bordered().border_style(Style::default().fg(colour)).title(Span::styled(title, title_style));
    if app.ascii { b.border_set(ASCII_BORDER) } else { b }
}

/// `…`, or `...` in plain ASCII mode.
pub(super) fn ellipsis(app: &App) -> &'static str {
    if app.ascii { "..." } else { "…" }
}

/// The text shown while a panel loads.
pub(super) fn loading(app: &App) -> String {
    format!("loading{}", ellipsis(app))
}
