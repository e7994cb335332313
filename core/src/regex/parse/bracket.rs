//! Bracketed classes: `[a-z]`, `[^...]`, `[[:alpha:]]`, escapes inside.

use super::{Item, Parser};
use crate::regex::class::{self, Ranges};
use crate::regex::RegexError;

impl Parser<'_> {
    /// At `[`: a bracketed class.
    pub(super) fn class(&mut self) -> Result<Ranges, RegexError> {
        let unclosed = "unclosed class: `[` without `]`";
        let mut set = Ranges::new();
        if !self.bump_and_bump_space() {
            return Err(self.error(unclosed));
        }
        let negated = self.is('^');
        if negated && !self.bump_and_bump_space() {
            return Err(self.error(unclosed));
        }
        // Leading `-`s, and then a `]` first of all, are literal.
        while self.is('-') {
            class::insert(&mut set, u32::from('-'), u32::from('-'));
            if !self.bump_and_bump_space() {
                return Err(self.error(unclosed));
            }
        }
        if set.is_empty() && self.is(']') {
            class::insert(&mut set, u32::from(']'), u32::from(']'));
            if !self.bump_and_bump_space() {
                return Err(self.error(unclosed));
            }
        }
        loop {
            self.bump_space();
            let Some(c) = self.current() else {
                return Err(self.error(unclosed));
            };
            let twice = self.peek() == Some(c);
            match c {
                '[' => match self.posix_class() {
                    Some(posix) => posix.iter().for_each(|&(lo, hi)| class::insert(&mut set, lo, hi)),
                    None => return Err(self.error("nested classes are not supported")),
                },
                ']' => {
                    self.bump();
                    if self.flags.case_insensitive {
                        class::fold_ascii(&mut set);
                    }
                    return Ok(if negated { class::negate(&set) } else { set });
                }
                '&' | '-' | '~' if twice => {
                    return Err(self.error("class set operations (`&&`, `--`, `~~`) are not supported"))
                }
                _ => self.class_range(&mut set)?,
            }
        }
    }

    /// One class item, or a range `a-z` of two literal items.
    fn class_range(&mut self, set: &mut Ranges) -> Result<(), RegexError> {
        let first = self.class_item()?;
        self.bump_space();
        if self.done() {
            return Err(self.error("unclosed class: `[` without `]`"));
        }
        let after_dash = self.peek_space();
        if !self.is('-') || after_dash == Some(']') || after_dash == Some('-') {
            return match first {
                Item::Char(c) => {
                    class::insert(set, u32::from(c), u32::from(c));
                    Ok(())
                }
                Item::Set(ranges) => {
                    ranges.into_iter().for_each(|(lo, hi)| class::insert(set, lo, hi));
                    Ok(())
                }
                Item::Look(_) => Err(self.error("an assertion cannot be in a class")),
            };
        }
        if !self.bump_and_bump_space() {
            return Err(self.error("unclosed class: `[` without `]`"));
        }
        let last = self.class_item()?;
        let (Item::Char(lo), Item::Char(hi)) = (first, last) else {
            return Err(self.error("a class range must be between two single characters"));
        };
        if lo > hi {
            return Err(self.error("class range out of order"));
        }
        class::insert(set, u32::from(lo), u32::from(hi));
        Ok(())
    }

    /// A literal character (never case-folded here) or an escape.
    fn class_item(&mut self) -> Result<Item, RegexError> {
        let c = self.current().unwrap_or_default();
        self.bump();
        if c == '\\' {
            self.escape()
        } else {
            Ok(Item::Char(c))
        }
    }

    /// At `[` inside a class: `[:name:]` or `[:^name:]`, read verbatim; `None` (and no
    /// move) when it is not one.
    fn posix_class(&mut self) -> Option<Ranges> {
        let rest = self.pattern[self.pos + 1..].strip_prefix(':')?;
        let (negated, rest) = match rest.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let name = &rest[..rest.find(':')?];
        if !rest[name.len()..].starts_with(":]") {
            return None;
        }
        let mut set = Ranges::new();
        class::insert_all(&mut set, class::posix(name)?);
        self.pos = self.pattern.len() - rest.len() + name.len() + 2;
        Some(if negated { class::negate(&set) } else { set })
    }

    /// The character after the current one, past white space in verbose mode. A `#`
    /// ends the skipping at the first character that is not white space, even inside
    /// the comment, and all white space gives the character right after the current
    /// one: `regex-lite`'s rule, which decides whether `-` in a class makes a range.
    fn peek_space(&self) -> Option<char> {
        if !self.flags.verbose {
            return self.peek();
        }
        let after = self.pos + self.current()?.len_utf8();
        let rest = &self.pattern[after..];
        let mut in_comment = false;
        let mut skip = 0;
        for (i, c) in rest.char_indices() {
            if c.is_whitespace() {
                continue;
            } else if !in_comment && c == '#' {
                in_comment = true;
            } else {
                skip = i;
                break;
            }
        }
        rest[skip..].chars().next()
    }
}
