//! Repeated takeovers: the same client id connected from somewhere else (a device, the CLI,
//! another browser). An MQTT 3.1.1 broker closes the older connection when a CONNECT with the
//! same client id arrives [MQTT-3.1.4-2] and says nothing about why, so the client sees only
//! "connected, then dropped". Two clients that both reconnect take the id from each other
//! forever. The rule: a connection dropped by the peer within [`TakeoverRule::window`] of its
//! CONNACK, [`TakeoverRule::drops`] times in a row, means the id is in use elsewhere; the
//! session stops reconnecting and reports [`crate::ConnectionError::ConnectedElsewhere`] until
//! the user asks to take the id over (`Session::connect`). A broker that drops every connection
//! soon after CONNACK for another reason (say, on a queued packet it refuses) trips the rule as
//! well: the label is then a guess, but not reconnecting forever is right there too. Outages are
//! told apart: a refused attempt in between, or a close with a code other than 1000 (a bridge
//! draining with 1001, say), does not count.

use core::time::Duration;

use crate::time::Instant;

/// When short-lived connections count as "connected elsewhere".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TakeoverRule {
    /// Consecutive short-lived connections that trip the rule; 0 turns it off.
    pub drops: u32,
    /// A connection the peer drops sooner than this after CONNACK is short-lived.
    pub window: Duration,
}

impl Default for TakeoverRule {
    /// 3 drops, each within 5 s of CONNACK: with the default backoff (0.5 s, doubling) that is
    /// at most 3 CONNECTs in about 10 s, while a real network blip rarely repeats so regularly.
    fn default() -> Self {
        TakeoverRule {
            drops: 3,
            window: Duration::from_secs(5),
        }
    }
}

/// The rule's state for one session.
#[derive(Debug, Clone, Default)]
pub struct TakeoverDetector {
    rule: TakeoverRule,
    connected_at: Option<Instant>,
    short_drops: u32,
}

impl TakeoverDetector {
    /// A detector that has seen no connection yet.
    pub fn new(rule: TakeoverRule) -> Self {
        TakeoverDetector {
            rule,
            connected_at: None,
            short_drops: 0,
        }
    }

    /// CONNACK accepted at `now`.
    pub fn connected(&mut self, now: Instant) {
        self.connected_at = Some(now);
    }

    /// The connection ended at `now`. `by_peer`: the peer closed or dropped it (a failure the
    /// session would retry), not a local timeout or error. Returns whether the rule tripped.
    #[must_use = "a tripped rule must stop the reconnects"]
    pub fn dropped(&mut self, now: Instant, by_peer: bool) -> bool {
        let Some(since) = self.connected_at.take() else {
            // Failed before CONNACK: the server was down or unreachable, which a takeover never
            // causes (the other holder of the id leaves the broker up and answering). A bridge
            // or broker that dies and comes back again and again is an outage, not "connected
            // elsewhere": the count starts again.
            self.short_drops = 0;
            return false;
        };
        let short = by_peer && now.saturating_duration_since(since) < self.rule.window;
        self.short_drops = if short { self.short_drops + 1 } else { 0 };
        self.tripped()
    }

    /// Whether the last drop tripped the rule (until `reset` or a connection that lasts).
    pub fn tripped(&self) -> bool {
        self.rule.drops > 0 && self.short_drops >= self.rule.drops
    }

    /// Short-lived connections in a row so far.
    pub fn short_drops(&self) -> u32 {
        self.short_drops
    }

    /// The user takes the id over: counting starts again.
    pub fn reset(&mut self) {
        self.connected_at = None;
        self.short_drops = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    /// Connects at `start`, dropped by the peer `lived` ms later; returns whether it tripped.
    fn cycle(d: &mut TakeoverDetector, start: u64, lived: u64) -> bool {
        d.connected(at(start));
        d.dropped(at(start + lived), true)
    }

    #[test]
    fn three_short_lived_connections_in_a_row_trip_the_rule() {
        let mut d = TakeoverDetector::new(TakeoverRule::default());
        assert!(!cycle(&mut d, 0, 100));
        assert!(!cycle(&mut d, 1_000, 4_999));
        assert!(
            cycle(&mut d, 10_000, 10),
            "third drop within 5 s of CONNACK"
        );
        assert_eq!(d.short_drops(), 3);
    }

    #[test]
    fn a_connection_that_lived_past_the_window_starts_the_count_again() {
        let mut d = TakeoverDetector::new(TakeoverRule::default());
        assert!(!cycle(&mut d, 0, 100));
        assert!(!cycle(&mut d, 1_000, 100));
        assert!(!cycle(&mut d, 2_000, 5_000), "5 s is not short-lived");
        assert_eq!(d.short_drops(), 0);
        assert!(!cycle(&mut d, 8_000, 100));
        assert!(!cycle(&mut d, 9_000, 100));
        assert!(cycle(&mut d, 10_000, 100));
    }

    /// A bridge killed (or a broker restarted) three times in quick succession drops three
    /// young connections too; what tells it from a takeover is the refused attempt while it
    /// was down (`tests/tests/faults.rs` tripped the rule before this).
    #[test]
    fn a_failed_attempt_between_drops_starts_the_count_again() {
        let mut d = TakeoverDetector::new(TakeoverRule::default());
        assert!(!cycle(&mut d, 0, 100));
        assert!(!cycle(&mut d, 1_000, 100));
        assert!(
            !d.dropped(at(1_500), true),
            "no CONNACK: not a takeover sign"
        );
        assert_eq!(d.short_drops(), 0);
        assert!(!cycle(&mut d, 2_000, 100));
        assert!(!cycle(&mut d, 3_000, 100));
        assert!(cycle(&mut d, 4_000, 100), "three in a row again");
    }

    #[test]
    fn local_failures_and_a_reset_clear_the_count_and_zero_turns_it_off() {
        let mut d = TakeoverDetector::new(TakeoverRule::default());
        assert!(!cycle(&mut d, 0, 100));
        assert!(!cycle(&mut d, 1_000, 100));
        d.connected(at(2_000));
        assert!(
            !d.dropped(at(2_100), false),
            "a keepalive timeout is ours, not a takeover"
        );
        assert_eq!(d.short_drops(), 0);
        assert!(!cycle(&mut d, 3_000, 100));
        d.reset();
        assert!(!cycle(&mut d, 4_000, 100));
        assert!(!cycle(&mut d, 5_000, 100));
        let mut off = TakeoverDetector::new(TakeoverRule {
            drops: 0,
            ..TakeoverRule::default()
        });
        assert!((0..10).all(|i| !cycle(&mut off, i * 1_000, 10)));
    }
}
