//! Ed25519 keys in Pennon's text forms (`docs/SPEC.md` section 2.1).

use ed25519_dalek::Signer as _;

use crate::Error;

const PUBLIC_PREFIX: &str = "ed25519:";
const PRIVATE_PREFIX: &str = "ed25519-private:";

/// A trusted Ed25519 public key and its key id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    key: ed25519_dalek::VerifyingKey,
    id: String,
}

impl PublicKey {
    /// Reads `ed25519:<base64 of 32 bytes>`, refusing weak (small-order) keys.
    ///
    /// ```
    /// let key = pennon_core::PublicKey::parse("ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=").unwrap();
    /// assert_eq!(key.key_id().len(), 16);
    /// ```
    pub fn parse(text: &str) -> Result<PublicKey, Error> {
        let text = text.trim();
        let encoded = text
            .strip_prefix(PUBLIC_PREFIX)
            .ok_or_else(|| Error::InvalidKey(format!("a public key starts with `{PUBLIC_PREFIX}`")))?;
        let bytes: [u8; 32] = decode_32(encoded, "public key")?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| Error::InvalidKey("the public key is not a valid Ed25519 point".into()))?;
        if key.is_weak() {
            return Err(Error::InvalidKey("the public key is a weak (small-order) point".into()));
        }
        Ok(PublicKey::from_verifying(key))
    }

    fn from_verifying(key: ed25519_dalek::VerifyingKey) -> PublicKey {
        let digest = crate::sha256::digest(&[key.as_bytes()]);
        let mut id = String::with_capacity(16);
        crate::write_hex(&mut id, &digest[..8]);
        PublicKey { key, id }
    }

    /// The key id: hex of the first 8 bytes of SHA-256 over the raw key.
    pub fn key_id(&self) -> &str {
        &self.id
    }

    /// The text form, `ed25519:<base64>`.
    pub fn to_text(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", crate::base64::encode(self.key.as_bytes()))
    }

    pub(crate) fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        self.key.verify_strict(message, &signature).is_ok()
    }
}

/// A signing key. Snapshot publishers hold it; clients never need one.
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    public: PublicKey,
}

impl SigningKey {
    /// A key from a 32-byte seed. The caller supplies the randomness: the core has none.
    pub fn from_seed(seed: [u8; 32]) -> SigningKey {
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let public = PublicKey::from_verifying(key.verifying_key());
        SigningKey { key, public }
    }

    /// Reads `ed25519-private:<base64 of the 32-byte seed>`.
    pub fn parse(text: &str) -> Result<SigningKey, Error> {
        let encoded = text
            .trim()
            .strip_prefix(PRIVATE_PREFIX)
            .ok_or_else(|| Error::InvalidKey(format!("a private key file starts with `{PRIVATE_PREFIX}`")))?;
        Ok(SigningKey::from_seed(decode_32(encoded, "private key")?))
    }

    /// The text form of the private key. Store it with mode 0600.
    pub fn to_text(&self) -> String {
        format!("{PRIVATE_PREFIX}{}", crate::base64::encode(&self.key.to_bytes()))
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("key_id", &self.public.id).finish_non_exhaustive()
    }
}

fn decode_32(encoded: &str, what: &str) -> Result<[u8; 32], Error> {
    let bytes =
        crate::base64::decode(encoded).ok_or_else(|| Error::InvalidKey(format!("the {what} is not valid base64")))?;
    bytes
        .try_into()
        .map_err(|bytes: Vec<u8>| Error::InvalidKey(format!("the {what} is {} bytes, expected 32", bytes.len())))
}
