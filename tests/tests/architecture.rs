//! The layering rules of `../shared/spec/README.md` and the code style, checked on the source
//! text (issue 13): shared layers import no capability, a capability imports no other
//! capability, no import cycle among core's top-level modules, and the front ends (and the
//! UI-free dashboard models in `core/views/`) never reach storage, SQL or Redis and keep every
//! source file under 700 lines; `core/views/` imports no UI toolkit either.
//!
//! There is no list of tolerated violations: any one fails the test, naming the file and the
//! rule (see docs/architecture.md for where things go instead).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level core modules that are capabilities.
const CAPABILITIES: &[&str] = &["statistics", "passwords", "pcap", "events", "flows", "dynfw"];
/// The composition root: the only core modules that may import every other one.
const ROOT: &[&str] = &["lib", "engine", "deployment"];
/// Front-end source directories (`core/views/`: the dashboard models both front ends share).
const FRONT_ENDS: &[&str] = &["tui/src", "gui/src", "core/views/src"];
/// UI toolkits the shared dashboard models must not import: they serve every front end.
const UI_TOOLKITS: &[&str] = &["ratatui", "crossterm", "egui", "eframe"];
/// Largest front-end source file, in lines.
const MAX_FRONTEND_LINES: usize = 700;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read source dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The source without comments (whole-line and trailing `//` comments).
fn code(text: &str) -> String {
    text.lines().map(|l| if l.trim_start().starts_with("//") { "" } else { l.split(" // ").next().unwrap_or(l) }).collect::<Vec<_>>().join("\n")
}

/// The top-level core module a file belongs to (`store/sqlite.rs` → `store`, `http.rs` → `http`).
fn module_of(core_src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(core_src).expect("file under core/src");
    let first = rel.components().next().expect("component").as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// Top-level modules named by `crate::x` paths, including `use crate::{x::…, y}` groups.
fn crate_imports(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let preceded_by_ident = rest[..i].chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        rest = &rest[i + "crate::".len()..];
        if preceded_by_ident {
            continue; // `vantage_crate::`, not ours
        }
        if let Some(group) = rest.strip_prefix('{') {
            for item in split_top_level(group) {
                let name = ident(item.trim());
                if !name.is_empty() && name != "self" {
                    out.insert(name);
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// The top-level comma-separated items of a `{…}` group (up to its closing brace).
fn split_top_level(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..i]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items
}

/// True when `code` names the crate `name` in a path (`name::…`, `::name::…`, `use name;`).
fn names_crate(code: &str, name: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    code.match_indices(name).any(|(i, _)| {
        let before = code[..i].chars().last();
        let after = &code[i + name.len()..];
        !before.is_some_and(ident) && (after.starts_with("::") || after.starts_with(';') || after.starts_with(" as "))
    })
}

/// Strongly connected components with more than one module (Tarjan, iterative enough for ~20 nodes).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let nodes: Vec<&String> = graph.keys().collect();
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for m in graph.get(&n).into_iter().flatten() {
                if seen.insert(m.clone()) {
                    stack.push(m.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> = nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for n in &nodes {
        if done.contains(*n) {
            continue;
        }
        let component: Vec<String> = nodes.iter().filter(|m| reachable[*n].contains(**m) && reachable[*m].contains(*n)).map(|m| (*m).clone()).collect();
        if component.len() > 1 {
            done.extend(component.iter().cloned());
            out.push(component);
        }
    }
    out
}

/// Every violation of the rules in today's tree, one line each.
fn violations() -> BTreeSet<String> {
    let root = workspace();
    let core_src = root.join("core/src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&core_src) {
        let module = module_of(&core_src, &file);
        let text = std::fs::read_to_string(&file).expect("read source");
        let imports = crate_imports(&code(&text));
        graph.entry(module.clone()).or_default().extend(imports.into_iter().filter(|m| *m != module));
    }
    let mut out = BTreeSet::new();
    for (from, tos) in &graph {
        if ROOT.contains(&from.as_str()) {
            continue;
        }
        for to in tos.iter().filter(|t| CAPABILITIES.contains(&t.as_str())) {
            if CAPABILITIES.contains(&from.as_str()) {
                out.insert(format!("capability imports capability: {from} -> {to}"));
            } else {
                out.insert(format!("shared layer imports capability: {from} -> {to}"));
            }
        }
    }
    let non_root: BTreeMap<String, BTreeSet<String>> =
        graph.iter().filter(|(k, _)| !ROOT.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.iter().filter(|m| !ROOT.contains(&m.as_str())).cloned().collect())).collect();
    for c in cycles(&non_root) {
        out.insert(format!("import cycle: {}", c.join(", ")));
    }
    for front in FRONT_ENDS {
        let dir = root.join(front);
        if !dir.is_dir() {
            continue;
        }
        for file in rust_files(&dir) {
            let rel = file.strip_prefix(&root).expect("under root").display().to_string();
            let text = std::fs::read_to_string(&file).expect("read source");
            let lines = text.lines().count();
            if lines > MAX_FRONTEND_LINES {
                out.insert(format!("front-end file over {MAX_FRONTEND_LINES} lines: {rel}"));
            }
            let code = code(&text);
            for forbidden in ["vantage_core::store", "sqlx::", "redis::"] {
                if code.contains(forbidden) {
                    out.insert(format!("front end uses {forbidden}: {rel}"));
                }
            }
            if *front == "core/views/src" {
                for toolkit in UI_TOOLKITS.iter().filter(|t| names_crate(&code, t)) {
                    out.insert(format!("UI-free views use {toolkit}: {rel}"));
                }
            }
        }
    }
    out
}

#[test]
fn layers_point_one_way_and_front_ends_stay_out_of_storage() {
    let found = violations();
    assert!(found.is_empty(), "architecture violations (docs/architecture.md says where things go):\n  {}", found.into_iter().collect::<Vec<_>>().join("\n  "));
}

#[test]
fn the_checker_sees_imports_groups_and_cycles() {
    let imports = crate_imports(&code("use crate::store::{self, Store};\nuse crate::{error::Error, pcap::{a, b}, clock};\n// crate::events in a comment\nlet x = crate::geo::lookup();"));
    assert_eq!(imports.into_iter().collect::<Vec<_>>(), ["clock", "error", "geo", "pcap", "store"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [("a", &["b"][..]), ("b", &["c"]), ("c", &["a"]), ("d", &["a"])]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(cycles(&graph), vec![vec!["a".to_string(), "b".into(), "c".into()]]);
    assert!(names_crate("use ratatui::Frame;", "ratatui") && names_crate("let k = ::crossterm::event::read();", "crossterm"));
    assert!(names_crate("use egui;", "egui") && !names_crate(&code("// egui::Ui in a comment\nuse vantage_egui_like::x;"), "egui"));
}
