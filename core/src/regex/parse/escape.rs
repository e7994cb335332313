//! After a `\`: literal escapes, Perl classes, assertions and hex code points.

use super::{Item, Parser};
use crate::regex::class;
use crate::regex::tree::Look;
use crate::regex::RegexError;

impl Parser<'_> {
    /// After a `\`.
    pub(super) fn escape(&mut self) -> Result<Item, RegexError> {
        let Some(c) = self.current() else {
            return Err(self.error("pattern ends with a lone `\\`"));
        };
        match c {
            '0'..='9' => return Err(self.error("backreferences and octal escapes are not supported")),
            'p' | 'P' => return Err(self.error("Unicode classes (`\\p`) are not supported")),
            'x' | 'u' | 'U' => return self.hex(c),
            'd' | 's' | 'w' | 'D' | 'S' | 'W' => {
                self.bump();
                return Ok(Item::Set(class::perl(c)));
            }
            _ => {}
        }
        self.bump();
        if is_escapable(c) {
            return Ok(self.literal(c));
        }
        Ok(match c {
            'a' => self.literal('\x07'),
            'f' => self.literal('\x0C'),
            't' => self.literal('\t'),
            'n' => self.literal('\n'),
            'r' => self.literal('\r'),
            'v' => self.literal('\x0B'),
            'A' => Item::Look(Look::Start),
            'z' => Item::Look(Look::End),
            'b' if self.is('{') => Item::Look(self.word_boundary()?.unwrap_or(Look::Word)),
            'b' => Item::Look(Look::Word),
            'B' => Item::Look(Look::NotWord),
            '<' => Item::Look(Look::WordStart),
            '>' => Item::Look(Look::WordEnd),
            _ => return Err(self.error("unknown escape")),
        })
    }

    /// `\b{start}`, `\b{end}`, `\b{start-half}`, `\b{end-half}`; `None` (and no move)
    /// when the brace opens a counted repetition of `\b` instead.
    fn word_boundary(&mut self) -> Result<Option<Look>, RegexError> {
        let open = self.pos;
        let is_name = |c: char| c.is_ascii_alphabetic() || c == '-';
        if !self.bump_and_bump_space() {
            return Err(self.error("unclosed `\\b{`"));
        }
        if !self.current().is_some_and(is_name) {
            self.pos = open;
            return Ok(None);
        }
        let mut name = String::new();
        while let Some(c) = self.current().filter(|&c| is_name(c)) {
            name.push(c);
            self.bump_and_bump_space();
        }
        if !self.is('}') {
            return Err(self.error("unclosed `\\b{`"));
        }
        self.bump();
        Ok(Some(match name.as_str() {
            "start" => Look::WordStart,
            "end" => Look::WordEnd,
            "start-half" => Look::WordStartHalf,
            "end-half" => Look::WordEndHalf,
            _ => return Err(self.error("unknown word boundary `\\b{…}`")),
        }))
    }

    /// `\x7F`, `\u007F`, `\U0000007F`, or any of them with braces: `\x{10FFFF}`.
    fn hex(&mut self, kind: char) -> Result<Item, RegexError> {
        let digits = match kind {
            'x' => 2,
            'u' => 4,
            _ => 8,
        };
        if !self.bump_and_bump_space() {
            return Err(self.error("pattern ends inside a hex escape"));
        }
        let mut value = Some(0u32);
        if self.is('{') {
            let mut any = false;
            while self.bump_and_bump_space() && !self.is('}') {
                let digit = self.hex_digit()?;
                any = true;
                value = value.and_then(|v| v.checked_mul(16)).and_then(|v| v.checked_add(digit));
            }
            if self.done() {
                return Err(self.error("unclosed hex escape `{`"));
            }
            self.bump_and_bump_space();
            if !any {
                return Err(self.error("empty hex escape `{}`"));
            }
        } else {
            for i in 0..digits {
                if i > 0 && !self.bump_and_bump_space() {
                    return Err(self.error("pattern ends inside a hex escape"));
                }
                let digit = self.hex_digit()?;
                value = value.map(|v| v * 16 + digit);
            }
            self.bump_and_bump_space();
        }
        match value.and_then(char::from_u32) {
            Some(c) => Ok(self.literal(c)),
            None => Err(self.error("hex escape is not a Unicode scalar value")),
        }
    }

    fn hex_digit(&self) -> Result<u32, RegexError> {
        self.current().and_then(|c| c.to_digit(16)).ok_or_else(|| self.error("not a hex digit"))
    }
}

/// Characters a `\` makes literal: the meta characters and any other ASCII character
/// but letters, digits, `<` and `>`.
fn is_escapable(c: char) -> bool {
    c.is_ascii() && !c.is_ascii_alphanumeric() && c != '<' && c != '>'
}
