//! Text that reaches people: names and labels the API accepts, and how the CLI shows
//! text that came from a server.
//!
//! A control character (an escape sequence, a carriage return) or a bidirectional
//! override in a tag or a variant name would reach an approver's terminal, or a log, as
//! it is: it could clear the screen, or overwrite what a change request proposes with
//! something else. The API refuses them in names and labels (descriptions may keep line
//! breaks and tabs), and the CLI escapes them in anything a server sends, since rows
//! written before the API refused them may still hold some.

use std::borrow::Cow;

/// The most characters of a refused text an error message quotes.
pub(super) const QUOTED_CHARS: usize = 40;

/// What `c` is, if it may not appear in a name or label: a control character (Unicode
/// category Cc) or a bidirectional embedding, override or isolate, which reorder the
/// text displayed around them.
fn unsafe_kind(c: char) -> Option<&'static str> {
    if c.is_control() {
        Some("control character")
    } else if matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
        Some("bidirectional control")
    } else {
        None
    }
}

/// Checks a name or label (a tag, a variant name, an owner, a rule id, an SDK key's
/// name): no control characters and no bidirectional controls. The error quotes the
/// text escaped and says which character is at fault and where (counting from 1).
pub fn check_label(text: &str) -> Result<(), String> {
    check(text, false)
}

/// Checks free text (a description): as [`check_label`], but line feeds and tabs are
/// allowed.
pub fn check_prose(text: &str) -> Result<(), String> {
    check(text, true)
}

fn check(text: &str, prose: bool) -> Result<(), String> {
    for (index, c) in text.chars().enumerate() {
        if prose && matches!(c, '\n' | '\t') {
            continue;
        }
        if let Some(kind) = unsafe_kind(c) {
            return Err(format!(
                "\"{}\" contains the {kind} U+{:04X} at character {}",
                quoted(text),
                u32::from(c),
                index + 1
            ));
        }
    }
    Ok(())
}

/// `text` escaped and cut to [`QUOTED_CHARS`] characters, for an error message.
fn quoted(text: &str) -> String {
    let mut cut: String = text.chars().take(QUOTED_CHARS).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    escaped(&cut).into_owned()
}

/// Whether the CLI shows `c` escaped: what [`check_label`] refuses, and the
/// left-to-right and right-to-left marks, which also move the text around them.
fn shown_escaped(c: char) -> bool {
    unsafe_kind(c).is_some() || matches!(c, '\u{200e}' | '\u{200f}')
}

/// `text` safe to print on one line of a terminal: control characters and
/// bidirectional controls written as `\n`, `\r`, `\t` or `\u{1b}` (the text is
/// borrowed when it holds none). Everything a server sends goes through this before the
/// CLI prints it.
pub fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(shown_escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if shown_escaped(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// JSON text with every character [`escaped`] would escape and JSON leaves raw (DEL,
/// the C1 controls, bidirectional controls and marks) written as a `\uXXXX` escape: the
/// same JSON, safe to print. Such characters occur only inside strings, where the
/// escape means the character itself.
pub fn json_escaped(json: &str) -> Cow<'_, str> {
    // A JSON writer escapes U+0000 to U+001F itself; a raw line feed is layout.
    let raw = |c: char| shown_escaped(c) && u32::from(c) >= 0x20;
    if !json.chars().any(raw) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if raw(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A JSON value's kind, with its article, for messages ("not an array").
pub fn json_kind(json: &serde_json::Value) -> &'static str {
    match json {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::{check_label, check_prose, escaped, json_escaped};

    #[test]
    fn labels_refuse_controls_and_say_where() {
        assert_eq!(check_label("payments team"), Ok(()));
        assert_eq!(check_label("équipe ☂"), Ok(()));
        assert_eq!(
            check_label("on\r#1 open"),
            Err("\"on\\r#1 open\" contains the control character U+000D at character 3".into())
        );
        assert_eq!(
            check_label("a\u{202e}b"),
            Err("\"a\\u{202e}b\" contains the bidirectional control U+202E at character 2".into())
        );
        assert!(check_label("x\u{85}").unwrap_err().contains("control character U+0085 at character 2"));
        assert!(check_label("\u{2069}").is_err());
        assert!(check_label("\n").is_err());
        let long = format!("{}\u{1b}", "a".repeat(100));
        let why = check_label(&long).unwrap_err();
        assert!(why.starts_with(&format!("\"{}…\" contains", "a".repeat(40))), "{why}");
        assert!(why.ends_with("U+001B at character 101"), "{why}");
    }

    #[test]
    fn prose_keeps_line_breaks_and_tabs() {
        assert_eq!(check_prose("line one\nline two\tend"), Ok(()));
        assert!(check_prose("a\r\nb").unwrap_err().contains("U+000D at character 2"));
        assert!(check_prose("a\u{2066}b").unwrap_err().contains("bidirectional control U+2066"));
    }

    #[test]
    fn escapes_for_a_terminal() {
        assert!(matches!(escaped("plain `tag`, ünïcode"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(escaped("\u{1b}]0;pwned\u{7}\u{1b}[2J"), "\\u{1b}]0;pwned\\u{7}\\u{1b}[2J");
        assert_eq!(escaped("on\r#1\n\t"), "on\\r#1\\n\\t");
        assert_eq!(escaped("a\u{202e}b\u{200f}c\u{9b}d\u{7f}"), "a\\u{202e}b\\u{200f}c\\u{9b}d\\u{7f}");
    }

    #[test]
    fn json_stays_the_same_json() {
        let value = serde_json::json!({ "tags": ["a\u{202e}b", "\u{9b}2J\u{7f}", "\u{1b}[8m", "x\ny"] });
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let safe = json_escaped(&pretty);
        assert!(!safe.chars().any(|c| c.is_control() && c != '\n'), "{safe}");
        assert!(!safe.contains('\u{202e}'));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), value);
        assert!(matches!(json_escaped("{\n  \"a\": \"é\"\n}"), std::borrow::Cow::Borrowed(_)));
    }
}
