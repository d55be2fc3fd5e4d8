//! What survives a page reload or a process restart, and the one way to keep it.
//!
//! An adapter keeps a [`Snapshot`] of the session in a store (IndexedDB in the browser) through
//! a [`Persistence`], a sans-IO handshake: the store may take its time (IndexedDB commits
//! asynchronously), the rules stay here.
//!
//! ```text
//!  publish(QoS 1/2) ──▶ reserved id, row waits ──▶ poll_write() ──▶ adapter writes (one
//!                                                  transaction per snapshot) ──▶ write_done()
//!  session changed (ack, packet id, PUBREC...) ──▶ poll_write() ──▶ ...          ──▶ write_done()
//!  poll_transmit() bytes ──▶ held by the adapter until may_transmit()
//! ```
//! - [`Persistence::publish`] checks a QoS 1/2 publish like the session would and reserves its
//!   id; the session accepts it only in [`Persistence::write_done`], once the store committed a
//!   snapshot holding its row. A store that cannot hold it (quota) ends it with
//!   [`crate::Event::PublishFailed`] ([`PublishFailure::NotStored`], code `storage_full`): it
//!   was never accepted, and nothing accepted earlier is touched. Rows are written one at a
//!   time, in call order, so a refusal names exactly one message;
//! - every other change of the session ([`Session::pending_changes`]) is written as one
//!   snapshot, and the adapter holds the session's bytes and events in a [`Held`] queue, each
//!   tagged with the change it was produced at, until the store holds that change
//!   ([`Persistence::stored_through`]): nothing leaves for the broker (a PUBLISH with its packet
//!   id, a PUBREL, a PUBREC) and nothing reaches the page (`Published`, a QoS 2 `Message`)
//!   before the state it depends on is committed, so a reload never sees a message sent but not
//!   stored, nor a message delivered but not marked received. Each output goes as soon as *its*
//!   change is committed, not when the store has caught up with the session: a busy session
//!   changes faster than the store commits, and an output held behind later changes is lost
//!   with the page although what it reports is stored;
//! - a failed write of such a change is reported and the bytes go anyway (the previous snapshot
//!   still holds every accepted publish, but after a reload a message could go or arrive twice);
//!   the next change writes again;
//! - [`Session::restore`] hands a stored snapshot to a new session; every row is checked like
//!   user input (storage is user-editable) and refused rows are reported, never trusted.
//!
//! What this does not cover: QoS 0 messages are not kept: at most once may lose one on a reload, never send it twice. They
//! do not wait for the store either, so one may overtake a QoS 1/2 publish whose row is still
//! being written (MQTT 3.1.1 section 4.6 orders messages of one QoS only).

use std::collections::VecDeque;

pub use crate::error::StoreError;
pub use crate::session::Snapshot;
use crate::session::{PendingPublish, PublishFailure, PublishId, Session};
use crate::time::Instant;
use crate::{CommandError, QoS};

/// A store that writes at once (tests, native tools): [`Persistence::write_all`] drives the
/// handshake with it.
pub trait Store {
    /// Replaces what is stored with `snapshot`, durably, before returning `Ok`.
    fn write(&mut self, snapshot: &Snapshot) -> Result<(), StoreError>;
}

/// A publish waiting for its row to be committed.
#[derive(Debug, Clone)]
struct Waiting {
    id: PublishId,
    row: PendingPublish,
}

#[derive(Debug, Clone)]
enum Writing {
    /// A snapshot with this publish's row ahead of the session as of change `at`.
    Row { waiting: Waiting, at: u64 },
    /// The session as of this change.
    Change(u64),
}

/// The handshake between a session and its store: what to write next, and what may be sent.
#[derive(Debug, Default)]
pub struct Persistence {
    /// The session change the store holds exactly (or a failed write gave up on, reported);
    /// `None` while it holds a row the session has not caught up with.
    settled_at: Option<u64>,
    /// Every session change up to this one is in the store (or was given up on, reported):
    /// outputs produced at or before it may go.
    stored_through: u64,
    writing: Option<Writing>,
    /// In call order (a short list: a Vec is smaller code in the browser package).
    waiting: Vec<Waiting>,
}

impl Persistence {
    /// For a session that the store already describes (new, or restored from it).
    pub fn new(session: &Session) -> Persistence {
        Persistence {
            settled_at: Some(session.pending_changes()),
            stored_through: session.pending_changes(),
            writing: None,
            waiting: Vec::new(),
        }
    }

    /// Publishes through the store: QoS 0 goes to the session at once; QoS 1/2 is checked,
    /// gets its id, and is accepted once its row is committed (see the module).
    pub fn publish(
        &mut self,
        session: &mut Session,
        now: Instant,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<PublishId, CommandError> {
        if qos == QoS::AtMostOnce {
            return session.publish(now, topic, payload, qos, retain);
        }
        session.check_publish(topic, payload.len(), qos, self.waiting.len())?;
        let id = session.reserve_publish_id();
        self.waiting.push(Waiting {
            id,
            row: PendingPublish {
                topic: topic.to_string(),
                payload: payload.to_vec(),
                qos,
                retain,
                packet_id: None,
                released: false,
            },
        });
        Ok(id)
    }

    /// The next snapshot to write, when no write is in progress: the session with the first
    /// waiting row ahead of it, or the session itself when it changed since the last write.
    /// The adapter writes it in one transaction and reports with [`Persistence::write_done`].
    #[must_use = "a snapshot polled and not written leaves its publish waiting forever"]
    pub fn poll_write(&mut self, session: &Session) -> Option<Snapshot> {
        if self.writing.is_some() {
            return None;
        }
        let mut snapshot = Snapshot::of(session);
        if !self.waiting.is_empty() {
            let waiting = self.waiting.remove(0);
            snapshot.pending.push(waiting.row.clone());
            let at = session.pending_changes();
            self.writing = Some(Writing::Row { waiting, at });
            return Some(snapshot);
        }
        let change = session.pending_changes();
        if self.settled_at == Some(change) {
            return None;
        }
        self.writing = Some(Writing::Change(change));
        Some(snapshot)
    }

    /// The write from [`Persistence::poll_write`] ended. A committed row's publish is accepted
    /// by the session now (or ends in `PublishFailed`); an error returned is a failed write of
    /// the session's state, for the adapter to report.
    pub fn write_done(
        &mut self,
        session: &mut Session,
        now: Instant,
        result: Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match self.writing.take() {
            None => Ok(()),
            Some(Writing::Row {
                waiting: Waiting { id, row },
                at,
            }) => {
                match result {
                    Ok(()) => {
                        // The snapshot held the session as of `at`, plus the row.
                        self.stored_through = self.stored_through.max(at);
                        let accepted = session.publish_reserved(
                            now,
                            id,
                            &row.topic,
                            &row.payload,
                            row.qos,
                            row.retain,
                        );
                        if let Err(refused) = accepted {
                            // Only the queue can have filled meanwhile (QoS 0 while offline).
                            session.refuse_reserved(id, PublishFailure::Refused(refused));
                        }
                        // The stored row must now follow the session (a packet id, or gone).
                        self.settled_at = None;
                    }
                    Err(e) => session.refuse_reserved(id, PublishFailure::NotStored(e)),
                }
                Ok(())
            }
            Some(Writing::Change(change)) => {
                self.settled_at = Some(change);
                self.stored_through = self.stored_through.max(change);
                result
            }
        }
    }

    /// The last session change the store holds (or gave up on, reported): bytes and events
    /// the session produced at or before it may go (see [`Held`]).
    pub fn stored_through(&self) -> u64 {
        self.stored_through
    }

    /// Whether everything the session produced so far may go: the store holds its current
    /// state.
    pub fn may_transmit(&self, session: &Session) -> bool {
        self.stored_through >= session.pending_changes()
    }

    /// Publishes with an id whose row is not committed yet: lost with the page if it goes.
    pub fn uncommitted(&self) -> impl Iterator<Item = PublishId> + '_ {
        let writing = match &self.writing {
            Some(Writing::Row { waiting, .. }) => Some(waiting.id),
            _ => None,
        };
        writing.into_iter().chain(self.waiting.iter().map(|w| w.id))
    }

    /// Drives the handshake with a store that writes at once, until nothing is left to write.
    /// Returns the last failed write of the session's state, if any.
    pub fn write_all(
        &mut self,
        session: &mut Session,
        now: Instant,
        store: &mut impl Store,
    ) -> Result<(), StoreError> {
        let mut outcome = Ok(());
        while let Some(snapshot) = self.poll_write(session) {
            let result = store.write(&snapshot);
            if let Err(e) = self.write_done(session, now, result) {
                outcome = Err(e);
            }
        }
        outcome
    }
}

/// Outputs of a session (bytes for the transport, events for the application) held until the
/// store holds the session change each was produced at. Changes only grow, so the ready ones
/// are always a prefix and order is kept.
#[derive(Debug)]
pub struct Held<T> {
    items: VecDeque<(u64, T)>,
}

impl<T> Default for Held<T> {
    fn default() -> Self {
        Held {
            items: VecDeque::new(),
        }
    }
}

impl<T> Held<T> {
    /// Holds `item`, produced when the session was at `change` ([`Session::pending_changes`]
    /// right after the input that produced it).
    pub fn push(&mut self, change: u64, item: T) {
        self.items.push_back((change, item));
    }

    /// The next item whose change is stored: `stored_through` from
    /// [`Persistence::stored_through`], `None` while nothing may go (the store is being read).
    #[must_use]
    pub fn pop_ready(&mut self, stored_through: Option<u64>) -> Option<T> {
        let through = stored_through?;
        match self.items.front() {
            Some((change, _)) if *change <= through => self.items.pop_front().map(|(_, item)| item),
            _ => None,
        }
    }

    /// Takes out the newest item that `wanted` picks, if it is ready (see [`Held::pop_ready`]);
    /// the others keep their order. For an item whose only consumer asks for it out of turn
    /// (a QoS 0 publish's completion, settled inside the call that made it).
    pub fn take_ready(
        &mut self,
        stored_through: Option<u64>,
        wanted: impl Fn(&T) -> bool,
    ) -> Option<T> {
        let through = stored_through?;
        let index = self.items.iter().rposition(|(_, item)| wanted(item))?;
        if self.items.get(index)?.0 > through {
            return None;
        }
        self.items.remove(index).map(|(_, item)| item)
    }

    /// Drops everything held (the page or the connection it was for is gone).
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many items are held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The held items, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.items.iter().map(|(_, item)| item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, Options};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn take_ready_takes_the_newest_ready_match_and_keeps_the_others_in_order() {
        let mut held = Held::default();
        for (change, item) in [(1, "a"), (2, "b"), (3, "b"), (5, "c")] {
            held.push(change, item);
        }
        assert_eq!(
            held.take_ready(Some(4), |x| *x == "c"),
            None,
            "not stored yet"
        );
        assert_eq!(
            held.take_ready(None, |x| *x == "a"),
            None,
            "the store is being read"
        );
        assert_eq!(held.take_ready(Some(4), |x| *x == "d"), None);
        assert_eq!(held.take_ready(Some(4), |x| *x == "b"), Some("b"));
        assert_eq!(held.iter().copied().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(held.pop_ready(Some(5)), Some("a"));
        assert_eq!(held.pop_ready(Some(5)), Some("b"));
        assert_eq!(held.pop_ready(Some(5)), Some("c"));
    }

    /// A store with a quota in payload bytes.
    #[derive(Default)]
    struct QuotaStore {
        quota: usize,
        kept: Option<Snapshot>,
    }

    impl Store for QuotaStore {
        fn write(&mut self, snapshot: &Snapshot) -> Result<(), StoreError> {
            let size: usize = snapshot.pending.iter().map(|p| p.payload.len()).sum();
            if size > self.quota {
                return Err(StoreError::Full);
            }
            self.kept = Some(snapshot.clone());
            Ok(())
        }
    }

    fn stored_payloads(store: &QuotaStore) -> Vec<Vec<u8>> {
        let kept = store.kept.clone().unwrap_or_default();
        kept.pending.into_iter().map(|p| p.payload).collect()
    }

    fn events(session: &mut Session) -> Vec<Event> {
        std::iter::from_fn(|| session.poll_event()).collect()
    }

    #[test]
    fn a_publish_the_store_cannot_hold_is_refused_and_nothing_accepted_is_lost() {
        let mut session = Session::new(Options::new("t"));
        let mut persistence = Persistence::new(&session);
        let mut store = QuotaStore {
            quota: 10,
            kept: None,
        };
        let now = Instant::from_millis(0);
        let first = persistence.publish(&mut session, now, "t", b"12345", QoS::AtLeastOnce, false);
        let second =
            persistence.publish(&mut session, now, "t", b"678901", QoS::ExactlyOnce, false);
        let (Ok(_), Ok(second)) = (first, second) else {
            panic!("both are checked and wait for the store")
        };
        assert_eq!(
            session.pending_count(),
            0,
            "nothing accepted before a commit"
        );
        assert_eq!(persistence.write_all(&mut session, now, &mut store), Ok(()));
        assert_eq!(
            events(&mut session),
            vec![Event::PublishFailed {
                id: second,
                reason: PublishFailure::NotStored(StoreError::Full),
            }],
            "5 + 6 bytes is over the quota"
        );
        assert_eq!(
            PublishFailure::NotStored(StoreError::Full).code(),
            "storage_full"
        );
        assert_eq!(session.pending_count(), 1, "only the first was accepted");
        assert_eq!(stored_payloads(&store), vec![b"12345".to_vec()]);
        let qos0 = persistence.publish(
            &mut session,
            now,
            "t",
            b"far over the quota",
            QoS::AtMostOnce,
            false,
        );
        assert!(qos0.is_ok(), "QoS 0 is never stored");
    }

    #[test]
    fn a_refused_publish_leaves_no_row_behind() {
        let mut session = Session::new(Options::new("t"));
        let mut persistence = Persistence::new(&session);
        let now = Instant::from_millis(0);
        let refused = persistence.publish(&mut session, now, "a/#", b"x", QoS::AtLeastOnce, false);
        assert_eq!(refused.map_err(|e| e.code()), Err("invalid_topic"));
        assert_eq!(persistence.poll_write(&session), None);
    }

    /// The store is asynchronous: the session accepts the publish, and its bytes may leave,
    /// only after the commit. A reload before the commit loses only the uncommitted publish,
    /// which was never accepted.
    #[test]
    fn the_session_accepts_a_publish_and_may_send_only_after_its_row_is_committed() {
        let mut session = Session::new(Options::new("t"));
        let mut persistence = Persistence::new(&session);
        let now = Instant::from_millis(0);
        assert!(persistence.may_transmit(&session));
        let id = persistence
            .publish(&mut session, now, "t", b"a", QoS::ExactlyOnce, false)
            .unwrap();
        let ahead = persistence
            .poll_write(&session)
            .expect("its row is written first");
        assert_eq!(ahead.pending.len(), 1);
        assert_eq!(
            persistence.poll_write(&session),
            None,
            "one write at a time"
        );
        assert!(
            persistence.may_transmit(&session),
            "the session has not changed: what it sent before its row may go meanwhile"
        );
        assert_eq!(persistence.uncommitted().collect::<Vec<_>>(), vec![id]);
        assert_eq!(session.pending_count(), 0);
        assert_eq!(persistence.write_done(&mut session, now, Ok(())), Ok(()));
        assert_eq!(session.pending_count(), 1, "accepted at the commit");
        assert_eq!(persistence.uncommitted().count(), 0);
        assert!(
            !persistence.may_transmit(&session),
            "the session changed (its row as the session holds it): written again first"
        );
        assert!(persistence.poll_write(&session).is_some());
        assert_eq!(persistence.write_done(&mut session, now, Ok(())), Ok(()));
        assert!(persistence.may_transmit(&session));
    }

    #[test]
    fn a_failed_write_is_reported_keeps_the_previous_snapshot_and_the_next_change_retries() {
        let mut session = Session::new(Options::new("t"));
        let mut persistence = Persistence::new(&session);
        let mut store = QuotaStore {
            quota: 100,
            kept: None,
        };
        let now = Instant::from_millis(0);
        persistence
            .publish(&mut session, now, "t", b"abc", QoS::AtLeastOnce, false)
            .unwrap();
        assert_eq!(persistence.write_all(&mut session, now, &mut store), Ok(()));
        store.quota = 0;
        let _ = session.publish(now, "t", b"d", QoS::AtLeastOnce, false);
        assert_eq!(
            persistence.write_all(&mut session, now, &mut store),
            Err(StoreError::Full)
        );
        assert!(persistence.may_transmit(&session), "reported; the bytes go");
        assert_eq!(stored_payloads(&store), vec![b"abc".to_vec()]);
        store.quota = 100;
        let _ = session.publish(now, "t", b"e", QoS::AtLeastOnce, false);
        assert_eq!(persistence.write_all(&mut session, now, &mut store), Ok(()));
        assert_eq!(
            stored_payloads(&store),
            vec![b"abc".to_vec(), b"d".to_vec(), b"e".to_vec()]
        );
    }
}
