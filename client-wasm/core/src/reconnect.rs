//! Reconnect timing: exponential backoff with jitter, from an injected seed so that tests (and
//! two runs with the same seed) see the same delays.

use core::time::Duration;

use crate::takeover::TakeoverRule;

/// When and whether the session reconnects after losing its connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconnectPolicy {
    /// Reconnect at all. Refused credentials never reconnect, whatever this says.
    pub enabled: bool,
    /// The first delay; each further attempt doubles it.
    pub initial_delay: Duration,
    /// The delay never grows past this.
    pub max_delay: Duration,
    /// Seed of the jitter generator. Give each client its own (e.g. from `Math.random()` or the
    /// process id) so that a fleet does not reconnect in lock step after a broker restart.
    pub seed: u64,
    /// When short-lived connections mean "connected elsewhere" and reconnecting stops.
    pub takeover: TakeoverRule,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            seed: 0x5eed,
            takeover: TakeoverRule::default(),
        }
    }
}

/// The backoff state of one session.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: ReconnectPolicy,
    attempt: u32,
    rng: SplitMix64,
}

impl Backoff {
    /// A backoff with no attempt made yet, its jitter seeded from `policy.seed`.
    pub fn new(policy: ReconnectPolicy) -> Self {
        let rng = SplitMix64(policy.seed);
        Self {
            policy,
            attempt: 0,
            rng,
        }
    }

    /// The policy it was made with.
    pub fn policy(&self) -> &ReconnectPolicy {
        &self.policy
    }

    /// Attempts made since the last successful connection.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The delay before the next attempt: "equal jitter", a uniform pick in `[d/2, d]` where
    /// `d = min(max_delay, initial_delay * 2^attempt)`, so delays grow but never synchronise.
    #[must_use = "the delay drawn is the one to wait: drawing another advances the backoff"]
    pub fn next_delay(&mut self) -> Duration {
        let shift = self.attempt.min(20);
        let grown = self.policy.initial_delay.saturating_mul(1 << shift);
        let ceiling = grown.min(self.policy.max_delay);
        self.attempt = self.attempt.saturating_add(1);
        let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        let half = ceiling_ms / 2;
        let spread = ceiling_ms - half;
        let jitter = if spread == 0 {
            0
        } else {
            self.rng.next() % (spread + 1)
        };
        Duration::from_millis(half + jitter)
    }

    /// Called on a successful CONNACK.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A tiny deterministic generator; jitter needs spread, not cryptographic strength.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn policy(seed: u64) -> ReconnectPolicy {
        ReconnectPolicy {
            enabled: true,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            seed,
            ..ReconnectPolicy::default()
        }
    }

    #[test]
    fn delays_grow_within_jitter_bounds_and_stop_at_the_cap() {
        let mut backoff = Backoff::new(policy(7));
        for attempt in 0..12u32 {
            let ceiling = (100u64 << attempt).min(5_000);
            let delay = backoff.next_delay().as_millis() as u64;
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "attempt {attempt}: {delay} vs {ceiling}"
            );
        }
        assert_eq!(backoff.attempt(), 12);
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }

    #[test]
    fn the_seed_decides_the_jitter() {
        let delays = |seed| {
            let mut b = Backoff::new(policy(seed));
            (0..8).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(delays(1), delays(1));
        assert_ne!(delays(1), delays(2));
    }
}
