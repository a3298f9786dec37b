//! What the desktop app keeps between runs, in `<data_dir>/gui.json`: the theme, the last
//! view (tab) and period, and the window's size and position. A missing file means the
//! defaults; an unreadable or corrupt one too, with a warning for the status line — it never
//! stops the app from starting.

use std::path::{Path, PathBuf};

use eframe::egui::{self, Theme};
use serde::{Deserialize, Serialize};
use vantage_core::statistics::periods::Period;
use vantage_views::panels::Tab;

/// The file's name in the data directory.
pub const FILE: &str = "gui.json";

/// The window's outer position and inner size, in points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Geometry {
    /// Left edge of the window (with its decorations).
    pub x: f32,
    /// Top edge of the window (with its decorations).
    pub y: f32,
    /// Width of the drawing area.
    pub width: f32,
    /// Height of the drawing area.
    pub height: f32,
}

/// What is kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Dark or light.
    pub theme: Theme,
    /// The last tab shown.
    pub tab: Tab,
    /// The last period chosen.
    pub period: Period,
    /// The window, once known.
    pub window: Option<Geometry>,
}

impl Default for Settings {
    /// Dark, the Overview of the last day, the window's default size.
    fn default() -> Settings {
        Settings { theme: Theme::Dark, tab: Tab::Overview, period: Period::Day, window: None }
    }
}

/// The file's contents: names rather than the types, so that it reads well and a renamed
/// variant only falls back to a default.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    theme: String,
    tab: String,
    period: String,
    window: Option<Geometry>,
}

impl Settings {
    /// The window as kept: its last size and position on the default `builder`.
    pub fn viewport(&self, builder: egui::ViewportBuilder) -> egui::ViewportBuilder {
        match self.window {
            Some(w) => builder.with_inner_size([w.width, w.height]).with_position([w.x, w.y]),
            None => builder,
        }
    }

    fn stored(&self) -> Stored {
        let theme = match self.theme {
            Theme::Dark => "dark",
            Theme::Light => "light",
        };
        Stored { theme: theme.into(), tab: self.tab.name().into(), period: self.period.to_string(), window: self.window }
    }

    fn from_stored(s: Stored) -> Result<Settings, String> {
        let theme = match s.theme.as_str() {
            "dark" => Theme::Dark,
            "light" => Theme::Light,
            other => return Err(format!("unknown theme {other:?}")),
        };
        let tab = Tab::ALL.into_iter().find(|t| t.name() == s.tab).ok_or_else(|| format!("unknown view {:?}", s.tab))?;
        let period = s.period.parse().map_err(|e: vantage_core::Error| e.to_string())?;
        let window = s.window.filter(|w| [w.x, w.y, w.width, w.height].iter().all(|v| v.is_finite()) && w.width > 0.0 && w.height > 0.0);
        Ok(Settings { theme, tab, period, window })
    }
}

/// Where the settings are kept.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// The settings kept in `data_dir`: the defaults when there are none, and with a warning when
/// the file cannot be read or understood.
pub fn load(data_dir: &Path) -> (Settings, Option<String>) {
    let path = path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Settings::default(), None),
        Err(e) => return (Settings::default(), Some(format!("{}: {e}; default settings", path.display()))),
    };
    match serde_json::from_str::<Stored>(&text).map_err(|e| e.to_string()).and_then(Settings::from_stored) {
        Ok(settings) => (settings, None),
        Err(e) => (Settings::default(), Some(format!("{}: {e}; default settings", path.display()))),
    }
}

/// Keeps `settings` in `data_dir` (created if needed).
pub fn save(data_dir: &Path, settings: &Settings) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let text = serde_json::to_string_pretty(&settings.stored())?;
    std::fs::write(path(data_dir), text + "\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_restore_the_window() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kept = Settings { theme: Theme::Light, tab: Tab::Events, period: Period::Month, window: Some(Geometry { x: 40.0, y: 30.0, width: 1000.0, height: 700.0 }) };
        save(dir.path(), &kept).expect("saved");
        assert_eq!(load(dir.path()), (kept, None));
        let viewport = kept.viewport(egui::ViewportBuilder::default());
        assert_eq!((viewport.inner_size, viewport.position), (Some(egui::vec2(1000.0, 700.0)), Some(egui::pos2(40.0, 30.0))));
        assert_eq!(Settings::default().viewport(egui::ViewportBuilder::default()).inner_size, None);
    }

    #[test]
    fn a_missing_file_means_defaults_and_a_bad_one_a_warning() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(load(dir.path()), (Settings::default(), None));
        for bad in ["{not json", r#"{"theme":"sepia","tab":"Events","period":"1d","window":null}"#, r#"{"theme":"dark","tab":"Events","period":"2d","window":null}"#] {
            std::fs::write(path(dir.path()), bad).expect("written");
            let (settings, warning) = load(dir.path());
            assert_eq!(settings, Settings::default());
            assert!(warning.is_some_and(|w| w.contains(FILE)), "{bad}");
        }
    }
}
