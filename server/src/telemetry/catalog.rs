//! Which flags (and variants) an environment has, for the SDK key's kind: read from the
//! latest snapshot the hub serves, so checking a report costs the database nothing.
//! Each environment's list is read once per version and kept.
//!
//! The snapshot is what the SDKs evaluate, so "exists" means what they could have
//! found: a client key's report may count only client-visible flags; anything else is
//! a key its snapshot lacks.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::error::ApiError;
use crate::hub::Hub;
use crate::model::SdkKind;
use crate::snapshot::decode_envelope_payload;

/// The flags of one snapshot and their variant names.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    flags: HashMap<String, BTreeSet<String>>,
}

impl Catalog {
    /// A catalog of `flags` (key and variant names), for tests.
    #[cfg(test)]
    pub(crate) fn of(flags: &[(&str, &[&str])]) -> Catalog {
        let flags = flags
            .iter()
            .map(|(key, variants)| ((*key).to_owned(), variants.iter().map(|v| (*v).to_owned()).collect()))
            .collect();
        Catalog { flags }
    }

    /// The variant names of flag `key`, if the snapshot has it.
    pub(crate) fn variants(&self, key: &str) -> Option<&BTreeSet<String>> {
        self.flags.get(key)
    }

    fn from_payload(payload: &[u8]) -> Result<Catalog, serde_json::Error> {
        #[derive(Deserialize)]
        struct Payload {
            flags: HashMap<String, PayloadFlag>,
        }
        #[derive(Deserialize)]
        struct PayloadFlag {
            variants: HashMap<String, IgnoredAny>,
        }
        let payload: Payload = serde_json::from_slice(payload)?;
        let flags = payload.flags.into_iter().map(|(key, flag)| (key, flag.variants.into_keys().collect())).collect();
        Ok(Catalog { flags })
    }
}

/// An environment and an SDK key kind (`server` or `client`).
type Audience = (String, &'static str);

/// The catalogs read so far, by environment and kind, with the version each is of.
#[derive(Default)]
pub(crate) struct Catalogs {
    held: Mutex<HashMap<Audience, (u64, Arc<Catalog>)>>,
}

impl Catalogs {
    /// The flags `env` serves to SDK keys of `kind` now (none before it has published).
    pub(crate) fn get(&self, hub: &Hub, env: &str, kind: SdkKind) -> Result<Arc<Catalog>, ApiError> {
        let Some(served) = hub.feed(env).and_then(|feed| feed.latest(kind)) else {
            self.held.lock().unwrap_or_else(PoisonError::into_inner).remove(&(env.to_owned(), kind.as_str()));
            return Ok(Arc::new(Catalog::default()));
        };
        let key = (env.to_owned(), kind.as_str());
        if let Some((version, catalog)) = self.held.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            if *version == served.version {
                return Ok(Arc::clone(catalog));
            }
        }
        // Read outside the lock: other environments' reports need not wait for it.
        let envelope = std::str::from_utf8(&served.body).map_err(ApiError::internal)?;
        let payload = decode_envelope_payload(envelope)?;
        let catalog = Arc::new(Catalog::from_payload(&payload).map_err(ApiError::internal)?);
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let newer = held.get(&key).is_none_or(|(version, _)| *version < served.version);
        if newer {
            held.insert(key, (served.version, Arc::clone(&catalog)));
        }
        Ok(catalog)
    }
}

#[cfg(test)]
mod tests {
    use super::Catalog;

    #[test]
    fn reads_flags_and_variant_names_from_a_payload() {
        let payload = br#"{"schema": 1, "environment": "development", "version": 3,
            "flags": {"new-checkout": {"type": "boolean", "variants": {"on": true, "off": false},
                "enabled": true, "off_variant": "off", "fallthrough": {"variant": "on"}}},
            "segments": {}}"#;
        let catalog = Catalog::from_payload(payload).unwrap();
        let variants: Vec<&str> = catalog.variants("new-checkout").unwrap().iter().map(String::as_str).collect();
        assert_eq!(variants, ["off", "on"]);
        assert!(catalog.variants("old-banner").is_none());
    }
}
