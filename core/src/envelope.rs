//! The DSSE envelope: what is signed and how it travels (`docs/SPEC.md` section 2).

use base64::engine::general_purpose::{GeneralPurpose, STANDARD};
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::{Error, SigningKey};

/// The one payload type Pennon signs and accepts.
pub const PAYLOAD_TYPE: &str = "application/vnd.pennon.snapshot+json";

/// Most signatures an envelope may carry; more is refused before any is checked.
pub(crate) const MAX_SIGNATURES: usize = 64;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Envelope {
    pub(crate) payload_type: String,
    pub(crate) payload: String,
    pub(crate) signatures: Vec<EnvelopeSignature>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnvelopeSignature {
    pub(crate) keyid: String,
    pub(crate) sig: String,
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
    let message = pae(PAYLOAD_TYPE, payload);
    let envelope = Envelope {
        payload_type: PAYLOAD_TYPE.to_owned(),
        payload: STANDARD.encode(payload),
        signatures: keys
            .iter()
            .map(|key| EnvelopeSignature {
                keyid: key.public_key().key_id().to_owned(),
                sig: STANDARD.encode(key.sign(&message)),
            })
            .collect(),
    };
    serde_json::to_vec(&envelope).map_err(|e| Error::MalformedEnvelope(e.to_string()))
}

/// Decodes standard or URL-safe base64, padded or not, as DSSE allows.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    const INDIFFERENT: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let standard = GeneralPurpose::new(&base64::alphabet::STANDARD, INDIFFERENT);
    let url_safe = GeneralPurpose::new(&base64::alphabet::URL_SAFE, INDIFFERENT);
    standard.decode(text).or_else(|_| url_safe.decode(text)).ok()
}
