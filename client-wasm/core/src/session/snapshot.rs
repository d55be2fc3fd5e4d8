//! What a session keeps across a reload ([`Snapshot`]), and restoring one into a new session:
//! every row is checked like user input. How and when it is written is [`crate::persist`]'s job.

use super::outgoing::{fits_one_packet, Awaiting, OutMessage, PendingPublish};
use super::{PublishId, Session};
use crate::text::{display_from_text, push_num, Text};
use crate::topic::{self, TopicError};
use crate::QoS;

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
    #[must_use]
    pub fn of(session: &Session) -> Snapshot {
        let mut pending = session.pending_publishes();
        pending.retain(|p| p.qos != QoS::AtMostOnce);
        Snapshot {
            pending,
            incoming_qos2: session.incoming_qos2_ids(),
        }
    }

    /// Whether there is nothing to keep: no pending publish and no inbound QoS 2 id.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.incoming_qos2.is_empty()
    }
}

/// Why a stored row was refused at restore.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowError {
    /// The row's topic is not a valid topic name.
    Topic(TopicError),
    /// Topic and payload do not fit in one PUBLISH (MQTT 3.1.1 §2.2.3 Remaining Length).
    TooLarge,
    /// The row is a QoS 0 publish, which the session never stores.
    QoS0,
    /// The row carries packet identifier 0 (MQTT 3.1.1 §2.3.1).
    ZeroPacketId,
    /// An earlier row already holds this packet identifier.
    DuplicatePacketId(u16),
    /// `released` is set on a row that is not QoS 2 or has no packet identifier.
    ReleasedWithoutQos2Id,
    /// The row is past what the session can hold (`max_inflight + max_queued`).
    OverCapacity,
}

impl Text for RowError {
    fn write_text(&self, out: &mut String) {
        match self {
            RowError::Topic(e) => {
                out.push_str("invalid topic: ");
                e.write_text(out);
            }
            RowError::TooLarge => out.push_str("the message is larger than MQTT allows"),
            RowError::QoS0 => out.push_str("QoS 0 messages are never stored"),
            RowError::ZeroPacketId => {
                out.push_str("packet identifier 0 is not allowed [MQTT-2.3.1-1]");
            }
            RowError::DuplicatePacketId(id) => {
                out.push_str("packet identifier ");
                push_num(out, u64::from(*id));
                out.push_str(" is already used by another stored row");
            }
            RowError::ReleasedWithoutQos2Id => {
                out.push_str("only a QoS 2 message sent with a packet identifier can be released");
            }
            RowError::OverCapacity => {
                out.push_str("more rows than the session holds (max_inflight + max_queued)");
            }
        }
    }
}

display_from_text!(RowError);

impl std::error::Error for RowError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RowError::Topic(e) => Some(e),
            _ => None,
        }
    }
}

impl From<TopicError> for RowError {
    fn from(e: TopicError) -> Self {
        RowError::Topic(e)
    }
}

/// A stored row that was not restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// Index in `Snapshot::pending`, or in `Snapshot::incoming_qos2` for `incoming`.
    pub index: usize,
    /// The row is an inbound QoS 2 id (from `Snapshot::incoming_qos2`), not a pending publish.
    pub incoming: bool,
    /// Why it was refused.
    pub reason: RowError,
}

/// What `Session::restore` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restored {
    /// The new id of each restored publish, with its index in `Snapshot::pending`.
    pub publishes: Vec<(usize, PublishId)>,
    /// The rows that were not restored, each with its reason.
    pub rejected: Vec<RejectedRow>,
}

impl Session {
    /// Restores a snapshot kept before a reload (see [`crate::persist`]). Call before
    /// `connect`. Publishes with a packet id are resent under it after connecting (PUBLISH with
    /// DUP, or PUBREL once released); the others are queued. Rows that could not have come from
    /// a session (storage is user-editable) are refused and listed, never trusted.
    #[must_use = "refused rows must be reported, and restored ids mapped to their rows"]
    pub fn restore(&mut self, snapshot: Snapshot) -> Restored {
        let mut restored = Restored::default();
        for (index, row) in snapshot.pending.into_iter().enumerate() {
            let slot = match self.admit(&row) {
                Ok(slot) => slot,
                Err(reason) => {
                    restored.rejected.push(RejectedRow {
                        index,
                        incoming: false,
                        reason,
                    });
                    continue;
                }
            };
            let id = self.new_publish_id();
            let message = OutMessage {
                topic: row.topic,
                payload: row.payload,
                qos: row.qos,
                retain: row.retain,
            };
            match slot {
                Some((pid, stage)) => self.outgoing.push_inflight(id, pid, message, stage),
                None => self.outgoing.queue_back(id, message),
            }
            restored.publishes.push((index, id));
        }
        for (index, pid) in snapshot.incoming_qos2.into_iter().enumerate() {
            if pid == 0 {
                restored.rejected.push(RejectedRow {
                    index,
                    incoming: true,
                    reason: RowError::ZeroPacketId,
                });
            } else {
                // A stored id is as good as one received: its repeat is not delivered.
                let _ = self.incoming_qos2.received(pid);
            }
        }
        restored
    }

    /// Whether a stored row may join the session: its packet id (reserved now) and the stage
    /// it resumes at, or `None` to queue it.
    fn admit(&mut self, row: &PendingPublish) -> Result<Option<(u16, Awaiting)>, RowError> {
        let stage = check_row(row)?;
        if self.pending_count() >= self.options.max_inflight + self.options.max_queued {
            return Err(RowError::OverCapacity);
        }
        match (row.packet_id, stage) {
            (Some(pid), Some(stage)) if self.pids.reserve(pid) => Ok(Some((pid, stage))),
            (Some(pid), Some(_)) => Err(RowError::DuplicatePacketId(pid)),
            _ => Ok(None),
        }
    }
}

/// Checks one stored publish; the stage it resumes at when it carries a packet id.
fn check_row(row: &PendingPublish) -> Result<Option<Awaiting>, RowError> {
    topic::validate_name(&row.topic)?;
    if !fits_one_packet(&row.topic, row.payload.len()) {
        return Err(RowError::TooLarge);
    }
    if row.packet_id == Some(0) {
        return Err(RowError::ZeroPacketId);
    }
    match (row.qos, row.released, row.packet_id) {
        (QoS::AtMostOnce, _, _) => Err(RowError::QoS0),
        (QoS::AtLeastOnce, true, _) | (QoS::ExactlyOnce, true, None) => {
            Err(RowError::ReleasedWithoutQos2Id)
        }
        (_, _, None) => Ok(None),
        (QoS::AtLeastOnce, false, Some(_)) => Ok(Some(Awaiting::Puback)),
        (QoS::ExactlyOnce, false, Some(_)) => Ok(Some(Awaiting::Pubrec)),
        (QoS::ExactlyOnce, true, Some(_)) => Ok(Some(Awaiting::Pubcomp)),
    }
}
