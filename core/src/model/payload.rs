//! The top level of a payload, read in one pass with the order of checks kept.
//!
//! `docs/SPEC.md` section 2.3 checks the header (step 5) before the flags (step 10),
//! so that a rollback or a foreign environment is reported as such even when the
//! flags are also wrong. Reading everything in one pass keeps that order by deferring:
//! a shape error inside `flags` or `segments` is held back, the member is re-read for
//! syntax only, and the held error is returned after the header checks pass.

use std::hash::{Hash, Hasher};

use super::flag::{flag, segment};
use super::{required, sort_unique, Keyed, Members, RawFlag, RawSegment, Text};
use crate::json::{JsonError, Reader};
use crate::verify::{Audience, MAX_VERSION};

/// The members checked before the rest: they decide whether the rest matters.
pub(crate) struct Header<'a> {
    pub(crate) schema: u64,
    pub(crate) environment: Text<'a>,
    /// Absent in the payload: [`Audience::Server`].
    pub(crate) audience: Audience,
    pub(crate) version: u64,
    pub(crate) issued_at: Text<'a>,
    pub(crate) expires_at: Text<'a>,
}

/// Receives the body as it is read: each flag at once (so a 10,000-flag payload is never
/// held as raw structures), and the segments when their member ends.
pub(crate) trait Body<'a> {
    /// Whether to read flags and segments at all (else they are checked for syntax).
    fn wants_body(&self) -> bool {
        true
    }
    /// Called once when the body starts after the whole header (as Pennon's control
    /// plane writes it): `false` skips the body, checking its syntax only, because the
    /// header alone already refuses the snapshot (a replayed old version, another
    /// environment, an expired one) and compiling it would be wasted.
    fn header_read(&mut self, _header: &Header<'a>) -> bool {
        true
    }
    fn flag(&mut self, key: Text<'a>, flag: RawFlag<'a>, fingerprint: u64);
    fn segments(&mut self, segments: Vec<Keyed<'a, RawSegment<'a>>>);
}

/// A payload read in one pass: the header, and the first shape error of the body.
pub(crate) struct Parsed<'a> {
    pub(crate) header: Header<'a>,
    /// Step 10's error, held back until steps 6 to 9 pass. What `body` received is
    /// then incomplete and must be discarded.
    pub(crate) shape_error: Option<JsonError>,
}

/// Reads a payload, handing flags and segments to `body`. An `Err` is a syntax, depth
/// or header error (step 5). `body` is a trait object: the verifier reads payloads with
/// two bodies (the header alone, and the compiler), and one copy of this reader is
/// 1.9 KB less of the WebAssembly module than two, for a dynamic call per flag.
pub(crate) fn parse_payload<'a>(
    text: &'a str,
    max_depth: usize,
    body: &mut dyn Body<'a>,
) -> Result<Parsed<'a>, JsonError> {
    const NAMES: &[&str] =
        &["schema", "environment", "version", "issued_at", "expires_at", "audience", "flags", "segments"];
    let mut reader = Reader::new(text, max_depth);
    let mut members = Members::new(NAMES);
    let (mut schema, mut environment, mut version, mut issued_at, mut expires_at) = (None, None, None, None, None);
    let mut audience = Audience::Server;
    let mut has_flags = false;
    let mut header_judged = false;
    let mut skip_body = false;
    let mut deferred: Option<JsonError> = None;
    if reader.peek() != Some(b'{') {
        // Syntax and depth come first: skipping checks both.
        let error = reader.type_error("an object");
        reader.skip()?;
        return Err(error);
    }
    reader.object(|reader, name| {
        let index = match members.admit(&name) {
            Ok(index) => index,
            // A repeated header member is a header error; anything else waits.
            Err(error) if NAMES[..6].contains(&&*name) => return Err(error),
            Err(error) => {
                deferred.get_or_insert(error);
                return reader.skip();
            }
        };
        let header = |e: JsonError| e.within_member(&name);
        match index {
            0 => schema = Some(reader.unsigned(u64::MAX).map_err(header)?),
            1 => environment = Some(reader.string().map_err(header)?),
            // Any u64, so that one past the highest is refused by `check_version` with the
            // message 0 gets; what is no integer at all states the range that check keeps.
            2 => version = Some(reader.unsigned_stated(u64::MAX, (1, MAX_VERSION)).map_err(header)?),
            3 => issued_at = Some(reader.string().map_err(header)?),
            4 => expires_at = Some(reader.string().map_err(header)?),
            5 => audience = audience_of(&reader.string().map_err(header)?).map_err(header)?,
            6 | 7 if !header_judged => {
                header_judged = true;
                if let (Some(schema), Some(environment), Some(version), Some(issued_at), Some(expires_at)) =
                    (schema, &environment, version, &issued_at, &expires_at)
                {
                    // An `audience` after `flags` is not read yet: the gate does not
                    // judge it (`verify.rs`), so this default cannot skip a body.
                    let header = Header {
                        schema,
                        environment: environment.clone(),
                        audience,
                        version,
                        issued_at: issued_at.clone(),
                        expires_at: expires_at.clone(),
                    };
                    skip_body = !body.header_read(&header);
                }
                return read_body(reader, index, &mut has_flags, &mut deferred, skip_body, body);
            }
            _ => return read_body(reader, index, &mut has_flags, &mut deferred, skip_body, body),
        }
        Ok(())
    })?;
    reader.finish()?;
    let header = Header {
        schema: required(schema, "schema")?,
        environment: required(environment, "environment")?,
        audience,
        version: required(version, "version")?,
        issued_at: required(issued_at, "issued_at")?,
        expires_at: required(expires_at, "expires_at")?,
    };
    if !has_flags {
        deferred.get_or_insert(JsonError::new("missing member `flags`"));
    }
    Ok(Parsed { header, shape_error: deferred })
}

/// The `audience` header member (SPEC 3.1).
fn audience_of(text: &str) -> Result<Audience, JsonError> {
    match text {
        "server" => Ok(Audience::Server),
        "client" => Ok(Audience::Client),
        _ => Err(JsonError::new("must be `server` or `client`")),
    }
}

/// Reads member `flags` (index 6) or `segments` (7) into `body`, or skips it.
fn read_body<'a>(
    reader: &mut Reader<'a>,
    index: usize,
    has_flags: &mut bool,
    deferred: &mut Option<JsonError>,
    skip: bool,
    body: &mut dyn Body<'a>,
) -> Result<(), JsonError> {
    *has_flags |= index == 6;
    if deferred.is_some() || skip || !body.wants_body() {
        return reader.skip();
    }
    if index == 6 {
        let mut read = |reader: &mut Reader<'a>| {
            keyed_map(reader, flag, |key, flag, fingerprint| body.flag(key, flag, fingerprint))
        };
        return body_member(reader, "flags", deferred, &mut read);
    }
    let mut read = |reader: &mut Reader<'a>| {
        let mut segments = Vec::new();
        keyed_map(reader, segment, |key, value, fingerprint| segments.push(Keyed { key, value, fingerprint }))?;
        sort_unique(&mut segments, |entry| &entry.key)?;
        body.segments(segments);
        Ok(())
    };
    body_member(reader, "segments", deferred, &mut read)
}

/// Reads `flags` or `segments` strictly; on a shape error, keeps it in `deferred` and
/// re-reads the member for syntax alone, which fails at once if the syntax is wrong.
fn body_member<'a>(
    reader: &mut Reader<'a>,
    name: &str,
    deferred: &mut Option<JsonError>,
    read: &mut dyn FnMut(&mut Reader<'a>) -> Result<(), JsonError>,
) -> Result<(), JsonError> {
    let mark = reader.mark();
    if let Err(error) = read(reader) {
        *deferred = Some(error.within(name));
        reader.reset(mark);
        reader.skip()?;
    }
    Ok(())
}

/// An object of keyed entries, each handed to `each` with a fingerprint of its text.
fn keyed_map<'a, T>(
    reader: &mut Reader<'a>,
    read: fn(&mut Reader<'a>) -> Result<T, JsonError>,
    mut each: impl FnMut(Text<'a>, T, u64),
) -> Result<(), JsonError> {
    reader.object(|reader, key| {
        reader.peek();
        let start = reader.offset();
        let value = read(reader).map_err(|e| e.within_key(&key))?;
        let mut hasher = rustc_hash::FxHasher::default();
        reader.slice(start, reader.offset()).hash(&mut hasher);
        each(key, value, hasher.finish());
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the flags it is handed; accepts the header or not.
    struct Counting {
        accept: bool,
        flags: usize,
    }

    impl<'a> Body<'a> for Counting {
        fn header_read(&mut self, _: &Header<'a>) -> bool {
            self.accept
        }
        fn flag(&mut self, _: Text<'a>, _: RawFlag<'a>, _: u64) {
            self.flags += 1;
        }
        fn segments(&mut self, _: Vec<Keyed<'a, RawSegment<'a>>>) {}
    }

    const HEADER: &str = r#""schema":1,"environment":"e","version":2,"issued_at":"2026-01-01T00:00:00Z","expires_at":"2027-01-01T00:00:00Z""#;
    const FLAG: &str =
        r#"{"type":"boolean","enabled":true,"variants":{"on":true},"off_variant":"on","fallthrough":{"variant":"on"}}"#;

    #[test]
    fn a_header_refused_up_front_skips_the_body_but_not_its_syntax() {
        let text = format!(r#"{{{HEADER},"flags":{{"a":{FLAG},"b":{FLAG}}}}}"#);
        for accept in [true, false] {
            let mut body = Counting { accept, flags: 0 };
            let parsed = parse_payload(&text, 64, &mut body).expect("well-formed");
            assert_eq!((body.flags, parsed.shape_error.is_none()), (if accept { 2 } else { 0 }, true));
        }
        let broken = format!(r#"{{{HEADER},"flags":{{"a":{FLAG},"b":[}}}}"#);
        assert!(parse_payload(&broken, 64, &mut Counting { accept: false, flags: 0 }).is_err());
    }
}
