//! Text read from an envelope goes into error messages, and from there into logs, before
//! any signature vouches for it: shown escaped (no forged log lines, no terminal
//! escapes, no reordering marks) and shortened (a 2 MB member name is no 2 MB line).

/// The most characters of a text a message shows.
const MAX_CHARS: usize = 64;

/// `text` for a message: control and bidirectional-formatting characters written as
/// `\u{xxxx}`, and anything past 64 characters cut, with the full length noted. Written
/// with the core's own hex and `itoa`: `char::escape_default` cost the WebAssembly
/// module 0.5 KB.
#[cold]
pub(crate) fn shown(text: &str) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == MAX_CHARS {
            out.push_str("… (");
            out.push_str(itoa::Buffer::new().format(text.len()));
            out.push_str(" bytes)");
            break;
        }
        match c {
            // Every such character is below U+10000, so four hex digits hold it.
            '\0'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' => {
                out.push_str("\\u{");
                crate::json::write_hex(&mut out, &(c as u16).to_be_bytes());
                out.push('}');
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn escapes_and_shortens() {
        assert_eq!(shown("plain `name`"), "plain `name`");
        assert_eq!(
            shown("x\n2026-01-01 INFO forged\r\u{1b}[31m"),
            "x\\u{000a}2026-01-01 INFO forged\\u{000d}\\u{001b}[31m"
        );
        assert_eq!(shown("a\u{202e}b\u{85}"), "a\\u{202e}b\\u{0085}");
        let long = "é".repeat(1000);
        assert_eq!(shown(&long), format!("{}… (2000 bytes)", "é".repeat(64)));
    }
}
