//! What survives a page reload or a process restart, and the one way to keep it.
//!
//! An adapter keeps a [`Snapshot`] of the session in a [`Store`] (localStorage in the browser)
//! through a [`Persistence`]:
//! - [`Persistence::publish`] writes ahead: a QoS 1/2 message is in the store before the session
//!   accepts it, so every accepted publish survives a reload, and a full store refuses the
//!   publish with [`CommandError::Storage`] (code `storage_full`) instead of losing it later;
//! - [`Persistence::sync`], after every drain of the session (the same turn in which the bytes
//!   were written), rewrites the snapshot when [`Session::pending_changes`] moved;
//! - [`Session::restore`] hands a stored snapshot to a new session; every row is checked like
//!   user input (storage is user-editable) and refused rows are reported, never trusted.
//!
//! QoS 0 messages are not kept: at most once may lose one on a reload, never send it twice.

use crate::session::{PendingPublish, PublishId, Session};
use crate::time::Instant;
use crate::{CommandError, QoS};

/// The session's state worth keeping across a reload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Unacknowledged QoS 1/2 publishes: in flight first (send order), then queued.
    pub pending: Vec<PendingPublish>,
    /// Inbound QoS 2 packet ids received and not yet released by PUBREL: after a reload, the
    /// broker's DUP resend of one of them is acknowledged, not delivered again.
    pub incoming_qos2: Vec<u16>,
}

impl Snapshot {
    /// What `session` would need after a reload.
    pub fn of(session: &Session) -> Snapshot {
        let mut pending = session.pending_publishes();
        pending.retain(|p| p.qos != QoS::AtMostOnce);
        Snapshot {
            pending,
            incoming_qos2: session.incoming_qos2_ids(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.incoming_qos2.is_empty()
    }
}

/// Why a store could not keep a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage quota is exhausted.
    #[error("storage is full")]
    Full,
    /// There is no storage (disabled, private mode) or it failed.
    #[error("storage is unavailable")]
    Unavailable,
}

/// Where snapshots are kept: replaced whole on each write.
pub trait Store {
    fn write(&mut self, snapshot: &Snapshot) -> Result<(), StoreError>;
}

/// A store and the session change it last holds.
#[derive(Debug)]
pub struct Persistence<S> {
    store: S,
    written_at: Option<u64>,
}

impl<S: Store> Persistence<S> {
    pub fn new(store: S) -> Persistence<S> {
        Persistence {
            store,
            written_at: None,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Publishes with the message written ahead to the store (QoS 1/2), so that `Ok` means
    /// the message survives a reload.
    pub fn publish(
        &mut self,
        session: &mut Session,
        now: Instant,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<PublishId, CommandError> {
        if qos != QoS::AtMostOnce {
            let mut ahead = Snapshot::of(session);
            ahead.pending.push(PendingPublish {
                topic: topic.to_string(),
                payload: payload.to_vec(),
                qos,
                retain,
                packet_id: None,
                released: false,
            });
            if let Err(e) = self.store.write(&ahead) {
                // Nothing was accepted; what is stored still describes the session.
                return Err(CommandError::Storage(e));
            }
            self.written_at = None;
        }
        let result = session.publish(now, topic, payload, qos, retain);
        // Refused: the row written ahead must go. Accepted: the packet id may be assigned.
        let _ = self.sync(session);
        result
    }

    /// Rewrites the snapshot if the session changed since the last write. On failure the
    /// previous snapshot stays: it still holds every accepted publish (they are written ahead),
    /// but it may also hold some already completed, or miss an inbound QoS 2 id, so after a
    /// reload a message could go or arrive twice. The adapter must report the error (the
    /// browser client emits a `storage` error); the next call tries again.
    pub fn sync(&mut self, session: &Session) -> Result<(), StoreError> {
        let change = session.pending_changes();
        if self.written_at == Some(change) {
            return Ok(());
        }
        self.store.write(&Snapshot::of(session))?;
        self.written_at = Some(change);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Options;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

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

    fn stored_payloads(p: &Persistence<QuotaStore>) -> Vec<Vec<u8>> {
        let kept = p.store().kept.clone().unwrap_or_default();
        kept.pending.into_iter().map(|p| p.payload).collect()
    }

    #[test]
    fn a_publish_the_store_cannot_hold_is_refused_and_nothing_accepted_is_lost() {
        let mut session = Session::new(Options::new("t"));
        let mut persistence = Persistence::new(QuotaStore {
            quota: 10,
            kept: None,
        });
        let now = Instant::from_millis(0);
        let first = persistence.publish(&mut session, now, "t", b"12345", QoS::AtLeastOnce, false);
        assert!(first.is_ok());
        let second =
            persistence.publish(&mut session, now, "t", b"678901", QoS::ExactlyOnce, false);
        assert_eq!(
            second.map_err(|e| e.code()),
            Err("storage_full"),
            "5 + 6 bytes is over the quota"
        );
        assert_eq!(
            session.pending_count(),
            1,
            "the refused publish was not accepted"
        );
        assert_eq!(stored_payloads(&persistence), vec![b"12345".to_vec()]);
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
        let mut persistence = Persistence::new(QuotaStore {
            quota: 100,
            kept: None,
        });
        let now = Instant::from_millis(0);
        let refused = persistence.publish(&mut session, now, "a/#", b"x", QoS::AtLeastOnce, false);
        assert_eq!(refused.map_err(|e| e.code()), Err("invalid_topic"));
        assert!(stored_payloads(&persistence).is_empty());
    }

    #[test]
    fn a_failed_write_keeps_the_previous_snapshot_and_the_next_sync_retries() {
        let mut session = Session::new(Options::new("t"));
        let mut persistence = Persistence::new(QuotaStore {
            quota: 100,
            kept: None,
        });
        let now = Instant::from_millis(0);
        persistence
            .publish(&mut session, now, "t", b"abc", QoS::AtLeastOnce, false)
            .unwrap();
        persistence.store_mut().quota = 0;
        let _ = session.publish(now, "t", b"d", QoS::AtLeastOnce, false);
        assert_eq!(persistence.sync(&session), Err(StoreError::Full));
        assert_eq!(stored_payloads(&persistence), vec![b"abc".to_vec()]);
        persistence.store_mut().quota = 100;
        assert_eq!(persistence.sync(&session), Ok(()));
        assert_eq!(
            stored_payloads(&persistence),
            vec![b"abc".to_vec(), b"d".to_vec()]
        );
    }
}
