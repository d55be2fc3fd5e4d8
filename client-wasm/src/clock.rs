//! The clock the session gets: `performance.now()` (monotonic, also in workers), read once per
//! turn of the driver.
//!
//! Each read crosses into the browser, and a message would otherwise read it several times (its
//! bytes, its event, the publish made in its callback, the timer). Inside [`turn`] every `now()`
//! is the turn's first reading: time stands still while wasm runs for one input, and lags by as
//! long as a page callback in it runs; the next turn reads afresh, so it never goes back.

use std::cell::Cell;

use wasm_bindgen::prelude::*;

use mqtt_core::Instant;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub(super) fn performance_now() -> f64;
}

thread_local! {
    /// The reading of the turn under way, if one is.
    static TURN: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// `now()` for the core, in whole milliseconds: the current turn's reading, else a fresh one.
pub fn now() -> Instant {
    TURN.with(Cell::get).unwrap_or_else(read)
}

fn read() -> Instant {
    Instant::from_millis(performance_now().max(0.0) as u64)
}

/// Runs `f` as one turn: the clock is read at most once for all of it. Nested turns share
/// the outer one's reading.
pub(crate) fn turn<T>(f: impl FnOnce() -> T) -> T {
    /// Ends the turn however `f` leaves (a panic in a native test unwinds).
    struct Ends;
    impl Drop for Ends {
        fn drop(&mut self) {
            TURN.with(|t| t.set(None));
        }
    }
    if TURN.with(Cell::get).is_some() {
        return f();
    }
    TURN.with(|t| t.set(Some(read())));
    let _ends = Ends;
    f()
}
