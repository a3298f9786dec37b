//! The save dialog, drawn by egui (no portal, no GTK: it works on a bare X server): the
//! current directory and its entries (directories first, `..` to go up, hidden files left
//! out), a file name field (a relative name, a path, or a directory to go to), Save and
//! Cancel, a confirmation before replacing a file, and the last error. It only chooses a
//! path: [`crate::session::Session`] writes the file off the UI thread and tells it how that
//! went.

use std::path::{Path, PathBuf};

use eframe::egui::{self, Key, RichText, TextEdit};
use vantage_core::export::ImageFormat;
use vantage_views::app::Export;

/// Height of the entries' list.
const LIST_HEIGHT: f32 = 260.0;

/// What the user chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Write the export to this path.
    Save(PathBuf),
    /// Close without writing.
    Cancel,
}

/// One entry of the directory shown.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    name: String,
    dir: bool,
}

/// An open save dialog and the export it is for.
#[derive(Debug)]
pub struct FileDialog {
    /// What is to be written.
    pub export: Export,
    /// The file name field: a name, a path (relative to the directory shown) or a directory.
    pub name: String,
    dir: PathBuf,
    default_name: String,
    entries: Vec<Entry>,
    error: Option<String>,
    replace: Option<PathBuf>,
    writing: bool,
}

impl FileDialog {
    /// A dialog in `dir` proposing `name` for `export`.
    pub fn new(dir: PathBuf, name: String, export: Export) -> FileDialog {
        let mut dialog = FileDialog { export, name: name.clone(), dir: PathBuf::new(), default_name: name, entries: Vec::new(), error: None, replace: None, writing: false };
        dialog.go(dir);
        dialog
    }

    /// The directory shown.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The error shown (listing or writing), if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The write failed: the dialog stays open with the error.
    pub fn failed(&mut self, error: String) {
        self.writing = false;
        self.error = Some(error);
    }

    /// Shows the directory `dir` (its entries read now, once).
    fn go(&mut self, dir: PathBuf) {
        self.replace = None;
        match list(&dir) {
            Ok(entries) => {
                self.entries = entries;
                self.error = None;
            }
            Err(e) => {
                self.entries.clear();
                self.error = Some(format!("{}: {e}", dir.display()));
            }
        }
        self.dir = dir;
    }

    /// The path the name field means.
    fn target(&self) -> PathBuf {
        self.dir.join(self.name.trim()) // an absolute path replaces the directory
    }

    /// Save was pressed: go into a directory, ask before replacing a file, or choose the path.
    fn save(&mut self) -> Option<Choice> {
        if self.name.trim().is_empty() {
            self.error = Some("type a file name".into());
            return None;
        }
        let target = self.target();
        if target.is_dir() {
            self.go(target);
            self.name = self.default_name.clone();
            return None;
        }
        if target.exists() && self.replace.as_ref() != Some(&target) {
            self.replace = Some(target);
            return None;
        }
        self.writing = true;
        self.error = None;
        Some(Choice::Save(target))
    }

    /// Draws the dialog (modal); what the user chose this frame, if anything.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<Choice> {
        let mut choice = None;
        let modal = egui::Modal::new(egui::Id::unique("file dialog")).show(ctx, |ui| {
            ui.set_width(560.0);
            ui.heading(title(&self.export));
            ui.horizontal(|ui| {
                ui.label("Folder");
                ui.monospace(self.dir.display().to_string());
            });
            let mut go = None;
            egui::ScrollArea::vertical().id_salt("file dialog entries").max_height(LIST_HEIGHT).auto_shrink(false).show(ui, |ui| {
                if let Some(parent) = self.dir.parent()
                    && ui.button("..").on_hover_text("the folder above").clicked()
                {
                    go = Some(parent.to_path_buf());
                }
                for entry in &self.entries {
                    if entry.dir {
                        if ui.button(format!("{}/", entry.name)).clicked() {
                            go = Some(self.dir.join(&entry.name));
                        }
                    } else if ui.selectable_label(self.name == entry.name, entry.name.as_str()).clicked() {
                        self.name = entry.name.clone();
                        self.replace = None;
                    }
                }
            });
            if let Some(dir) = go {
                self.go(dir);
            }
            ui.separator();
            let label = ui.label("File name");
            let edit = ui.add(TextEdit::singleline(&mut self.name).id_salt("file dialog name").desired_width(f32::INFINITY)).labelled_by(label.id);
            if edit.changed() {
                self.replace = None;
            }
            let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            if let Some(path) = self.replace.clone() {
                ui.label(RichText::new(format!("{} exists.", path.display())).color(ui.visuals().warn_fg_color));
                ui.horizontal(|ui| {
                    if ui.button("Replace").clicked() {
                        self.writing = true;
                        choice = Some(Choice::Save(path));
                    }
                    if ui.button("Keep it").clicked() {
                        self.replace = None;
                    }
                });
            }
            if let Some(error) = &self.error {
                ui.label(RichText::new(error.as_str()).color(ui.visuals().error_fg_color));
            }
            ui.horizontal(|ui| {
                let save = ui.add_enabled(!self.writing, egui::Button::new("Save")).clicked();
                if (save || entered) && !self.writing && choice.is_none() {
                    choice = self.save();
                }
                if ui.button("Cancel").clicked() {
                    choice = Some(Choice::Cancel);
                }
                if self.writing {
                    ui.spinner();
                    ui.weak("writing…");
                }
            });
        });
        if choice.is_none() && modal.should_close() && !self.writing {
            choice = Some(Choice::Cancel);
        }
        choice
    }
}

/// The dialog's heading.
fn title(export: &Export) -> &'static str {
    match export {
        Export::Csv { .. } => "Save the table as CSV",
        Export::Chart { format: ImageFormat::Png, .. } => "Save the chart as PNG",
        Export::Chart { format: ImageFormat::Svg, .. } => "Save the chart as SVG",
        Export::Pcap { .. } => "Save the capture",
        Export::Report { .. } => "Save the dossier report (Markdown)",
    }
}

/// The entries of `dir`: directories first, then files, each by name; hidden ones left out.
fn list(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (!name.starts_with('.')).then(|| Entry { dir: e.path().is_dir(), name })
        })
        .collect();
    entries.sort_by(|a, b| b.dir.cmp(&a.dir).then_with(|| a.name.cmp(&b.name)));
    Ok(entries)
}
