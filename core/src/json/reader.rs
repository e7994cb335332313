//! A strict JSON reader over borrowed text (RFC 8259), written for signed payloads.
//!
//! Why not serde_json: a 10,000-flag payload is mostly short strings and small objects,
//! and building owned trees of them dominated load time. This reader borrows every
//! string without escapes, checks nesting depth as it descends (so no recursion can
//! exhaust the stack), and leaves the shape to the callers in `model`, which know what
//! each member must be and say where it was wrong.

use std::borrow::Cow;

use super::JsonError;

/// A loop's callback for each member (with its name or name index) or item (with its
/// index), in WebAssembly builds (see `Reader::object_of_names`).
#[cfg(target_arch = "wasm32")]
pub(crate) type Member<'f, 'a, N> = dyn FnMut(&mut Reader<'a>, N) -> Result<(), JsonError> + 'f;
/// A loop's reader of member names, in WebAssembly builds.
#[cfg(target_arch = "wasm32")]
type Name<'f, 'a, N> = dyn FnMut(&mut Reader<'a>) -> Result<N, JsonError> + 'f;

/// A cursor over JSON text that is already known to be UTF-8.
pub(crate) struct Reader<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
    max_depth: usize,
}

/// "unknown member `x`, expected one of `a`, `b`".
#[cold]
pub(crate) fn unknown_member(name: &str, names: &[&str]) -> JsonError {
    let name = crate::shown::shown(name);
    JsonError::new(format!("unknown member `{name}`, expected one of `{}`", names.join("`, `")))
}

/// The value of a run of ASCII digits, if it fits a `u64`; `None` for any other text
/// (a sign included). Written out: the standard library's parsers for `u64` and `i64`
/// were 1.6 KB of the WebAssembly module.
pub(crate) fn digits_value(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u64, |value, byte| {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Bytes that end a fast scan through a string: a quote, a backslash or a control byte.
fn is_string_special(byte: u8) -> bool {
    (byte == b'"') | (byte == b'\\') | (byte < 0x20)
}

/// The high bit of each byte of `word` that is special ([`is_string_special`]), by the
/// classic "has a zero byte" and "has a byte below n" word tricks. Bits above the
/// first special byte may be spurious (borrows travel upward); the lowest is exact.
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    below_space | zero_bytes(word ^ (ONES * u64::from(b'"'))) | zero_bytes(word ^ (ONES * u64::from(b'\\')))
}

impl<'a> Reader<'a> {
    /// Nesting beyond this is refused whatever the limits say: readers recurse once
    /// per level, and the stack of a wasm instance is small.
    pub(crate) const MAX_NESTING: usize = 512;

    pub(crate) fn new(text: &'a str, max_depth: usize) -> Reader<'a> {
        Reader { text, at: 0, depth: 0, max_depth: max_depth.min(Reader::MAX_NESTING) }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Where the cursor is, to come back to with [`Reader::reset`].
    pub(crate) fn mark(&self) -> (usize, usize) {
        (self.at, self.depth)
    }

    pub(crate) fn reset(&mut self, (at, depth): (usize, usize)) {
        self.at = at;
        self.depth = depth;
    }

    /// The byte offset of the cursor.
    pub(crate) fn offset(&self) -> usize {
        self.at
    }

    /// The text between two offsets this reader produced (value boundaries).
    pub(crate) fn slice(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or_default()
    }

    /// A syntax error at the cursor, with line and column for humans.
    #[cold]
    pub(crate) fn error(&self, message: impl Into<String>) -> JsonError {
        let before = &self.bytes()[..self.at.min(self.text.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        JsonError::new(format!("{} at line {line} column {column}", message.into()))
    }

    /// Skips whitespace and returns the next byte without consuming it.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        while let Some(&byte) = self.bytes().get(self.at) {
            if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(byte);
            }
            self.at += 1;
        }
        None
    }

    fn eat(&mut self, expected: u8, what: &str) -> Result<(), JsonError> {
        if self.peek() == Some(expected) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected {what}")))
        }
    }

    /// Fails unless only whitespace is left.
    pub(crate) fn finish(&mut self) -> Result<(), JsonError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("trailing characters")),
        }
    }

    fn enter(&mut self) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(JsonError::new(format!("JSON nesting is deeper than the limit of {}", self.max_depth)));
        }
        Ok(())
    }

    /// Reads an object, calling `member` with the reader positioned at each value.
    /// `member` must consume the value. Duplicate names are the caller's to refuse.
    #[inline]
    pub(crate) fn object(
        &mut self,
        mut member: impl FnMut(&mut Reader<'a>, Cow<'a, str>) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        #[cfg(target_arch = "wasm32")]
        let member: &mut Member<'_, 'a, Cow<'a, str>> = &mut member;
        #[cfg(target_arch = "wasm32")]
        let name: &mut Name<'_, 'a, Cow<'a, str>> = &mut Reader::string;
        #[cfg(not(target_arch = "wasm32"))]
        let (member, name) = (&mut member, &mut Reader::string);
        self.members(name, member)
    }

    /// Reads an object whose member names must be among `names`, calling `member` with
    /// the reader at each value and the index of its name. Unknown names are refused;
    /// repeated ones are the caller's to refuse.
    #[inline]
    pub(crate) fn object_of(
        &mut self,
        names: &[&str],
        mut member: impl FnMut(&mut Reader<'a>, usize) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        #[cfg(target_arch = "wasm32")]
        let member: &mut Member<'_, 'a, usize> = &mut member;
        #[cfg(not(target_arch = "wasm32"))]
        let member = &mut member;
        self.object_of_names(names, member)
    }

    /// How the loops below get their callbacks: in WebAssembly as `&mut dyn FnMut`, so
    /// each loop is compiled once (a copy per caller was 4 KB of the gzipped module);
    /// natively as each caller's own closure, inlined (loading 10,000 flags ~10% faster).
    fn object_of_names<F>(&mut self, names: &[&str], member: &mut F) -> Result<(), JsonError>
    where
        F: FnMut(&mut Reader<'a>, usize) -> Result<(), JsonError> + ?Sized,
    {
        let mut name_index = |reader: &mut Reader<'a>| match reader.known_name(names) {
            Some(index) => Ok(index),
            None => {
                let name = reader.string()?;
                names.iter().position(|known| *known == name).ok_or_else(|| unknown_member(&name, names))
            }
        };
        #[cfg(target_arch = "wasm32")]
        let name_index: &mut Name<'_, 'a, usize> = &mut name_index;
        #[cfg(not(target_arch = "wasm32"))]
        let name_index = &mut name_index;
        self.members(name_index, member)
    }

    /// The index of the name at the cursor among `names`, consumed, when it is written
    /// without escapes: a byte comparison, with no string to scan or build.
    #[inline]
    fn known_name(&mut self, names: &[&str]) -> Option<usize> {
        let rest = self.bytes().get(self.at + 1..)?;
        let index = names.iter().position(|name| {
            let name = name.as_bytes();
            rest.first() == name.first() && rest.get(name.len()) == Some(&b'"') && rest.starts_with(name)
        })?;
        self.at += names[index].len() + 2;
        Some(index)
    }

    fn members<N, Name, Member>(&mut self, name: &mut Name, member: &mut Member) -> Result<(), JsonError>
    where
        Name: FnMut(&mut Reader<'a>) -> Result<N, JsonError> + ?Sized,
        Member: FnMut(&mut Reader<'a>, N) -> Result<(), JsonError> + ?Sized,
    {
        if self.peek() != Some(b'{') {
            return Err(self.type_error("an object"));
        }
        self.at += 1;
        self.enter()?;
        if self.peek() == Some(b'}') {
            self.at += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a member name"));
            }
            let name = name(self)?;
            self.eat(b':', "`:`")?;
            member(self, name)?;
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    /// Reads an array, calling `item` with each index and the reader at the item.
    #[inline]
    pub(crate) fn array(
        &mut self,
        mut item: impl FnMut(&mut Reader<'a>, usize) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        #[cfg(target_arch = "wasm32")]
        let item: &mut Member<'_, 'a, usize> = &mut item;
        #[cfg(not(target_arch = "wasm32"))]
        let item = &mut item;
        self.items(item)
    }

    fn items<F>(&mut self, item: &mut F) -> Result<(), JsonError>
    where
        F: FnMut(&mut Reader<'a>, usize) -> Result<(), JsonError> + ?Sized,
    {
        if self.peek() != Some(b'[') {
            return Err(self.type_error("an array"));
        }
        self.at += 1;
        self.enter()?;
        if self.peek() == Some(b']') {
            self.at += 1;
            self.depth -= 1;
            return Ok(());
        }
        let mut index = 0;
        loop {
            item(self, index)?;
            index += 1;
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    /// "expected X, found a number": what was found, without consuming it. Text that
    /// is no JSON value (an HTML page, a proxy's `not found`) is said to be so, with
    /// where, rather than named after its first byte: `not found` is not null.
    pub(crate) fn type_error(&mut self, expected: &str) -> JsonError {
        let rest = &self.bytes()[self.at.min(self.text.len())..];
        let literal = |word: &str| {
            let rest = rest.trim_ascii_start();
            rest.starts_with(word.as_bytes()) && !rest.get(word.len()).is_some_and(u8::is_ascii_alphanumeric)
        };
        let found = match self.peek() {
            Some(b'{') => "an object",
            Some(b'[') => "an array",
            Some(b'"') => "a string",
            Some(b't') if literal("true") => "a bool",
            Some(b'f') if literal("false") => "a bool",
            Some(b'n') if literal("null") => "null",
            Some(b'-' | b'0'..=b'9') => "a number",
            None => return self.error(format!("expected {expected}, found the end of the text")),
            Some(_) => return self.error(format!("expected {expected}, found text that is not JSON")),
        };
        JsonError::new(format!("expected {expected}, found {found}"))
    }

    /// Consumes `null` if it comes next.
    pub(crate) fn null(&mut self) -> Result<bool, JsonError> {
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        self.literal("null")?;
        Ok(true)
    }

    fn literal(&mut self, word: &str) -> Result<(), JsonError> {
        if self.bytes()[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(())
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    pub(crate) fn bool(&mut self) -> Result<bool, JsonError> {
        match self.peek() {
            Some(b't') => self.literal("true").map(|()| true),
            Some(b'f') => self.literal("false").map(|()| false),
            _ => Err(self.type_error("a bool")),
        }
    }

    /// Reads a string, borrowing it unless it has escapes.
    #[inline]
    pub(crate) fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        if self.peek() != Some(b'"') {
            return Err(self.type_error("a string"));
        }
        let start = self.at + 1;
        if let Some(end) = self.short_string_end(start) {
            self.at = end + 1;
            return Ok(Cow::Borrowed(self.slice(start, end)));
        }
        self.at = start;
        self.long_string()
    }

    /// Where a string starting at `start` ends, if its closing quote is within its
    /// first 16 bytes with nothing special before it. Most strings of a payload (member
    /// names, variants, list items) are shorter than 16 bytes: one test, no call.
    #[inline]
    fn short_string_end(&self, start: usize) -> Option<usize> {
        let special_at = |at: usize| {
            let word = self.bytes().get(at..)?.first_chunk::<8>()?;
            let special = special_bytes(u64::from_le_bytes(*word));
            Some((special != 0).then(|| at + (special.trailing_zeros() / 8) as usize))
        };
        let end = match special_at(start)? {
            Some(end) => end,
            None => special_at(start + 8)??,
        };
        (self.bytes().get(end) == Some(&b'"')).then_some(end)
    }

    /// [`Reader::string`] past its first 16 bytes, with the cursor after the opening quote.
    fn long_string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        let start = self.at;
        self.scan_plain();
        match self.bytes().get(self.at) {
            Some(b'"') => {
                let text = self.slice(start, self.at);
                self.at += 1;
                Ok(Cow::Borrowed(text))
            }
            Some(b'\\') => {
                let mut owned = String::from(self.slice(start, self.at));
                self.escaped_rest(&mut owned)?;
                Ok(Cow::Owned(owned))
            }
            Some(_) => Err(self.error("control character in a string")),
            None => Err(self.error("unterminated string")),
        }
    }

    /// Advances over string bytes until a quote, backslash or control byte, eight
    /// bytes at a time.
    fn scan_plain(&mut self) {
        let bytes = self.bytes();
        let word_at = |at: usize| bytes.get(at..).and_then(<[u8]>::first_chunk::<8>).map(|w| u64::from_le_bytes(*w));
        let mut at = self.at;
        let mut clean_words = 0;
        while let Some(word) = word_at(at) {
            let special = special_bytes(word);
            if special != 0 {
                self.at = at + (special.trailing_zeros() / 8) as usize;
                return;
            }
            at += 8;
            clean_words += 1;
            if clean_words == 2 {
                // A long string (an envelope's payload is megabytes of base64): test
                // 64-byte blocks without branching, which the compiler vectorises.
                while let Some(block) = bytes.get(at..).and_then(<[u8]>::first_chunk::<64>) {
                    if block.iter().fold(false, |found, &b| found | is_string_special(b)) {
                        break;
                    }
                    at += 64;
                }
            }
        }
        while bytes.get(at).is_some_and(|&b| !is_string_special(b)) {
            at += 1;
        }
        self.at = at;
    }

    /// Decodes the rest of a string that has escapes, from the first backslash.
    fn escaped_rest(&mut self, out: &mut String) -> Result<(), JsonError> {
        loop {
            match self.bytes().get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape(out)?;
                }
                Some(_) => {
                    let start = self.at;
                    self.scan_plain();
                    if start == self.at {
                        return Err(self.error("control character in a string"));
                    }
                    out.push_str(self.slice(start, self.at));
                }
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let Some(&kind) = self.bytes().get(self.at) else { return Err(self.error("unterminated string")) };
        self.at += 1;
        let simple = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                let code = match unit {
                    0xD800..=0xDBFF => {
                        if !self.bytes()[self.at..].starts_with(b"\\u") {
                            return Err(self.error("lone leading surrogate in a \\u escape"));
                        }
                        self.at += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(self.error("lone leading surrogate in a \\u escape"));
                        }
                        0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(self.error("lone trailing surrogate in a \\u escape")),
                    _ => unit,
                };
                char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))?
            }
            _ => return Err(self.error("invalid escape")),
        };
        out.push(simple);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self.bytes().get(self.at..self.at + 4).ok_or_else(|| self.error("short \\u escape"))?;
        let mut value = 0;
        for &digit in digits {
            let nibble = char::from(digit).to_digit(16).ok_or_else(|| self.error("invalid \\u escape"))?;
            value = value * 16 + nibble;
        }
        self.at += 4;
        Ok(value)
    }

    /// Reads a number's text, checked against JSON's grammar. The flag says whether it
    /// is an integer (no fraction, no exponent).
    pub(crate) fn number_text(&mut self) -> Result<(&'a str, bool), JsonError> {
        if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
            return Err(self.type_error("a number"));
        }
        let bytes = self.bytes();
        let start = self.at;
        let digits = |at: &mut usize| {
            let from = *at;
            while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at - from
        };
        let mut at = start;
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        let first = bytes.get(at).copied();
        let integral = digits(&mut at);
        if integral == 0 || (first == Some(b'0') && integral > 1) {
            self.at = at;
            return Err(self.error("invalid number"));
        }
        let mut integer = true;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            integer = false;
            if digits(&mut at) == 0 {
                self.at = at;
                return Err(self.error("invalid number"));
            }
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            integer = false;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            if digits(&mut at) == 0 {
                self.at = at;
                return Err(self.error("invalid number"));
            }
        }
        self.at = at;
        Ok((self.slice(start, at), integer))
    }

    /// Reads a non-negative integer such as a weight, up to `max`.
    pub(crate) fn unsigned(&mut self, max: u64) -> Result<u64, JsonError> {
        self.unsigned_stated(max, (0, max))
    }

    /// Reads a non-negative integer up to `max`; anything else (a fraction, a sign, an
    /// exponent, past `max`) is refused as not an integer of `stated`, the range the
    /// caller enforces on what this reads (a version reads any `u64`, so that one past
    /// its highest gets the message 0 gets, and states 1 to 2^53 - 1).
    pub(crate) fn unsigned_stated(&mut self, max: u64, stated: (u64, u64)) -> Result<u64, JsonError> {
        let (text, integer) = self.number_text()?;
        match digits_value(text) {
            Some(value) if integer && value <= max => Ok(value),
            _ => Err(JsonError::new(format!(
                "`{}` is not an integer from {} to {}",
                crate::shown::shown(text),
                stated.0,
                stated.1
            ))),
        }
    }

    /// Skips one value, as [`Reader::skip`], and returns its item count if it is an
    /// array (0 otherwise).
    pub(crate) fn skip_counting(&mut self) -> Result<usize, JsonError> {
        if self.peek() != Some(b'[') {
            return self.skip().map(|()| 0);
        }
        let mut count = 0;
        self.array(|reader, _| {
            count += 1;
            reader.skip_plain_string().map_or_else(|| reader.skip(), Ok)
        })?;
        Ok(count)
    }

    /// Skips a string without escapes, the usual item of an `in` list, with no
    /// checks beyond the scan; `None` (cursor unmoved) for anything else.
    fn skip_plain_string(&mut self) -> Option<()> {
        if self.bytes().get(self.at) != Some(&b'"') {
            return None;
        }
        let start = self.at;
        if let Some(end) = self.short_string_end(start + 1) {
            self.at = end + 1;
            return Some(());
        }
        self.at += 1;
        self.scan_plain();
        if self.bytes().get(self.at) == Some(&b'"') {
            self.at += 1;
            return Some(());
        }
        self.at = start;
        None
    }

    /// Skips one value of any kind, checking its syntax and depth.
    pub(crate) fn skip(&mut self) -> Result<(), JsonError> {
        match self.peek() {
            Some(b'{') => self.object(|reader, _| reader.skip()),
            Some(b'[') => self.array(|reader, _| reader.skip()),
            Some(b'"') => self.string().map(drop),
            Some(b't' | b'f') => self.bool().map(drop),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => self.number_text().map(drop),
            _ => Err(self.error("expected a JSON value")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(text: &str) -> Result<String, String> {
        Reader::new(text, 8).string().map(Cow::into_owned).map_err(|e| e.message().to_owned())
    }

    #[test]
    fn strings_borrow_decode_and_refuse() {
        assert!(matches!(Reader::new(r#""plain text, long enough""#, 8).string(), Ok(Cow::Borrowed(_))));
        assert_eq!(strings(r#""a\"b\\c\/\n\u00e9\ud83d\ude00""#).as_deref(), Ok("a\"b\\c/\né😀"));
        assert_eq!(strings("\"é and more than eight bytes\"").as_deref(), Ok("é and more than eight bytes"));
        for bad in ["\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\u{1}b\"", "\"abc", "\"\\x\"", "\"\\u12\""]
        {
            assert!(strings(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn numbers_follow_the_grammar() {
        for good in ["0", "-0", "12", "1.5", "1e9", "1E+2", "-3.25e-7"] {
            assert!(Reader::new(good, 8).number_text().is_ok(), "{good}");
        }
        for bad in ["01", "-", "1.", ".5", "1e", "+1", "-a"] {
            let mut reader = Reader::new(bad, 8);
            assert!(reader.number_text().is_err() || reader.finish().is_err(), "{bad}");
        }
    }

    #[test]
    fn depth_is_bounded_without_recursing_past_it() {
        let deep = "[".repeat(100_000);
        let error = Reader::new(&deep, 64).skip().unwrap_err();
        assert!(error.message().contains("nesting"), "{}", error.message());
        assert!(Reader::new("[[[]]]", 3).skip().is_ok());
        assert!(Reader::new("[[[[]]]]", 3).skip().is_err());
    }

    #[test]
    fn text_that_is_not_json_is_not_named_after_its_first_byte() {
        let mut reader = Reader::new("not found", 8);
        assert_eq!(
            reader.type_error("an object").message(),
            "expected an object, found text that is not JSON at line 1 column 1"
        );
        let mut reader = Reader::new("  falsehood", 8);
        assert_eq!(
            reader.type_error("an object").message(),
            "expected an object, found text that is not JSON at line 1 column 3"
        );
        let mut reader = Reader::new(" null", 8);
        assert_eq!(reader.type_error("an object").message(), "expected an object, found null");
        let mut reader = Reader::new("true", 8);
        assert_eq!(reader.type_error("a string").message(), "expected a string, found a bool");
    }

    #[test]
    fn errors_say_where() {
        let error = Reader::new("{\n  \"a\" 1}", 8).skip().unwrap_err();
        assert_eq!(error.message(), "expected `:` at line 2 column 7");
    }
}
