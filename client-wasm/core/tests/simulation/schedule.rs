//! What can happen in one step of a run, and the random schedule that draws it from a seed.
//!
//! A run is a list of [`Step`]s: the seeded schedule draws them (reading the world only for
//! sizes, such as how many bytes are on the wire), and a scripted scenario lists them by hand
//! (see `scripts.rs`), so every failure a seed finds can be written down as a short script.

use mqtt_core::QoS;

use crate::rng::Rng;

/// One thing that happens to the page, the link, the broker or the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// The page publishes on `UP`; `fail_write`: the store's next write fails (another tab or
    /// site filled the quota).
    ClientPublish {
        qos: QoS,
        fail_write: bool,
    },
    /// The page publishes `count` messages in one turn (a large window, packet ids running
    /// out).
    Burst {
        qos: QoS,
        count: usize,
    },
    /// The page subscribes to one more filter (its request holds a packet id until SUBACK).
    Subscribe,
    /// Another client publishes on `DOWN`.
    BrokerPublish(QoS),
    /// This many bytes in flight to the broker arrive (a cut at any byte offset).
    ToBroker(usize),
    /// This many bytes in flight to the client arrive.
    ToClient(usize),
    /// Time moves on by this many milliseconds.
    Wait(u64),
    /// Time moves on to the session's next timer (or a second when none is armed).
    WaitForTimer,
    DropLink,
    /// The tab reloads; `forged`: a hand-edited row is added to the store first.
    Reload {
        forged: bool,
    },
    BrokerRestart,
    /// A second client connects with our client id and leaves.
    Takeover,
    /// The broker stops answering PUBLISH, PUBREL and SUBSCRIBE (true) or answers everything
    /// it held back, in order (false): acknowledgements in flight for a long time.
    HoldAcks(bool),
    /// The store's write in progress commits (or fails as a whole).
    Commit,
}

/// How the store commits: by chance in the drain loop (seeded runs), or only at
/// [`Step::Commit`] (scripts, which say exactly when).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Commits {
    Random,
    OnStep,
}

/// What the schedule needs to know of the world to draw sizes.
pub(crate) struct Wire {
    pub to_broker: usize,
    pub to_client: usize,
    pub busy: bool,
    /// Milliseconds to the session's next timer.
    pub until_timer: Option<u64>,
}

/// Which faults a seed's schedule draws at all.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Faults {
    pub reloads: bool,
    pub takeovers: bool,
    pub restarts: bool,
    /// The broker holds acknowledgements back now and then.
    pub held_acks: bool,
    /// Bursts large enough to run out of packet ids (a window of 65,535).
    pub bursts: Option<usize>,
}

fn draw_qos(rng: &mut Rng) -> QoS {
    match rng.below(3) {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

/// The next step of a seeded run; `faults` is false in the quiet phase at the end (no faults,
/// no new work: everything accepted must settle).
pub(crate) fn draw(rng: &mut Rng, faults: Faults, wire: &Wire, with_faults: bool) -> Step {
    let roll = rng.below(100);
    match roll {
        0..=19 if with_faults => Step::ClientPublish {
            qos: draw_qos(rng),
            fail_write: rng.chance(1, 30),
        },
        20..=29 if with_faults => Step::BrokerPublish(draw_qos(rng)),
        30..=54 if wire.to_broker > 0 => {
            Step::ToBroker(1 + rng.below(wire.to_broker as u64) as usize)
        }
        55..=79 if wire.to_client > 0 => {
            Step::ToClient(1 + rng.below(wire.to_client as u64) as usize)
        }
        92..=94 if with_faults => Step::DropLink,
        95 if with_faults && faults.reloads => Step::Reload {
            forged: rng.chance(1, 4),
        },
        96 if with_faults && faults.restarts => Step::BrokerRestart,
        97 if with_faults && faults.takeovers => Step::Takeover,
        98 if with_faults && faults.held_acks => Step::HoldAcks(rng.chance(1, 2)),
        99 if with_faults => match faults.bursts {
            Some(count) if rng.chance(1, 10) => Step::Burst {
                qos: if rng.chance(1, 2) {
                    QoS::AtLeastOnce
                } else {
                    QoS::ExactlyOnce
                },
                count,
            },
            _ => Step::Subscribe,
        },
        _ => wait(rng, wire, with_faults),
    }
}

/// Time moves on: a few milliseconds while bytes are on the wire (the network is fast next to
/// keepalive), or up to the next timer when the wire is idle, or, rarely, a long stall (the
/// fault that keepalive exists for).
fn wait(rng: &mut Rng, wire: &Wire, with_faults: bool) -> Step {
    if with_faults && rng.chance(1, 50) {
        Step::Wait(1 + rng.below(20_000))
    } else if wire.busy {
        Step::Wait(1 + rng.below(20))
    } else {
        Step::Wait(wire.until_timer.unwrap_or(1_000).clamp(1, 60_000))
    }
}
