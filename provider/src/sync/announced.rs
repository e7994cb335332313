//! What the notification stream announced, and how an HTTP source holds back from a
//! stream whose announcements its fetches do not bear out.
//!
//! The rule (the npm package's `announcements.ts` keeps the same): an event fetches at
//! once. When the fetch made for events does not deliver what they announced (the
//! version the latest of them named, or for events naming none, a new version), later
//! events wait until a hold has passed: `backoff_initial`, doubling with each fetch that
//! again does not deliver, up to the poll interval. Events during a hold cost one fetch
//! when it ends, not one each. A warning names the announced and served versions once;
//! a fetch that delivers what was announced ends the hold. A stream that announces
//! versions never published so costs at most one fetch per poll interval beside the
//! polls, where it cost one per event.

use std::time::Duration;

use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::Backoff;
use crate::config::Config;

/// The stream's announcements so far, one running tally the sources watch: each compares
/// it with the tally it saw last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Announced {
    /// Events that asked for a fetch: a version above the one served, or none named.
    pub(crate) events: u64,
    /// Those of them that named a version.
    pub(crate) named: u64,
    /// The version the latest of those named.
    pub(crate) latest: u64,
    /// The stream's own asks, after a reconnect (events may have been missed) or when it
    /// cannot reopen: not the server's word, so never held back nor judged.
    pub(crate) reconnects: u64,
}

/// One source's hold on the stream's events.
pub(crate) struct Hold {
    backoff: Backoff,
    /// Until when events wait; `None` while the stream's word holds.
    until: Option<Instant>,
    /// Whether this run of undelivered announcements was warned of.
    warned: bool,
    poll_interval: Duration,
}

impl Hold {
    pub(crate) fn new(config: &Config) -> Hold {
        Hold {
            backoff: Backoff::new(config.backoff_initial, config.poll_interval, config.jitter),
            until: None,
            warned: false,
            poll_interval: config.poll_interval,
        }
    }

    /// When events may fetch again, if they must wait.
    pub(crate) fn until(&self) -> Option<Instant> {
        self.until.filter(|&until| until > Instant::now())
    }

    /// Judges the fetch made for events, by the version the latest of them `named` (none:
    /// they named none) and the version served `before` and `after` it. Returns how long
    /// events now wait, if they must.
    pub(crate) fn judge(
        &mut self,
        named: Option<u64>,
        before: Option<u64>,
        after: Option<u64>,
        source: &str,
    ) -> Option<Duration> {
        let served = after.unwrap_or(0);
        if named.map_or(after > before, |version| served >= version) {
            if std::mem::take(&mut self.warned) {
                info!(
                    source,
                    served_version = after,
                    "{source} served the version announced: announcements are acted on at once again"
                );
            }
            self.backoff.reset();
            self.until = None;
            return None;
        }
        let hold = self.backoff.next_delay();
        self.until = Some(Instant::now() + hold);
        let announced = named.map_or_else(|| "a new version".to_owned(), |version| format!("version {version}"));
        let shown = after.map_or_else(|| "nothing".to_owned(), |version| format!("version {version}"));
        if std::mem::replace(&mut self.warned, true) {
            debug!(source, announced = named, served_version = after,
                "the stream announced {announced} again, and {source} serves {shown}: holding announcements back for {hold:?}");
            return Some(hold);
        }
        warn!(
            source,
            announced = named,
            served_version = after,
            "the notification stream announced {announced}, and {source} then served {shown}: announcements are acted on \
             at most every {hold:?} (doubling up to the poll interval, {:?}) until one is delivered. The snapshot host \
             may be behind the stream (a CDN not yet updated), or the stream announces versions never published",
            self.poll_interval
        );
        Some(hold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hold(initial: Duration) -> Hold {
        Hold {
            backoff: Backoff::new(initial, initial * 30, 0.0),
            until: None,
            warned: false,
            poll_interval: initial * 30,
        }
    }

    #[test]
    fn an_undelivered_version_holds_events_back_doubling_until_one_is_delivered() {
        let second = Duration::from_secs(1);
        let mut hold = hold(second);
        assert_eq!(hold.judge(Some(9), Some(1), Some(1), "s"), Some(second));
        assert!(hold.until().is_some());
        assert_eq!(hold.judge(Some(10), Some(1), Some(1), "s"), Some(2 * second));
        assert_eq!(hold.judge(Some(10), Some(1), Some(10), "s"), None, "delivered: acted on at once again");
        assert_eq!(hold.until(), None);
        assert_eq!(hold.judge(Some(12), Some(10), Some(11), "s"), Some(second), "the doubling starts over");
        assert_eq!(hold.judge(Some(12), Some(11), None, "s"), Some(2 * second), "nothing served");
        // A version announced once and never published does not hold back the next.
        assert_eq!(hold.judge(Some(13), Some(11), Some(13), "s"), None);
    }

    #[test]
    fn an_event_naming_no_version_is_delivered_by_a_new_version_only() {
        let millisecond = Duration::from_millis(1);
        let mut hold = hold(millisecond);
        assert_eq!(hold.judge(None, Some(3), Some(4), "s"), None);
        assert_eq!(hold.judge(None, Some(4), Some(4), "s"), Some(millisecond), "the same version again");
        std::thread::sleep(5 * millisecond);
        assert_eq!(hold.until(), None, "the hold has passed");
    }
}
