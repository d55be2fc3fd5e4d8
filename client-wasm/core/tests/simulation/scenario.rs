//! What a seed draws once for its whole run.

use crate::broker::Misbehaviour;
use crate::rng::Rng;
use crate::schedule::Faults;

/// The whole window: mosquitto's default, small windows, a large one, and all packet ids.
pub(crate) const FULL_WINDOW: usize = 65_535;

#[derive(Debug, Clone)]
pub(crate) struct Scenario {
    pub clean_session: bool,
    pub persistent_broker: bool,
    pub misbehaviour: Misbehaviour,
    pub faults: Faults,
    /// The page keeps its session in a store (the browser's IndexedDB); without one (a native
    /// tool) publishes are accepted at once and there are no reloads.
    pub store: bool,
    /// The session's `max_inflight`.
    pub max_inflight: usize,
    pub steps: usize,
}

impl Scenario {
    pub(crate) fn draw(rng: &mut Rng) -> Scenario {
        let clean_session = rng.chance(1, 2);
        let persistent_broker = rng.chance(1, 2);
        // One seed in ten thousand publishes in bursts into a window of every packet id, with a
        // slow broker, until the ids run out (no store: a snapshot per row of 65,535 rows is a
        // different test).
        let exhaust = rng.chance(1, 10_000);
        // With every packet id in use, a freed id is the only one to hand out, so a stray
        // PUBACK (a duplicate, or one for an id the broker never got) necessarily names a
        // message in flight: no client can tell it from the real one (seed 1,959,927 of the
        // first soak). Those seeds run with a broker that acknowledges each message once.
        let misbehaviour = Misbehaviour {
            duplicate_puback: !exhaust && rng.chance(1, 8),
            puback_unknown_id: !exhaust && rng.chance(1, 8),
            reversed_acks: rng.chance(1, 8),
        };
        let store = !exhaust && rng.chance(7, 8);
        let max_inflight = if exhaust {
            FULL_WINDOW
        } else {
            match rng.below(8) {
                0 => 1 + rng.below(4) as usize,
                1 => 100 + rng.below(1_000) as usize,
                2 => FULL_WINDOW,
                _ => 20,
            }
        };
        let faults = Faults {
            reloads: store && rng.chance(1, 2),
            takeovers: rng.chance(1, 4),
            restarts: rng.chance(1, 4),
            held_acks: exhaust || rng.chance(1, 4),
            bursts: exhaust.then_some(FULL_WINDOW),
        };
        Scenario {
            clean_session,
            persistent_broker,
            misbehaviour,
            faults,
            store,
            max_inflight,
            steps: 50 + rng.below(250) as usize,
        }
    }

    /// A plain scenario for scripts: persistent session and broker, a store, no misbehaviour.
    pub(crate) fn scripted() -> Scenario {
        Scenario {
            clean_session: false,
            persistent_broker: true,
            misbehaviour: Misbehaviour::default(),
            faults: Faults {
                reloads: true,
                takeovers: false,
                restarts: false,
                held_acks: false,
                bursts: None,
            },
            store: true,
            max_inflight: 20,
            steps: 0,
        }
    }

    /// Whether the broker may legitimately lose messages addressed to the client (its session
    /// goes with a clean connection, a restart without persistence, or a takeover).
    pub(crate) fn broker_may_drop_session(&self) -> bool {
        self.clean_session
            || self.faults.takeovers
            || (self.faults.restarts && !self.persistent_broker)
    }
}
