//! The network graph above the Flows view's suspicious connections (flows.md "Views"), painted
//! from the models' geometry ([`Network`]): an address is a square when internal, a circle
//! when external, as large as its hits; a link is redder and thicker the lower its score
//! (−ln(score)). The busiest addresses are named; the pointer names any. Its accessible label
//! says what was drawn (addresses, internal ones, links).

use eframe::egui::{self, Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, Ui, Vec2};
use vantage_views::panels::{Panel, Source};
use vantage_views::tabs::flows::graph::Network;

use crate::session::Session;

/// Height of the graph.
const HEIGHT: f32 = 320.0;

/// Addresses named on the graph (the busiest).
const NAMED: usize = 8;

/// Internal addresses' colour.
const INTERNAL: Color32 = Color32::from_rgb(70, 140, 230);

/// External addresses' colour.
const EXTERNAL: Color32 = Color32::from_rgb(235, 140, 40);

/// Whether a table panel gets the graph.
pub fn suits(p: &Panel) -> bool {
    p.source == Source::FlowsSuspicious
}

/// What the graph shows, in words (its accessible label).
pub fn summary(n: &Network) -> String {
    let internal = n.nodes.iter().filter(|n| n.internal).count();
    format!("Network graph: {} addresses ({internal} internal), {} links", n.nodes.len(), n.links.len())
}

/// A link's colour: grey for the least suspicious shown, red for the most.
fn shade(t: f64) -> Color32 {
    let t = t.clamp(0.0, 1.0) as f32;
    let mix = |a: u8, b: u8| (f32::from(a) + (f32::from(b) - f32::from(a)) * t).round() as u8;
    Color32::from_rgb(mix(150, 220), mix(150, 40), mix(150, 40))
}

/// Draws the graph of the listed connections (nothing while they have not arrived).
pub fn show(ui: &mut Ui, d: &Session) {
    let Some(network) = d.app.flows.network().filter(|n| !n.nodes.is_empty()) else { return };
    let (response, painter) = ui.allocate_painter(Vec2::new(ui.available_width(), HEIGHT), Sense::hover());
    let rect = response.rect;
    let scale = rect.width().min(rect.height()) / 2.0 * 0.9;
    let at = |(x, y): (f64, f64)| rect.center() + Vec2::new(x as f32, y as f32) * scale;
    for l in &network.links {
        let stroke = Stroke::new(1.0 + 2.0 * l.shade as f32, shade(l.shade));
        painter.line_segment([at(network.nodes[l.from].at), at(network.nodes[l.to].at)], stroke);
    }
    let text = ui.visuals().text_color();
    for (i, n) in network.nodes.iter().enumerate() {
        let (p, r) = (at(n.at), (n.radius as f32 * scale).max(3.0));
        if n.internal {
            painter.rect_filled(Rect::from_center_size(p, Vec2::splat(2.0 * r)), 2.0, INTERNAL);
        } else {
            painter.circle_filled(p, r, EXTERNAL);
        }
        if i < NAMED {
            painter.text(p + Vec2::new(0.0, r + 2.0), Align2::CENTER_TOP, &n.ip, FontId::proportional(11.0), text);
        }
    }
    let legend = "squares internal, circles external; redder links: lower score";
    painter.text(rect.left_top() + Vec2::splat(4.0), Align2::LEFT_TOP, legend, FontId::proportional(11.0), ui.visuals().weak_text_color());
    let hovered = response.hover_pos().and_then(|pointer: Pos2| {
        network.nodes.iter().find(|n| at(n.at).distance(pointer) <= (n.radius as f32 * scale).max(6.0))
    });
    let response = match hovered {
        Some(n) => response.on_hover_text(format!("{} ({}): {} connections", n.ip, if n.internal { "internal" } else { "external" }, n.hits)),
        None => response,
    };
    let label = summary(&network);
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &label));
}
