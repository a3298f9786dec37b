//! The terminal dashboard (`vantage` without a subcommand, or `vantage demo`).
//!
//! Structure (ratatui component style): [`app`] holds the state and maps keys to actions,
//! [`view`] draws it, this module runs the loop: terminal events and engine events in,
//! engine requests out, a redraw only when something changed. The engine does all I/O on its
//! own threads, so the loop never blocks on the database.

pub mod app;
pub mod view;

use std::time::Duration;

use ratatui::crossterm::event::{self, Event as TermEvent, KeyEventKind};
use vantage_core::Config;
use vantage_core::engine::Engine;

use self::app::{App, action_for};

/// Runs the dashboard until the user quits. `ratatui::init` restores the terminal on panic.
pub fn run(config: Config) -> anyhow::Result<()> {
    let engine = Engine::start(config)?;
    let mut app = App::default();
    for r in app.requests() {
        engine.send(r);
    }
    let mut terminal = ratatui::init();
    let result = (|| -> anyhow::Result<()> {
        let mut dirty = true;
        while !app.quit {
            if dirty {
                terminal.draw(|f| view::draw(f, &app))?;
                dirty = false;
            }
            if event::poll(Duration::from_millis(100))? {
                match event::read()? {
                    TermEvent::Key(k) if k.kind == KeyEventKind::Press => {
                        if let Some(action) = action_for(k) {
                            for r in app.apply(action) {
                                engine.send(r);
                            }
                            dirty = true;
                        }
                    }
                    TermEvent::Resize(..) => dirty = true,
                    _ => {}
                }
            }
            while let Some(e) = engine.try_recv() {
                dirty |= app.on_event(e);
            }
        }
        Ok(())
    })();
    ratatui::restore();
    engine.shutdown();
    result
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use serde_json::json;
    use vantage_core::engine::{Event, Request};
    use vantage_core::statistics::periods::Period;
    use vantage_core::statistics::resources::Params;
    use vantage_core::statistics::service::ResourceRead;

    use super::app::{Action, App, Tab, action_for};
    use super::view;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn keys_are_pure_state_transitions() {
        let mut app = App::default();
        assert_eq!(action_for(key('2')), Some(Action::Tab(Tab::Attackers)));
        let reqs = app.apply(Action::Tab(Tab::Attackers));
        assert_eq!(app.tab, Tab::Attackers);
        assert!(reqs.iter().all(|r| matches!(r, Request::Resource { period: Period::Day, .. })));
        assert_eq!(reqs.len(), 3);
        app.apply(action_for(key('.')).expect("next period"));
        assert_eq!(app.period, Period::Week);
        app.apply(action_for(key(',')).expect("prev"));
        app.apply(action_for(key(',')).expect("prev"));
        assert_eq!(app.period, Period::SixHours);
        for _ in 0..2 {
            app.apply(Action::Period(-1));
        }
        assert_eq!(app.period, Period::Year, "wraps around");
        assert_eq!(app.apply(Action::Tab(Tab::Operations)), vec![Request::Jobs]);
        app.apply(action_for(key('?')).expect("help"));
        assert!(app.help);
        app.apply(action_for(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)).expect("ctrl-c"));
        assert!(app.quit);
        assert_eq!(action_for(key('z')), None);
    }

    fn with_data() -> App {
        let mut app = App::default();
        let graph: Vec<serde_json::Value> = (0..48).map(|i| json!({"bucket": format!("2024-06-15 {:02}:00", i / 2), "count": (i * 7) % 23})).collect();
        let read = |v| ResourceRead { data: Some(v), computed_at: None, refreshing: false };
        for (name, v) in [
            ("all_incidents_graph", json!(graph)),
            ("all_attackers_graph", json!(graph)),
            ("top_countries_by_incidents_list", json!([{"country": "CN", "count": 6734}, {"country": "VN", "count": 5147}])),
            ("top_passwords_by_usages_list", json!([{"password": "123456", "count": 99}, {"password": "a\nb", "count": 1}])),
        ] {
            app.on_event(Event::Resource { name: name.into(), period: Period::Day, params: Params::default(), read: read(v) });
        }
        app
    }

    fn render(app: &App, w: u16, h: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        terminal.draw(|f| view::draw(f, app)).expect("draw");
        let buf = terminal.backend().buffer().clone();
        (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>()).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn overview_renders_at_80x24_and_160x48() {
        let app = with_data();
        for (w, h) in [(80, 24), (160, 48)] {
            let screen = render(&app, w, h);
            assert!(screen.contains("1 Overview") && screen.contains("0 Operations"), "{screen}");
            assert!(screen.contains("Incidents") && screen.contains("Attackers"));
            assert!(screen.contains("CN") && screen.contains("6734"), "{screen}");
            assert!(screen.contains("a\\nb"), "newlines in passwords are shown escaped: {screen}");
            assert!(screen.contains("period 1d (Day)") && screen.contains("up to date"), "{screen}");
            assert!(screen.chars().any(|c| ('\u{2800}'..='\u{28FF}').contains(&c)), "braille chart drawn");
        }
    }

    #[test]
    fn other_tabs_show_loading_until_data_and_help_lists_keys() {
        let mut app = with_data();
        app.apply(Action::Tab(Tab::Passwords));
        let screen = render(&app, 80, 24);
        assert!(screen.contains("loading…") && screen.contains("refreshing…"), "{screen}");
        app.apply(Action::Help);
        let screen = render(&app, 80, 24);
        assert!(screen.contains("Keys") && screen.contains("previous / next period"), "{screen}");
        app.apply(Action::Tab(Tab::Operations));
        app.on_event(Event::Jobs(Default::default()));
        assert!(render(&app, 80, 24).contains("0 queued, 0 running, 0 failed"));
    }
}
