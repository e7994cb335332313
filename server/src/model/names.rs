//! Names people tell apart by sight: a token's name, which the audit log shows as who
//! acted and which four-eyes approval compares, and a flag's variant names, which
//! change requests show as what will be served.
//!
//! Beyond [`check_label`]'s control characters, a name must not hold what would make it
//! read as another name: `ed\u{200b}` (a zero-width space), `ed ` or `adm-stg\u{301}`
//! (a combining accent on an ASCII letter) beside `ed` and `adm-stg`, which made an
//! approval by a second token read as one by the proposer. Token names also compare
//! without case ([`same_name`]), so `ED` is `ed`.

use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

use super::text::{check_label, escaped, QUOTED_CHARS};

/// Unicode's default-ignorable code points (`DerivedCoreProperties.txt`,
/// `Default_Ignorable_Code_Point`): characters a renderer draws as nothing. Format
/// characters (category Cf) are refused as well, by their category.
const IGNORABLE: [(char, char); 17] = [
    ('\u{00ad}', '\u{00ad}'),   // soft hyphen
    ('\u{034f}', '\u{034f}'),   // combining grapheme joiner
    ('\u{061c}', '\u{061c}'),   // Arabic letter mark
    ('\u{115f}', '\u{1160}'),   // Hangul fillers
    ('\u{17b4}', '\u{17b5}'),   // Khmer inherent vowels
    ('\u{180b}', '\u{180f}'),   // Mongolian variation selectors and vowel separator
    ('\u{200b}', '\u{200f}'),   // zero-width space, non-joiner, joiner; direction marks
    ('\u{202a}', '\u{202e}'),   // bidirectional embeddings and overrides
    ('\u{2060}', '\u{206f}'),   // word joiner, invisible operators, isolates
    ('\u{3164}', '\u{3164}'),   // Hangul filler
    ('\u{fe00}', '\u{fe0f}'),   // variation selectors
    ('\u{feff}', '\u{feff}'),   // zero-width no-break space (byte order mark)
    ('\u{ffa0}', '\u{ffa0}'),   // halfwidth Hangul filler
    ('\u{fff0}', '\u{fff8}'),   // reserved
    ('\u{1bca0}', '\u{1bca3}'), // shorthand format controls
    ('\u{1d173}', '\u{1d17a}'), // musical symbol beam and phrase controls
    ('\u{e0000}', '\u{e0fff}'), // tags, variation selectors supplement
];

/// Whether `c` is drawn as nothing or only changes how the text around it is drawn:
/// default-ignorable, or a format character (Cf: U+200B to U+200F, U+2060 to U+2064,
/// U+FEFF, U+00AD, the Arabic number signs, ...).
fn invisible(c: char) -> bool {
    IGNORABLE.iter().any(|&(first, last)| (first..=last).contains(&c))
        || c.general_category() == GeneralCategory::Format
}

/// Checks a token's name or a variant name: [`check_label`]'s rules, and no invisible
/// or format character ([`invisible`]), no white space at either end, and no combining
/// mark at the start or right after an ASCII character (an accented Latin letter is
/// written precomposed, as NFC has it: `é`, not `e` and U+0301). The error quotes the
/// name escaped and names the character as U+XXXX and its position (from 1).
pub fn check_name(text: &str) -> Result<(), String> {
    check_label(text)?;
    let last = text.chars().count();
    let mut before: Option<char> = None;
    for (index, c) in text.chars().enumerate() {
        let at = index + 1;
        let why = if invisible(c) {
            Some("contains the invisible character")
        } else if c.is_whitespace() && at == 1 {
            Some("starts with the white space")
        } else if c.is_whitespace() && at == last {
            Some("ends with the white space")
        } else if c.general_category_group() == GeneralCategoryGroup::Mark && before.is_none_or(|b| b.is_ascii()) {
            Some(if before.is_none() {
                "starts with the combining mark"
            } else {
                "puts on an ASCII character the combining mark"
            })
        } else {
            None
        };
        if let Some(why) = why {
            return Err(format!("\"{}\" {why} U+{:04X} at character {at}", quoted(text), u32::from(c)));
        }
        before = Some(c);
    }
    Ok(())
}

/// Whether two token names are one name: equal once lowercased (Unicode's default
/// lowercase mapping, `str::to_lowercase`), so `ED`, `Ed` and `ed` are one, and so are
/// `ÉD` and `éd`. No other folding: `STRASSE` and `straße` differ.
pub fn same_name(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// `text` cut to [`QUOTED_CHARS`] characters for a message, with invisible characters
/// written as escapes (`\u{200b}`) as well as what [`escaped`] escapes.
fn quoted(text: &str) -> String {
    let mut shown = String::new();
    for c in text.chars().take(QUOTED_CHARS) {
        if invisible(c) {
            shown.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            shown.push(c);
        }
    }
    if text.chars().count() > QUOTED_CHARS {
        shown.push('…');
    }
    escaped(&shown).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{check_name, same_name};

    #[test]
    fn names_refuse_what_reads_as_another_name_and_say_where() {
        let cases = [
            ("ed\u{200b}", "\"ed\\u{200b}\" contains the invisible character U+200B at character 3"),
            ("e\u{ad}d", "\"e\\u{ad}d\" contains the invisible character U+00AD at character 2"),
            ("\u{feff}ed", "\"\\u{feff}ed\" contains the invisible character U+FEFF at character 1"),
            ("ed\u{2063}x", "\"ed\\u{2063}x\" contains the invisible character U+2063 at character 3"),
            ("e\u{200d}d", "\"e\\u{200d}d\" contains the invisible character U+200D at character 2"),
            ("ed\u{e0041}", "\"ed\\u{e0041}\" contains the invisible character U+E0041 at character 3"),
            ("\u{3164}", "\"\\u{3164}\" contains the invisible character U+3164 at character 1"),
            ("ed\u{600}", "\"ed\\u{600}\" contains the invisible character U+0600 at character 3"),
            ("ed ", "\"ed \" ends with the white space U+0020 at character 3"),
            (" ed", "\" ed\" starts with the white space U+0020 at character 1"),
            ("ed\u{a0}", "\"ed\u{a0}\" ends with the white space U+00A0 at character 3"),
            ("\u{3000}ed", "\"\u{3000}ed\" starts with the white space U+3000 at character 1"),
            ("\u{301}ed", "\"\u{301}ed\" starts with the combining mark U+0301 at character 1"),
            (
                "adm-stg\u{301}",
                "\"adm-stg\u{301}\" puts on an ASCII character the combining mark U+0301 at character 8",
            ),
        ];
        for (name, why) in cases {
            assert_eq!(check_name(name), Err(why.to_owned()), "{name:?}");
        }
        // Control and bidirectional characters, as for any label.
        assert!(check_name("ed\u{1b}").unwrap_err().contains("control character U+001B"));
        assert!(check_name("ed\u{202e}").unwrap_err().contains("bidirectional control U+202E"));
        let long = format!("{}\u{200b}", "a".repeat(50));
        assert!(check_name(&long).unwrap_err().starts_with(&format!("\"{}…\" contains", "a".repeat(40))));
    }

    #[test]
    fn names_keep_letters_of_every_script_and_inner_spaces() {
        for name in
            ["ed", "Ed Smith", "ci: deploy (prod)", "José", "équipe paiements", "राम", "ไทย", "李雷", "ο\u{301}"]
        {
            assert_eq!(check_name(name), Ok(()), "{name:?}");
        }
    }

    #[test]
    fn token_names_compare_without_case() {
        assert!(same_name("ed", "ED") && same_name("Ed", "eD") && same_name("ÉD", "éd"));
        assert!(!same_name("ed", "ed2") && !same_name("STRASSE", "straße") && !same_name("ed", "ed "));
    }
}
