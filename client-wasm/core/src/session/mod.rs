//! The MQTT 3.1.1 session engine: no sockets, no timers, no clock.
//!
//! # Polling order
//! After every input (`connect`, `handle_transport_open`, `handle_bytes`,
//! `handle_transport_closed`, `handle_timeout`, `subscribe`, `unsubscribe`, `publish`,
//! `disconnect`), a runtime adapter drains the outputs in this order:
//! 1. [`Session::poll_transmit`] until `None`: write the bytes to the transport, in order;
//! 2. [`Session::poll_transport`] until `None`: open or close the transport (a `Close` comes after
//!    the bytes that must go out before it, such as DISCONNECT);
//! 3. [`Session::poll_event`] until `None`: hand events to the application;
//! 4. [`Session::poll_timeout`]: arm one timer; when it fires, call `handle_timeout(now)`.
//!    Calling `handle_timeout` early or late is harmless: it acts on what is due at `now`.
//!
//! # Parts
//! This file is the public API and what the parts share (sending a packet, using a freed
//! packet id). The parts call one way: `dispatch` (bytes in, packets routed, CONNACK) calls
//! `link` (state, CONNECT, keepalive, DISCONNECT, losing the link), `requests` (SUBSCRIBE,
//! UNSUBSCRIBE) and `publish` (outgoing publishes, on `Outgoing`'s window and queue);
//! `snapshot` (what survives a reload, and restoring it) calls `publish`. State each part
//! keeps to itself has its own type with private fields: `Liveness`, `Requests`, `Outgoing`,
//! `IncomingQos2`, `PacketIds`.

mod dispatch;
mod event;
mod ids;
mod incoming;
mod link;
mod options;
mod outgoing;
mod publish;
mod requests;
mod snapshot;

use std::collections::VecDeque;

use crate::codec;
use crate::error::{CommandError, ConnectionError, TransportFailure};
use crate::packet::{Packet, Pid, QoS};
use crate::reconnect::Backoff;
use crate::takeover::TakeoverDetector;
use crate::time::{self, Instant};
use crate::topic;

pub use event::{Event, Message, PublishFailure, PublishId, RequestId, TransportAction};
use ids::PacketIds;
use incoming::IncomingQos2;
use link::{Link, Liveness};
pub use options::{Options, Will};
pub use outgoing::PendingPublish;
use outgoing::{fits_one_packet, Outgoing};
use requests::{RequestKind, Requests};
pub use snapshot::{RejectedRow, Restored, RowError, Snapshot};

/// One client session, possibly spanning many connections.
#[derive(Debug)]
pub struct Session {
    options: Options,
    link: Link,
    liveness: Liveness,
    backoff: Backoff,
    takeovers: TakeoverDetector,
    rx: Vec<u8>,
    tx: VecDeque<Vec<u8>>,
    actions: VecDeque<TransportAction>,
    events: VecDeque<Event>,
    pids: PacketIds,
    outgoing: Outgoing,
    requests: Requests,
    incoming_qos2: IncomingQos2,
    next_publish_id: u64,
    /// `disconnect` was asked while inbound QoS 2 messages awaited PUBREL: until then.
    draining_until: Option<Instant>,
}

impl Session {
    /// An idle session: nothing is sent until [`Session::connect`].
    pub fn new(options: Options) -> Self {
        let backoff = Backoff::new(options.reconnect.clone());
        let takeovers = TakeoverDetector::new(options.reconnect.takeover);
        Self {
            options,
            link: Link::Idle,
            liveness: Liveness::default(),
            backoff,
            takeovers,
            rx: Vec::new(),
            tx: VecDeque::new(),
            actions: VecDeque::new(),
            events: VecDeque::new(),
            pids: PacketIds::default(),
            outgoing: Outgoing::default(),
            requests: Requests::default(),
            incoming_qos2: IncomingQos2::default(),
            next_publish_id: 1,
            draining_until: None,
        }
    }

    /// The options in use.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Change options (e.g. credentials after activation). Used from the next connection on.
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.options
    }

    /// Whether the broker's CONNACK accepted the current connection and it is not lost yet.
    pub fn is_connected(&self) -> bool {
        self.link == Link::Up
    }

    /// Stopped by the takeover rule ([`ConnectionError::ConnectedElsewhere`]) and not asked to
    /// connect since.
    pub fn is_connected_elsewhere(&self) -> bool {
        self.link == Link::Idle && self.takeovers.tripped()
    }

    /// The filters the session subscribes to (and resubscribes to after a reconnect).
    pub fn subscriptions(&self) -> &[(String, QoS)] {
        self.requests.subscriptions()
    }

    /// Whether `topic` matches one of the session's subscriptions.
    pub fn is_subscribed(&self, topic: &str) -> bool {
        self.subscriptions()
            .iter()
            .any(|(f, _)| topic::matches(f, topic))
    }

    /// Publishes not yet acknowledged (in-flight first, then queued), to persist them.
    pub fn pending_publishes(&self) -> Vec<PendingPublish> {
        self.outgoing.pending()
    }

    /// A counter that changes whenever [`Session::pending_publishes`] or
    /// [`Session::incoming_qos2_ids`] would return something else (a publish accepted, sent or
    /// completed, a packet id assigned, a QoS 2 publish released, an inbound QoS 2 id received
    /// or released): an adapter that persists them writes only then, in the same turn as it
    /// writes the bytes, so a reload never sees the one without the other.
    pub fn pending_changes(&self) -> u64 {
        self.outgoing.changes() + self.incoming_qos2.changes()
    }

    /// Inbound QoS 2 packet ids received and not yet released (PUBREL), to persist with the
    /// pending publishes: after a reload, the broker's DUP resend of one of them must not be
    /// delivered again.
    pub fn incoming_qos2_ids(&self) -> Vec<u16> {
        self.incoming_qos2.ids()
    }

    /// Number of publishes not yet acknowledged.
    pub fn pending_count(&self) -> usize {
        self.outgoing.len()
    }

    // ---- commands ------------------------------------------------------------------------

    /// Start connecting (or skip the remaining reconnect delay). No-op while connecting or up.
    /// After [`ConnectionError::ConnectedElsewhere`] this takes the client id over: the
    /// takeover rule counts afresh.
    pub fn connect(&mut self, now: Instant) {
        if self.link == Link::Idle {
            self.takeovers.reset();
        }
        if matches!(self.link, Link::Idle | Link::Backoff { .. }) {
            self.open_transport(now);
        }
    }

    /// Subscribe to filters. Sent now if connected, otherwise after connecting; resubscribed
    /// automatically after a reconnect when the broker did not keep the session.
    pub fn subscribe(
        &mut self,
        now: Instant,
        filters: &[(&str, QoS)],
    ) -> Result<RequestId, CommandError> {
        if filters.is_empty() {
            return Err(CommandError::NoFilters);
        }
        for (filter, _) in filters {
            topic::validate_filter(filter)?;
        }
        let list: Vec<(String, QoS)> = filters.iter().map(|(f, q)| (f.to_string(), *q)).collect();
        self.requests.remember(&list);
        Ok(self.request(now, RequestKind::Subscribe(list)))
    }

    /// Unsubscribe from filters. Sent now if connected, otherwise after connecting; the filters
    /// are no longer resubscribed after a reconnect.
    pub fn unsubscribe(
        &mut self,
        now: Instant,
        filters: &[&str],
    ) -> Result<RequestId, CommandError> {
        if filters.is_empty() {
            return Err(CommandError::NoFilters);
        }
        for filter in filters {
            topic::validate_filter(filter)?;
        }
        self.requests.forget(filters);
        let list = filters.iter().map(ToString::to_string).collect();
        Ok(self.request(now, RequestKind::Unsubscribe(list)))
    }

    /// Publish a message. Accepted messages are sent now, or queued while offline or while the
    /// in-flight window is full; a full queue refuses with [`CommandError::QueueFull`].
    pub fn publish(
        &mut self,
        now: Instant,
        topic_name: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<PublishId, CommandError> {
        self.check_publish(topic_name, payload.len(), qos, 0)?;
        let id = self.new_publish_id();
        self.accept_publish(now, id, topic_name, payload, qos, retain);
        Ok(id)
    }

    /// What [`Session::publish`] would refuse, with `ahead` more publishes still to be accepted
    /// before this one (an adapter that writes each row to its store first: see
    /// [`crate::persist`]).
    pub fn check_publish(
        &self,
        topic_name: &str,
        payload_len: usize,
        qos: QoS,
        ahead: usize,
    ) -> Result<(), CommandError> {
        topic::validate_name(topic_name)?;
        if !fits_one_packet(topic_name, payload_len) {
            return Err(CommandError::PayloadTooLarge(payload_len));
        }
        let queued = self.outgoing.queued_len() + ahead;
        if !self.can_send_now(qos, ahead) && queued >= self.options.max_queued {
            return Err(CommandError::QueueFull(queued));
        }
        Ok(())
    }

    /// An id for a publish that [`Session::publish_reserved`] accepts (or
    /// [`Session::refuse_reserved`] refuses) later, once its row is in the store.
    #[must_use = "a reserved id must end in `publish_reserved` or `refuse_reserved`"]
    pub fn reserve_publish_id(&mut self) -> PublishId {
        self.new_publish_id()
    }

    /// Accepts a publish under an id from [`Session::reserve_publish_id`], checked again.
    pub fn publish_reserved(
        &mut self,
        now: Instant,
        id: PublishId,
        topic_name: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<(), CommandError> {
        self.check_publish(topic_name, payload.len(), qos, 0)?;
        self.accept_publish(now, id, topic_name, payload, qos, retain);
        Ok(())
    }

    /// A reserved publish will not be accepted: reported as [`Event::PublishFailed`].
    pub fn refuse_reserved(&mut self, id: PublishId, reason: PublishFailure) {
        self.events.push_back(Event::PublishFailed { id, reason });
    }

    // ---- inputs from the adapter ---------------------------------------------------------

    /// The transport asked for by `TransportAction::Open` is open: CONNECT goes out.
    pub fn handle_transport_open(&mut self, now: Instant) {
        if !matches!(self.link, Link::Opening { .. }) {
            return; // a late open after disconnect: the adapter gets no use for it
        }
        self.send_connect(now);
    }

    /// The transport failed to open, failed while open, or the peer closed it (a WebSocket
    /// close frame is [`TransportFailure::Closed`]). Whether the session reconnects follows from
    /// the failure alone (see [`TransportFailure::is_retried`]).
    pub fn handle_transport_closed(&mut self, now: Instant, failure: TransportFailure) {
        if self.link.has_transport() {
            self.lose_connection(now, ConnectionError::Transport(failure), true);
        }
    }

    /// Bytes received from the transport, in any chunking.
    pub fn handle_bytes(&mut self, now: Instant, bytes: &[u8]) {
        self.receive(now, bytes);
    }

    /// A timer armed from `poll_timeout` fired (or any time: only what is due acts).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.finish_draining(now);
        match self.link {
            Link::Opening { deadline } | Link::AwaitConnack { deadline } if now >= deadline => {
                let ms = self.options.connect_timeout.as_millis() as u64;
                self.lose_connection(now, ConnectionError::ConnectTimeout(ms), false);
            }
            Link::Up => self.check_keepalive(now),
            Link::Backoff { until } if now >= until => {
                self.events.push_back(Event::Reconnecting {
                    attempt: self.backoff.attempt(),
                });
                self.open_transport(now);
            }
            _ => {}
        }
    }

    // ---- outputs -------------------------------------------------------------------------

    /// The next bytes to write to the transport: one or more whole MQTT packets.
    #[must_use = "bytes the session sends are lost if dropped"]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let mut first = self.tx.pop_front()?;
        while let Some(next) = self.tx.pop_front() {
            first.extend_from_slice(&next);
        }
        Some(first)
    }

    /// The next thing to do with the transport: open one, or close it after the bytes above.
    #[must_use = "a transport action dropped leaves the session waiting for a transport"]
    pub fn poll_transport(&mut self) -> Option<TransportAction> {
        self.actions.pop_front()
    }

    /// The next event for the application.
    #[must_use = "an event dropped is lost: every accepted publish ends in one"]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When `handle_timeout` is next due, if anything is pending.
    #[must_use = "without a timer at this instant, keepalive and reconnects stall"]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.link {
            Link::Opening { deadline } | Link::AwaitConnack { deadline } => Some(deadline),
            Link::Backoff { until } => Some(until),
            Link::Up => {
                let keepalive = self.liveness.due(self.options.keep_alive());
                time::earliest(keepalive, self.draining_until)
            }
            Link::Idle => None,
        }
    }

    // ---- shared by the parts of the session ------------------------------------------------

    /// A packet id was freed: requests and publishes that waited for one go out now.
    fn use_freed_ids(&mut self, now: Instant) {
        while self.is_connected() && self.pids.has_free() {
            let Some(request) = self.requests.next_unsent() else {
                break;
            };
            self.send_request(now, request);
        }
        self.flush_queue(now);
    }

    fn queue_bytes(&mut self, now: Instant, bytes: Vec<u8>) {
        self.tx.push_back(bytes);
        self.liveness.sent(now);
    }

    /// Encodes and queues a packet built by the session (valid by construction).
    fn send(&mut self, now: Instant, packet: &Packet<'_>) {
        match codec::encode(packet) {
            Ok(bytes) => self.queue_bytes(now, bytes),
            Err(e) => debug_assert!(false, "session built an unencodable packet: {e}"),
        }
    }

    /// Sends PUBACK, PUBREC, PUBREL or PUBCOMP for `pid`.
    fn send_pid_packet(&mut self, now: Instant, pid: u16, make: fn(Pid) -> Packet<'static>) {
        if let Ok(pid) = Pid::try_from(pid) {
            self.send(now, &make(pid));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
