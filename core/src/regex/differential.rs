//! The engine against `regex-lite`, whose syntax it keeps: the same patterns are
//! refused, and the accepted ones match the same texts.

use proptest::prelude::*;

use super::Regex;

/// Pieces of syntax, valid and not, that generated patterns are strung from.
const TOKENS: &[&str] = &[
    "a",
    "b",
    "A",
    "Z",
    "é",
    "É",
    "🚩",
    "_",
    "1",
    " ",
    "\n",
    "-",
    ".",
    "^",
    "$",
    "|",
    "(",
    ")",
    "(?:",
    "(?i)",
    "(?-i)",
    "(?m)",
    "(?s)",
    "(?R)",
    "(?U)",
    "(?x)",
    "(?u)",
    "(?i:",
    "(?is-m:",
    "(?P<n>",
    "(?<m1>",
    "(?<",
    ">",
    "*",
    "+",
    "?",
    "*?",
    "+?",
    "??",
    "{2}",
    "{1,3}",
    "{0,}",
    "{,2}",
    "{ 2 }",
    "{2,1}",
    "{",
    "}",
    "[",
    "]",
    "[^",
    "a-c",
    "Z-a",
    "[:alpha:]",
    "[:^digit:]",
    "[:bogus:]",
    "&&",
    "--",
    "~~",
    "\\d",
    "\\D",
    "\\w",
    "\\W",
    "\\s",
    "\\S",
    "\\b",
    "\\B",
    "\\<",
    "\\>",
    "\\A",
    "\\z",
    "\\b{start}",
    "\\b{end-half}",
    "\\b{x}",
    "\\x41",
    "\\x{e9}",
    "\\u00C9",
    "\\U0001F6A9",
    "\\x{}",
    "\\xZ",
    "\\n",
    "\\r",
    "\\t",
    "\\.",
    "\\-",
    "\\[",
    "\\ ",
    "\\#",
    "\\1",
    "\\pL",
    "\\q",
    "#",
    "\\",
    ":",
    ",",
    "\r",
];

/// Characters texts are made of: cases, word and non-word, line ends, multi-byte.
const TEXT_CHARS: &[char] = &['a', 'b', 'A', 'B', 'Z', 'z', 'é', 'É', '🚩', '_', '1', '-', ' ', '\n', '\r', '.', ']'];

fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(TOKENS), 0..10).prop_map(|tokens| tokens.concat()),
        // Raw syntax characters, for the parser's corners.
        "[-\\[\\]\\\\^$.|?*+(){}<>:,!=#Pabiuxs0-9 ]{0,12}",
        // Anything at all.
        ".{0,12}",
    ]
}

fn texts() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(prop::collection::vec(prop::sample::select(TEXT_CHARS), 0..8).prop_map(String::from_iter), 8)
}

/// Whether either side refused the pattern only for its size: the two engines bound
/// size differently (docs/SPEC.md, section 5.4).
fn refused_for_size(
    ours: &Result<Regex, super::RegexError>,
    theirs: &Result<regex_lite::Regex, regex_lite::Error>,
) -> bool {
    ours.as_ref().is_err_and(|e| e.to_string().starts_with("pattern too large"))
        || theirs.as_ref().is_err_and(|e| e.to_string().contains("size limit"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn accepts_and_matches_as_regex_lite_does(pattern in pattern(), ci in any::<bool>(), texts in texts()) {
        let ours = Regex::new(&pattern, ci);
        let theirs = regex_lite::RegexBuilder::new(&pattern).case_insensitive(ci).build();
        if refused_for_size(&ours, &theirs) {
            return Ok(());
        }
        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "pattern {:?} (ci {}): ours {:?}, regex-lite {:?}",
            pattern, ci, ours.as_ref().err(), theirs.as_ref().err());
        if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
            for text in &texts {
                prop_assert_eq!(ours.is_match(text), theirs.is_match(text), "pattern {:?} (ci {}) on {:?}", pattern, ci, text);
            }
        }
    }
}
