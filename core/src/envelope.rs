//! The DSSE envelope: what is signed and how it travels (`docs/SPEC.md` section 2).

use serde::Serialize;
use std::borrow::Cow;

use crate::json::{JsonError, Reader};
use crate::model::{list, required, Members};

use crate::{Error, SigningKey};

/// The one payload type Pennon signs and accepts.
pub const PAYLOAD_TYPE: &str = "application/vnd.pennon.snapshot+json";

/// Most signatures an envelope may carry; more is refused before any is checked.
pub(crate) const MAX_SIGNATURES: usize = 64;

/// An envelope as written by [`sign_envelope`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvelopeOut {
    payload_type: &'static str,
    payload: String,
    signatures: Vec<SignatureOut>,
}

#[derive(Serialize)]
struct SignatureOut {
    keyid: String,
    sig: String,
}

/// An envelope as read: its strings borrowed from the envelope text.
pub(crate) struct Envelope<'a> {
    pub(crate) payload_type: Cow<'a, str>,
    pub(crate) payload: Cow<'a, str>,
    /// Key id and base64 signature, in envelope order.
    pub(crate) signatures: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// Reads `{"payloadType", "payload", "signatures": [{"keyid", "sig"}]}`, refusing
/// unknown, repeated and missing members. The payload, nearly all of the bytes, is
/// borrowed, not copied.
pub(crate) fn parse_envelope(bytes: &[u8]) -> Result<Envelope<'_>, Error> {
    let malformed = |e: JsonError| Error::MalformedEnvelope(format!("not a DSSE envelope: {}", e.describe()));
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::MalformedEnvelope(format!("not a DSSE envelope: not UTF-8 after byte {}", e.valid_up_to()))
    })?;
    let mut reader = Reader::new(text, 8);
    let mut members = Members::new(&["payloadType", "payload", "signatures"]);
    let (mut payload_type, mut payload, mut signatures) = (None, None, None);
    reader
        .object(|reader, name| {
            let read = match members.admit(&name)? {
                0 => reader.string().map(|text| payload_type = Some(text)),
                1 => reader.string().map(|text| payload = Some(text)),
                _ => list(reader, signature).map(|list| signatures = Some(list)),
            };
            read.map_err(|e| e.within_member(&name))
        })
        .and_then(|()| reader.finish())
        .map_err(malformed)?;
    Ok(Envelope {
        payload_type: required(payload_type, "payloadType").map_err(malformed)?,
        payload: required(payload, "payload").map_err(malformed)?,
        signatures: required(signatures, "signatures").map_err(malformed)?,
    })
}

fn signature<'a>(reader: &mut Reader<'a>) -> Result<(Cow<'a, str>, Cow<'a, str>), JsonError> {
    let mut members = Members::new(&["keyid", "sig"]);
    let (mut keyid, mut sig) = (None, None);
    reader.object(|reader, name| {
        let slot = if members.admit(&name)? == 0 { &mut keyid } else { &mut sig };
        *slot = Some(reader.string().map_err(|e| e.within_member(&name))?);
        Ok(())
    })?;
    Ok((required(keyid, "keyid")?, required(sig, "sig")?))
}

/// DSSE's pre-authentication encoding: binds the payload type to the exact bytes.
pub(crate) fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let header = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), body.len());
    let mut out = Vec::with_capacity(header.len() + body.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(body);
    out
}

/// Signs `payload` with every key given and returns the envelope as JSON bytes.
///
/// ```
/// let key = pennon_core::SigningKey::from_seed([7; 32]);
/// let envelope = pennon_core::sign_envelope(b"{}", &[&key]).unwrap();
/// assert!(std::str::from_utf8(&envelope).unwrap().contains(key.public_key().key_id()));
/// ```
pub fn sign_envelope(payload: &[u8], keys: &[&SigningKey]) -> Result<Vec<u8>, Error> {
    if keys.is_empty() || keys.len() > MAX_SIGNATURES {
        return Err(Error::InvalidKey(format!("sign with 1 to {MAX_SIGNATURES} keys")));
    }
    for (i, key) in keys.iter().enumerate() {
        let key_id = key.public_key().key_id();
        if keys[..i].iter().any(|other| other.public_key().key_id() == key_id) {
            return Err(Error::InvalidKey(format!("key {key_id} is given twice: verifiers refuse a repeated keyid")));
        }
    }
    let message = pae(PAYLOAD_TYPE, payload);
    let envelope = EnvelopeOut {
        payload_type: PAYLOAD_TYPE,
        payload: crate::base64::encode(payload),
        signatures: keys
            .iter()
            .map(|key| SignatureOut {
                keyid: key.public_key().key_id().to_owned(),
                sig: crate::base64::encode(&key.sign(&message)),
            })
            .collect(),
    };
    serde_json::to_vec(&envelope).map_err(|e| Error::MalformedEnvelope(e.to_string()))
}

/// The signed message, [`pae`] of the payload, decoded from base64 straight after
/// its header: the payload (megabytes, for a large snapshot) is written once, not
/// decoded and then copied. Returns the message and where the payload starts in it.
pub(crate) fn decode_signed_message(payload_base64: &str) -> Option<(Vec<u8>, usize)> {
    let unpadded = payload_base64.trim_end_matches('=').len();
    let length = unpadded / 4 * 3 + (unpadded % 4).saturating_sub(1);
    let header = format!("DSSEv1 {} {PAYLOAD_TYPE} {length} ", PAYLOAD_TYPE.len());
    // The decoder sizes its output by base64's estimate, up to 2 bytes over `length`:
    // reserve that, or it reallocates to twice the payload.
    let estimate = payload_base64.len().div_ceil(4) * 3;
    let mut message = Vec::with_capacity(header.len() + estimate.max(length));
    message.extend_from_slice(header.as_bytes());
    let decoded = crate::base64::decode_into(payload_base64, &mut message);
    // A length that does not match means the text was not base64 of `length` bytes.
    (decoded && message.len() == header.len() + length).then_some((message, header.len()))
}
