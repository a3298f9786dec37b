//! The chord diagram above the Flows view's peers of the selected IP, painted from the models'
//! geometry ([`Chord`]): an arc per address around a circle, as long as its bytes, and per
//! pair and direction a ribbon through the middle from a stretch of its source's arc to one of
//! its destination's, as wide as its bytes at both ends and coloured as its source. Arcs long
//! enough are named; the pointer on any arc names the address and its bytes; the accessible
//! label says what was drawn.

use eframe::egui::{self, Align2, Color32, FontId, Mesh, Pos2, Sense, Shape, Stroke, Ui, Vec2};
use vantage_views::panels::{Panel, Source};
use vantage_views::tabs::flows::graph::Chord;

use crate::session::Session;

/// Height of the diagram.
const HEIGHT: f32 = 300.0;

/// Points per ribbon edge and per arc.
const STEPS: usize = 32;

/// The shortest arc that is named (a narrower one's name would cover its neighbours').
const NAMED: f64 = 0.12;

/// Arc colours, in turn.
const COLOURS: [Color32; 8] = [
    Color32::from_rgb(70, 140, 230),
    Color32::from_rgb(235, 140, 40),
    Color32::from_rgb(90, 180, 90),
    Color32::from_rgb(200, 90, 170),
    Color32::from_rgb(220, 190, 40),
    Color32::from_rgb(220, 80, 70),
    Color32::from_rgb(60, 180, 190),
    Color32::from_rgb(150, 120, 220),
];

/// Whether a table panel gets the diagram.
pub fn suits(p: &Panel) -> bool {
    p.source == Source::FlowsChord
}

/// What the diagram shows, in words (its accessible label).
pub fn summary(ip: &str, c: &Chord) -> String {
    format!("Chord diagram of {ip}: {} addresses, {} ribbons", c.arcs.len(), c.ribbons.len())
}

/// Point at `angle` (clockwise from the top) on a circle of `radius` around `centre`.
fn on_circle(centre: Pos2, radius: f32, angle: f64) -> Pos2 {
    centre + Vec2::new(angle.sin() as f32, -angle.cos() as f32) * radius
}

/// The quadratic Bézier from `a` to `b` through the pull of `c`, at `t`.
fn bezier(a: Pos2, c: Pos2, b: Pos2, t: f32) -> Pos2 {
    let u = 1.0 - t;
    Pos2::new(u * u * a.x + 2.0 * u * t * c.x + t * t * b.x, u * u * a.y + 2.0 * u * t * c.y + t * t * b.y)
}

/// A ribbon as a band of triangles between its two edges, both pulled through the centre.
fn ribbon(centre: Pos2, radius: f32, source: (f64, f64), target: (f64, f64), colour: Color32) -> Mesh {
    let point = |angle| on_circle(centre, radius, angle);
    let (left, right) = ((point(source.0), point(target.1)), (point(source.1), point(target.0)));
    let mut mesh = Mesh::default();
    for i in 0..=STEPS {
        let t = i as f32 / STEPS as f32;
        mesh.colored_vertex(bezier(left.0, centre, left.1, t), colour);
        mesh.colored_vertex(bezier(right.0, centre, right.1, t), colour);
        if i > 0 {
            let k = 2 * i as u32;
            mesh.add_triangle(k - 2, k - 1, k);
            mesh.add_triangle(k - 1, k + 1, k);
        }
    }
    mesh
}

/// Draws the diagram of the selected IP's peers (nothing while they have not arrived or
/// carry no bytes).
pub fn show(ui: &mut Ui, d: &Session) {
    let ctx = d.app.ctx();
    let (Some(chord), Some(ip)) = (d.app.flows.chord(&ctx).filter(|c| !c.arcs.is_empty()), d.app.flows.subject(&ctx)) else { return };
    let (response, painter) = ui.allocate_painter(Vec2::new(ui.available_width(), HEIGHT), Sense::hover());
    let rect = response.rect;
    let centre = rect.center();
    let radius = (rect.width().min(rect.height()) / 2.0 - 40.0).max(20.0);
    for r in &chord.ribbons {
        painter.add(Shape::mesh(ribbon(centre, radius, r.source, r.target, COLOURS[r.from % COLOURS.len()].gamma_multiply(0.55))));
    }
    let text = ui.visuals().text_color();
    for (i, arc) in chord.arcs.iter().enumerate() {
        let points: Vec<Pos2> = (0..=STEPS).map(|s| on_circle(centre, radius + 6.0, arc.start + (arc.end - arc.start) * s as f64 / STEPS as f64)).collect();
        painter.add(Shape::line(points, Stroke::new(10.0, COLOURS[i % COLOURS.len()])));
        if arc.end - arc.start >= NAMED {
            let middle = (arc.start + arc.end) / 2.0;
            let anchor = if middle < std::f64::consts::PI { Align2::LEFT_CENTER } else { Align2::RIGHT_CENTER };
            painter.text(on_circle(centre, radius + 16.0, middle), anchor, &arc.ip, FontId::proportional(11.0), text);
        }
    }
    let hovered = response.hover_pos().and_then(|pointer| {
        let v = pointer - centre;
        let angle = f64::from(v.x).atan2(f64::from(-v.y)).rem_euclid(std::f64::consts::TAU);
        (v.length() >= radius).then(|| chord.arcs.iter().find(|a| (a.start..=a.end).contains(&angle))).flatten()
    });
    let response = match hovered {
        Some(arc) => response.on_hover_text(format!("{}: {} bytes with these peers", arc.ip, arc.bytes)),
        None => response,
    };
    let label = summary(&ip.to_string(), &chord);
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &label));
}
