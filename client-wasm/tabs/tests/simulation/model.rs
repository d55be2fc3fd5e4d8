//! The models around the tabs: the shared asynchronous store (IndexedDB: a row commits, and the
//! tab hears of it later), each leader's session (publishes in flight, acknowledged by the
//! broker in two steps as QoS 2 is: forwarded, then completed), and the broker.

use std::collections::BTreeMap;

use mqtt_core::{CommandError, Event, Instant, PublishId, QoS, RequestId};
use mqtt_tabs::{Connection, Handle, Request};

/// A committed row of the store: survives any tab.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub row: u64,
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
}

/// Where a leader's publish is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Its row is being written: nothing goes on the wire before it commits.
    Writing,
    /// The row committed; the tab has not heard yet (the transaction's `complete` event).
    Committed(u64),
    /// Committed and the tab knows (or a clean session: in memory only).
    Ready(Option<u64>),
    /// The broker forwarded it (QoS 2: PUBREC, PUBREL sent); PUBCOMP/PUBACK still to come.
    Forwarded(Option<u64>),
}

#[derive(Debug, Clone)]
pub(crate) struct Pub {
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub stage: Stage,
}

/// One leader's session, as the tab logic sees it.
#[derive(Debug, Default)]
pub(crate) struct Session {
    pub stores: bool,
    next: u64,
    pub publishes: BTreeMap<u64, Pub>,
    /// Events to route (in order).
    pub events: Vec<Event>,
    pub connects: usize,
}

impl Session {
    pub(crate) fn new(stores: bool) -> Session {
        Session {
            stores,
            ..Session::default()
        }
    }

    fn next_id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// A row the store held when this tab became the leader.
    pub(crate) fn restore(&mut self, row: &Row, forwarded: bool) -> PublishId {
        let id = self.next_id();
        let stage = if forwarded {
            Stage::Forwarded(Some(row.row))
        } else {
            Stage::Ready(Some(row.row))
        };
        self.publishes.insert(
            id,
            Pub {
                payload: row.payload.clone(),
                qos: row.qos,
                stage,
            },
        );
        PublishId(id)
    }
}

impl Connection for Session {
    fn run(&mut self, _now: Instant, request: &Request) -> Result<Handle, CommandError> {
        let id = self.next_id();
        match request {
            Request::Publish { payload, qos, .. } => {
                if *qos == QoS::AtMostOnce {
                    // Handed to the transport: done.
                    self.events.push(Event::Published { id: PublishId(id) });
                    return Ok(Handle::Publish(PublishId(id)));
                }
                let stage = if self.stores {
                    Stage::Writing
                } else {
                    Stage::Ready(None)
                };
                self.publishes.insert(
                    id,
                    Pub {
                        payload: payload.clone(),
                        qos: *qos,
                        stage,
                    },
                );
                Ok(Handle::Publish(PublishId(id)))
            }
            Request::Subscribe(list) => {
                self.events.push(Event::Subscribed {
                    request: RequestId(id),
                    granted: list.iter().map(|(_, q)| Some(*q)).collect(),
                });
                Ok(Handle::Request(RequestId(id)))
            }
            Request::Unsubscribe(_) => {
                self.events.push(Event::Unsubscribed {
                    request: RequestId(id),
                });
                Ok(Handle::Request(RequestId(id)))
            }
        }
    }

    fn connect(&mut self, _now: Instant) {
        self.connects += 1;
    }

    fn stores(&self) -> bool {
        self.stores
    }
}

/// The broker: what it forwarded to subscribers, by payload, and which stored rows it holds
/// as QoS 2 (a row resent after a leader change is not forwarded again: the session resends
/// PUBREL for it, as the core's simulation checks).
#[derive(Debug, Default)]
pub(crate) struct Broker {
    pub forwarded: BTreeMap<Vec<u8>, usize>,
    pub rows: Vec<u64>,
}

impl Broker {
    /// Forwards a publish; false when it is a stored row the broker already holds.
    pub(crate) fn forward(&mut self, payload: &[u8], row: Option<u64>) -> bool {
        if let Some(row) = row {
            if self.rows.contains(&row) {
                return false;
            }
            self.rows.push(row);
        }
        *self.forwarded.entry(payload.to_vec()).or_default() += 1;
        true
    }
}

/// A small deterministic generator (xorshift64*).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}
