//! The storyboard as the Flows tab shows it, and its text on the one-line input: a line break
//! is typed as `\n` and a backslash as `\\` ([`escape`], [`unescape`]), so a multi-line text
//! with any characters goes through the terminal's input line unchanged.

use vantage_core::flows::storyboard::Storyboard;

/// `text` on one line: `\` as `\\`, a line break as `\n` (a carriage return as `\r`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// The text an [`escape`]d line stands for; any other backslash is kept as typed.
pub fn unescape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The lines of a storyboard: the analyst's title and text, then what the day's flows say.
pub fn lines(s: &Storyboard) -> Vec<String> {
    let mut out = vec![format!("{} on {}  (b edits)", s.ip, s.date), format!("title     {}", if s.title.is_empty() { "(none yet)" } else { &s.title })];
    let mut text = s.text.lines();
    out.push(format!("text      {}", text.next().unwrap_or("(none yet)")));
    out.extend(text.map(|l| format!("          {l}")));
    out.extend(facts(s));
    out
}

/// What the day's flows say about the storyboard's address: peers per direction, the first
/// contact, the timeline and the map.
pub fn facts(s: &Storyboard) -> Vec<String> {
    let mut out = Vec::new();
    for (direction, i) in &s.impact {
        out.push(format!("{direction:<14}{} internal, {} external peers", i.internal, i.external));
    }
    if let Some(first) = s.progression.first() {
        out.push(format!("first     {} {} ({}), {} peers in all", first.first_seen, first.ip, first.context, s.progression.len()));
    }
    out.push(format!("timeline  {} connections; {} peers on the map", s.timeline.len(), s.map.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_text_survives_the_input_line() {
        for text in ["", "one line", "two\nlines", "a \\n that is not a break", "tab\there, unicode ✓, CRLF\r\n", "trailing \\"] {
            let line = escape(text);
            assert!(!line.contains('\n'), "{line:?}");
            assert_eq!(unescape(&line), text);
        }
        assert_eq!(unescape("C:\\temp\\n"), "C:\\temp\n", "an unknown escape keeps its backslash");
        assert_eq!(unescape("end \\"), "end \\");
    }
}
