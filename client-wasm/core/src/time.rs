//! Caller-supplied time. The core never reads a clock: every input carries `now`, an [`Instant`]
//! on a millisecond timeline whose origin the runtime adapter chooses (process start natively,
//! `performance.now()` in a browser). Simulated time in tests is just a number.

use core::ops::Add;
use core::time::Duration;

/// A point on the adapter's millisecond timeline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The instant `millis` milliseconds after the adapter's origin.
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the adapter's origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Time elapsed since `earlier`, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, rhs: Duration) -> Instant {
        let millis = u64::try_from(rhs.as_millis()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(millis))
    }
}

/// The earlier of two optional deadlines.
pub fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn addition_saturates_instead_of_overflowing() {
        let late = Instant::from_millis(u64::MAX - 1);
        assert_eq!(
            late + Duration::from_secs(5),
            Instant::from_millis(u64::MAX)
        );
        assert_eq!(
            Instant::from_millis(10).saturating_duration_since(Instant::from_millis(30)),
            Duration::ZERO
        );
    }
}
