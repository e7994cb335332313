//! Examples of the syntax and its edges; `differential.rs` compares the engine with
//! `regex-lite` on generated patterns.

use super::Regex;

fn matches(pattern: &str, text: &str) -> bool {
    match Regex::new(pattern, false) {
        Ok(regex) => regex.is_match(text),
        Err(error) => panic!("{pattern:?} refused: {error}"),
    }
}

fn refused(pattern: &str) -> String {
    match Regex::new(pattern, false) {
        Ok(_) => panic!("{pattern:?} accepted"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn literals_classes_and_anchors() {
    assert!(matches("^user-[0-9]+$", "user-42"));
    assert!(!matches("^user-[0-9]+$", "user-"));
    assert!(matches("b+", "abbc"));
    assert!(!matches("^a\\.b$", "axb"));
    assert!(matches("^(gold|platinum)$", "platinum"));
    assert!(!matches("^(gold|platinum)$", "silver"));
    assert!(matches("\\d{3}", "ab123"));
    assert!(!matches("\\d{3}", "ab12"));
    assert!(matches("^$", ""));
    assert!(matches("", "anything"));
    assert!(!matches("[^\\s\\S]", "a"));
    assert!(matches("é+$", "café"));
    assert!(matches("^.$", "🚩"));
    assert!(!matches("^.$", "\n"));
    assert!(matches("(?s)^.$", "\n"));
    assert!(matches("[[:upper:]][[:^alpha:]]", "A1"));
    assert!(matches("[]a]", "]"));
    assert!(matches("[a-]", "-"));
    assert!(matches("^a{2,3}$", "aaa"));
    assert!(!matches("^a{2,3}$", "aaaa"));
    assert!(matches("^a{2,}$", "aaaaaa"));
    assert!(matches("^(?:ab)*$", "ababab"));
    assert!(matches("^(a*)*$", "aaa"));
    assert!(matches("^\\x41\\u00e9\\U0001F6A9\\x{20}$", "Aé🚩 "));
}

#[test]
fn case_insensitivity_is_ascii_only() {
    let ci = |pattern: &str, text: &str| Regex::new(pattern, true).is_ok_and(|regex| regex.is_match(text));
    assert!(ci("^ADMIN", "admin-1"));
    assert!(ci("^[a-c]+$", "AbC"));
    assert!(!ci("^é$", "É"));
    assert!(matches("(?i)a(?-i)b", "Ab"));
    assert!(!matches("(?i)a(?-i)b", "AB"));
    assert!(matches("(?i:a)b", "Ab"));
    assert!(!matches("(?i:a)B", "Ab"));
    // regex-lite's rule: a range gains the counterpart of its lower-case part only.
    assert!(matches("(?i)^[Z-a]$", "A"));
    assert!(!matches("(?i)^[Z-a]$", "z"));
}

#[test]
fn lines_and_word_boundaries() {
    assert!(matches("(?m)^b$", "a\nb\nc"));
    assert!(!matches("^b$", "a\nb\nc"));
    assert!(matches("(?mR)^b$", "a\r\nb\r\nc"));
    assert!(!matches("(?m)^b$", "a\r\nb\r\nc"));
    assert!(matches("\\bcat\\b", "a cat sat"));
    assert!(!matches("\\bcat\\b", "concatenate"));
    assert!(matches("\\Bcat\\B", "concatenate"));
    assert!(matches("\\<cat\\>", "cat"));
    assert!(matches("\\b{start}c", "c"));
    assert!(!matches("a\\b{end-half}", "ab"));
    // Non-ASCII letters are not word characters.
    assert!(!matches("\\bé", "é"));
    assert!(matches("\\Bé", "é"));
    assert!(matches("\\b{2}a", "a"));
}

#[test]
fn verbose_mode_ignores_space_and_comments() {
    assert!(matches("(?x) a b # comment\n c", "abc"));
    assert!(matches("(?x) a\\ b", "a b"));
    assert!(matches("(?x)[a - c]", "b"));
    assert!(matches("a{ 2 , 3 }", "aa"));
}

#[test]
fn refusals_say_what_and_where() {
    assert_eq!(refused("("), "unclosed group: `(` without `)` (at byte 1)");
    assert_eq!(refused("ab)"), "`)` without `(` (at byte 2)");
    assert_eq!(refused("a{3,2}"), "counted repetition `{n,m}` with m < n (at byte 6)");
    for pattern in [
        "*",
        "a**{",
        "[a",
        "[z-a]",
        "[a&&b]",
        "[[a]]",
        "(?=a)",
        "\\1",
        "\\pL",
        "\\q",
        "(?z)",
        "(?ii)",
        "(?i-)",
        "(?)",
        "(?<>a)",
        "(?<n>a)(?<n>b)",
        "\\x{110000}",
        "\\xZ1",
        "[\\d-z]",
        "\\b{middle}",
        "a{,2}",
        "x{4294967296}",
        "\\",
        "[\\b]",
        "(?i)[\\x41-\\x5A]",
    ] {
        assert!(Regex::new(pattern, false).is_err(), "{pattern:?} accepted");
    }
}

#[test]
fn nesting_and_size_are_limited_the_same_on_every_target() {
    let nested = |depth: usize| format!("{}a{}", "(".repeat(depth), ")".repeat(depth));
    assert!(Regex::new(&nested(50), false).is_ok());
    assert!(Regex::new(&nested(51), false).is_err());
    assert!(Regex::new(&format!("a{}", "*".repeat(50)), false).is_ok());
    assert!(Regex::new(&format!("a{}", "*".repeat(51)), false).is_err());
    // x{0} drops what it repeats, as deep as it is.
    assert!(Regex::new(&format!("a{}{{0}}", "*".repeat(60)), false).is_ok());

    // The states are the repeated one and the match.
    // `^`, the repeated state and the match.
    let most = super::program::MAX_STATES - 2;
    assert!(matches(&format!("^a{{{most}}}"), &"a".repeat(most)));
    assert!(!matches(&format!("^a{{{most}}}"), &"a".repeat(most - 1)));
    assert!(refused(&format!("^a{{{}}}", most + 1)).starts_with("pattern too large"));
    assert!(Regex::new("a{1000}{1000}{1000}", false).is_err());
    assert!(Regex::new("(?:){4294967295}", false).is_ok());
    assert!(Regex::new("(?:a?){0,4294967295}", false).is_err());
}

#[test]
fn searching_a_long_text_is_linear() {
    // (a*)*b against many `a`s: exponential for a backtracker.
    let regex = Regex::new("^(a*)*b$", false).unwrap();
    assert!(!regex.is_match(&"a".repeat(100_000)));
    assert!(regex.is_match(&format!("{}b", "a".repeat(100_000))));
}
