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

mod event;
mod options;
mod outgoing;
mod restore;

use std::collections::VecDeque;

use crate::packet::{Packet, Pid, QosPid};

use crate::codec;
use crate::error::{
    CommandError, ConnectionError, OptionsError, ProtocolViolation, TransportFailure,
};
use crate::reconnect::Backoff;
use crate::takeover::TakeoverDetector;
use crate::time::Instant;
use crate::{topic, QoS};

pub use event::{Event, Message, PublishFailure, PublishId, RequestId, TransportAction};
pub use options::{Options, Will};
pub use outgoing::PendingPublish;
use outgoing::{fits_one_packet, Awaiting, OutMessage, Outgoing, PacketIds, PidSet};
pub use restore::{RejectedRow, Restored, RowError};

/// The state of the link to the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Not connected and not trying: before `connect`, after `disconnect`, after a permanent error.
    Idle,
    /// `Open` was requested; waiting for `handle_transport_open`.
    Opening {
        deadline: Instant,
    },
    /// CONNECT sent; waiting for CONNACK.
    AwaitConnack {
        deadline: Instant,
    },
    Up,
    /// Waiting out the reconnect delay.
    Backoff {
        until: Instant,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum RequestKind {
    Subscribe(Vec<(String, QoS)>),
    Unsubscribe(Vec<String>),
}

/// A SUBSCRIBE or UNSUBSCRIBE. `id` is `None` for the session's own resubscribe.
#[derive(Debug, Clone)]
struct Request {
    id: Option<RequestId>,
    kind: RequestKind,
}

/// One client session, possibly spanning many connections.
#[derive(Debug)]
pub struct Session {
    options: Options,
    link: Link,
    backoff: Backoff,
    takeovers: TakeoverDetector,
    rx: Vec<u8>,
    tx: VecDeque<Vec<u8>>,
    actions: VecDeque<TransportAction>,
    events: VecDeque<Event>,
    pids: PacketIds,
    outgoing: Outgoing,
    /// Filters the user wants, in the order first asked, for resubscribing.
    subscriptions: Vec<(String, QoS)>,
    /// Requests sent and awaiting SUBACK/UNSUBACK, by packet id.
    awaiting_ack: Vec<(u16, Request)>,
    /// Requests to send once connected.
    unsent: VecDeque<Request>,
    /// Inbound QoS 2 packet ids between PUBLISH and PUBREL: a repeat is not delivered again.
    incoming_qos2: PidSet,
    last_sent: Instant,
    last_received: Instant,
    ping_deadline: Option<Instant>,
    next_publish_id: u64,
    next_request_id: u64,
    /// Bumped whenever `incoming_qos2` changes (the outgoing side counts its own).
    incoming_changes: u64,
    /// `disconnect` was asked while inbound QoS 2 messages awaited PUBREL: until then.
    draining_until: Option<Instant>,
}

impl Session {
    pub fn new(options: Options) -> Self {
        let backoff = Backoff::new(options.reconnect.clone());
        let takeovers = TakeoverDetector::new(options.reconnect.takeover);
        Self {
            options,
            link: Link::Idle,
            backoff,
            takeovers,
            rx: Vec::new(),
            tx: VecDeque::new(),
            actions: VecDeque::new(),
            events: VecDeque::new(),
            pids: PacketIds::default(),
            outgoing: Outgoing::default(),
            subscriptions: Vec::new(),
            awaiting_ack: Vec::new(),
            unsent: VecDeque::new(),
            incoming_qos2: PidSet::default(),
            last_sent: Instant::default(),
            last_received: Instant::default(),
            ping_deadline: None,
            next_publish_id: 1,
            next_request_id: 1,
            incoming_changes: 0,
            draining_until: None,
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Change options (e.g. credentials after activation). Used from the next connection on.
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.options
    }

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
        &self.subscriptions
    }

    /// Whether `topic` matches one of the session's subscriptions.
    pub fn is_subscribed(&self, topic: &str) -> bool {
        self.subscriptions
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
        self.outgoing.changes() + self.incoming_changes
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
        for (filter, qos) in &list {
            match self.subscriptions.iter_mut().find(|(f, _)| f == filter) {
                Some(existing) => existing.1 = *qos,
                None => self.subscriptions.push((filter.clone(), *qos)),
            }
        }
        Ok(self.request(now, RequestKind::Subscribe(list)))
    }

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
        self.subscriptions
            .retain(|(f, _)| !filters.contains(&f.as_str()));
        let list = filters.iter().map(|f| f.to_string()).collect();
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

    /// Whether a publish would go out now rather than wait in the queue: connected, and for
    /// QoS 1/2 nothing queued ahead of it, room in the window and a free packet id (requests and
    /// restored rows hold ids too).
    fn can_send_now(&self, qos: QoS, ahead: usize) -> bool {
        self.link == Link::Up
            && (qos == QoS::AtMostOnce
                || (ahead == 0
                    && self.outgoing.queued_len() == 0
                    && self.outgoing.inflight_len() < self.options.max_inflight
                    && self.pids.has_free()))
    }

    fn accept_publish(
        &mut self,
        now: Instant,
        id: PublishId,
        topic_name: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) {
        let message = OutMessage {
            topic: topic_name.to_string(),
            payload: payload.to_vec(),
            qos,
            retain,
        };
        let unsent = if self.can_send_now(qos, 0) {
            self.send_new_publish(now, id, message)
        } else {
            Some(message)
        };
        if let Some(message) = unsent {
            self.outgoing.queue_back(id, message);
        }
    }

    /// Send DISCONNECT (if connected), close the transport, and stop reconnecting. Unacknowledged
    /// publishes stay pending (see `pending_publishes`) for a later `connect`. Inbound QoS 2
    /// messages already delivered get their PUBCOMP first: while their PUBREL is awaited (at
    /// most `drain_timeout`), nothing new is delivered and only PUBREL is answered.
    pub fn disconnect(&mut self, now: Instant) {
        let drain = self.options.drain_timeout;
        if self.link == Link::Up && self.incoming_qos2.len() > 0 && !drain.is_zero() {
            self.draining_until.get_or_insert(now + drain);
            return;
        }
        self.disconnect_now(now);
    }

    /// [`Session::disconnect`] without waiting for PUBRELs: for callers that tear the transport
    /// down at once (a page closing).
    pub fn disconnect_now(&mut self, now: Instant) {
        self.draining_until = None;
        let link = self.link;
        if link == Link::Idle {
            return;
        }
        // Bytes already queued on a live link (a PUBCOMP, say) still go out, before DISCONNECT.
        let queued = if link == Link::Up {
            core::mem::take(&mut self.tx)
        } else {
            VecDeque::new()
        };
        self.reset_link_state();
        self.tx = queued;
        self.link = Link::Idle;
        match link {
            Link::Up => {
                self.send(now, &Packet::Disconnect);
                self.actions.push_back(TransportAction::Close);
            }
            Link::Opening { .. } | Link::AwaitConnack { .. } => {
                self.actions.push_back(TransportAction::Close);
            }
            Link::Idle | Link::Backoff { .. } => {}
        }
        self.events.push_back(Event::Disconnected);
    }

    /// While draining: disconnect once the last awaited PUBREL was answered or time is up.
    fn finish_draining(&mut self, now: Instant) {
        if let Some(until) = self.draining_until {
            if self.incoming_qos2.len() == 0 || now >= until {
                self.disconnect_now(now);
            }
        }
    }

    // ---- inputs from the adapter ---------------------------------------------------------

    /// The transport asked for by `TransportAction::Open` is open: CONNECT goes out.
    pub fn handle_transport_open(&mut self, now: Instant) {
        if !matches!(self.link, Link::Opening { .. }) {
            return; // a late open after disconnect: the adapter gets no use for it
        }
        self.link = Link::AwaitConnack {
            deadline: now + self.options.connect_timeout,
        };
        let will = self.options.will.as_ref().map(|w| crate::packet::LastWill {
            topic: &w.topic,
            message: &w.payload,
            qos: w.qos,
            retain: w.retain,
        });
        let connect = crate::packet::Connect {
            protocol: crate::packet::Protocol::MQTT311,
            keep_alive: self.options.keep_alive_secs,
            client_id: &self.options.client_id,
            clean_session: self.options.clean_session,
            last_will: will,
            username: self.options.username.as_deref(),
            password: self.options.password.as_deref(),
        };
        let checked = self.options.check().and_then(|()| {
            codec::encode(&Packet::Connect(connect)).map_err(OptionsError::Unencodable)
        });
        match checked {
            Ok(bytes) => self.queue_bytes(now, bytes),
            Err(e) => self.lose_connection(now, ConnectionError::InvalidOptions(e), false),
        }
    }

    /// The transport failed to open, failed while open, or the peer closed it (a WebSocket
    /// close frame is [`TransportFailure::Closed`]). Whether the session reconnects follows from
    /// the failure alone (see [`TransportFailure::is_retried`]).
    pub fn handle_transport_closed(&mut self, now: Instant, failure: TransportFailure) {
        if matches!(
            self.link,
            Link::Opening { .. } | Link::AwaitConnack { .. } | Link::Up
        ) {
            self.lose_connection(now, ConnectionError::Transport(failure), true);
        }
    }

    /// Bytes received from the transport, in any chunking.
    pub fn handle_bytes(&mut self, now: Instant, bytes: &[u8]) {
        if !matches!(self.link, Link::AwaitConnack { .. } | Link::Up) {
            return;
        }
        self.rx.extend_from_slice(bytes);
        self.last_received = now;
        // A PINGRESP may be queued behind a backlog: bytes arriving prove the link is alive, so
        // the deadline runs from the last byte, not from the PINGREQ.
        if let Some(deadline) = self.ping_deadline.as_mut() {
            *deadline = now + self.options.effective_ping_timeout();
        }
        // Anything but a CONNACK first means this is not an MQTT server: say so at once.
        if let (Link::AwaitConnack { .. }, Some(&first)) = (self.link, self.rx.first()) {
            if first != 0x20 {
                let found = codec::packet_name(first);
                let violation = ProtocolViolation::NotConnack {
                    found,
                    first_byte: first,
                };
                self.lose_connection(now, violation.into(), false);
                return;
            }
        }
        let rx = core::mem::take(&mut self.rx);
        let mut offset = 0;
        let mut failure = None;
        while let Some(rest) = rx.get(offset..) {
            match codec::decode(rest, self.options.max_incoming_packet) {
                Ok(Some((packet, used))) => {
                    offset += used;
                    if let Err(violation) = self.handle_packet(now, packet) {
                        failure = Some(ConnectionError::Violation(violation));
                        break;
                    }
                    if !matches!(self.link, Link::AwaitConnack { .. } | Link::Up) {
                        break; // e.g. CONNACK refused
                    }
                }
                Ok(None) => break,
                Err(codec::DecodeError::ClientOnlyPacket { packet }) => {
                    failure = Some(ConnectionError::Violation(
                        ProtocolViolation::ClientOnlyPacket { packet },
                    ));
                    break;
                }
                Err(e) => {
                    failure = Some(ConnectionError::Protocol(e));
                    break;
                }
            }
        }
        if let Some(error) = failure {
            self.lose_connection(now, error, false);
        } else if matches!(self.link, Link::AwaitConnack { .. } | Link::Up) {
            self.rx = rx;
            self.rx.drain(..offset);
        }
    }

    /// A timer armed from `poll_timeout` fired (or any time: only what is due acts).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.finish_draining(now);
        match self.link {
            Link::Opening { deadline } | Link::AwaitConnack { deadline } if now >= deadline => {
                let ms = self.options.connect_timeout.as_millis() as u64;
                self.lose_connection(now, ConnectionError::ConnectTimeout(ms), false);
            }
            Link::Up => {
                if let Some(deadline) = self.ping_deadline {
                    if now >= deadline {
                        let ms = self.options.effective_ping_timeout().as_millis() as u64;
                        self.lose_connection(now, ConnectionError::KeepaliveTimeout(ms), false);
                    }
                } else if let Some(next_ping) = self.next_ping() {
                    if now >= next_ping {
                        self.send(now, &Packet::Pingreq);
                        self.ping_deadline = Some(now + self.options.effective_ping_timeout());
                    }
                }
            }
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
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let mut first = self.tx.pop_front()?;
        while let Some(next) = self.tx.pop_front() {
            first.extend_from_slice(&next);
        }
        Some(first)
    }

    pub fn poll_transport(&mut self) -> Option<TransportAction> {
        self.actions.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When `handle_timeout` is next due, if anything is pending.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.link {
            Link::Opening { deadline } | Link::AwaitConnack { deadline } => Some(deadline),
            Link::Backoff { until } => Some(until),
            Link::Up => {
                let keepalive = self.ping_deadline.or_else(|| self.next_ping());
                crate::flows::earliest(keepalive, self.draining_until)
            }
            Link::Idle => None,
        }
    }

    // ---- internals -----------------------------------------------------------------------

    /// PINGREQ is due a keepalive after the last packet sent (the spec's rule) or received,
    /// whichever is older: a client that only sends (QoS 0 into a stalled link) still probes.
    fn next_ping(&self) -> Option<Instant> {
        let keep_alive = self.options.keep_alive()?;
        Some(self.last_sent.min(self.last_received) + keep_alive)
    }

    /// Removes and returns the request awaiting an ack under `pid`.
    fn take_request(&mut self, pid: u16) -> Option<Request> {
        let index = self.awaiting_ack.iter().position(|(p, _)| *p == pid)?;
        Some(self.awaiting_ack.swap_remove(index).1)
    }

    fn new_publish_id(&mut self) -> PublishId {
        let id = PublishId(self.next_publish_id);
        self.next_publish_id += 1;
        id
    }

    fn open_transport(&mut self, now: Instant) {
        self.link = Link::Opening {
            deadline: now + self.options.connect_timeout,
        };
        self.actions.push_back(TransportAction::Open);
    }

    fn queue_bytes(&mut self, now: Instant, bytes: Vec<u8>) {
        self.tx.push_back(bytes);
        self.last_sent = now;
    }

    /// Encodes and queues a packet built by the session (valid by construction).
    fn send(&mut self, now: Instant, packet: &Packet<'_>) {
        match codec::encode(packet) {
            Ok(bytes) => self.queue_bytes(now, bytes),
            Err(e) => debug_assert!(false, "session built an unencodable packet: {e}"),
        }
    }

    fn send_publish(&mut self, now: Instant, pid: u16, message: &OutMessage, dup: bool) {
        let Ok(pid) = Pid::try_from(pid) else { return };
        let qospid = match message.qos {
            QoS::AtMostOnce => QosPid::AtMostOnce,
            QoS::AtLeastOnce => QosPid::AtLeastOnce(pid),
            QoS::ExactlyOnce => QosPid::ExactlyOnce(pid),
        };
        let publish = crate::packet::Publish {
            dup,
            qospid,
            retain: message.retain,
            topic_name: &message.topic,
            payload: &message.payload,
        };
        self.send(now, &Packet::Publish(publish));
    }

    fn send_pid_packet(&mut self, now: Instant, pid: u16, make: fn(Pid) -> Packet<'static>) {
        if let Ok(pid) = Pid::try_from(pid) {
            self.send(now, &make(pid));
        }
    }

    /// Sends a publish for the first time. Returns it if no packet id was free: the caller
    /// keeps it (queued), or it is lost.
    #[must_use = "a publish returned for want of a packet id must be queued, or it is lost"]
    fn send_new_publish(
        &mut self,
        now: Instant,
        id: PublishId,
        message: OutMessage,
    ) -> Option<OutMessage> {
        let stage = match message.qos {
            QoS::AtMostOnce => {
                self.send_publish(now, 1, &message, false);
                self.events.push_back(Event::Published { id });
                return None;
            }
            QoS::AtLeastOnce => Awaiting::Puback,
            QoS::ExactlyOnce => Awaiting::Pubrec,
        };
        let Some(pid) = self.pids.allocate() else {
            return Some(message);
        };
        self.send_publish(now, pid, &message, false);
        self.outgoing.push_inflight(id, pid, message, stage);
        None
    }

    /// A packet id was freed: requests and publishes that waited for one go out now.
    fn use_freed_ids(&mut self, now: Instant) {
        while self.link == Link::Up && self.pids.has_free() {
            let Some(request) = self.unsent.pop_front() else {
                break;
            };
            self.send_request(now, request);
        }
        self.flush_queue(now);
    }

    /// Moves queued publishes into the in-flight window while there is room.
    fn flush_queue(&mut self, now: Instant) {
        while self.link == Link::Up
            && self.outgoing.inflight_len() < self.options.max_inflight
            && self.pids.has_free()
        {
            let Some((id, message)) = self.outgoing.pop_queued() else {
                break;
            };
            if let Some(message) = self.send_new_publish(now, id, message) {
                self.outgoing.queue_front(id, message);
                break;
            }
        }
    }

    fn request(&mut self, now: Instant, kind: RequestKind) -> RequestId {
        let id = RequestId(self.next_request_id);
        self.next_request_id += 1;
        let request = Request { id: Some(id), kind };
        if self.link == Link::Up {
            self.send_request(now, request);
        } else {
            self.unsent.push_back(request);
        }
        id
    }

    fn send_request(&mut self, now: Instant, request: Request) {
        let Some(pid_value) = self.pids.allocate() else {
            self.unsent.push_back(request);
            return;
        };
        let Ok(pid) = Pid::try_from(pid_value) else {
            return;
        };
        let packet = match &request.kind {
            RequestKind::Subscribe(list) => Packet::Subscribe(crate::packet::Subscribe {
                pid,
                topics: list
                    .iter()
                    .map(|(f, q)| crate::packet::SubscribeTopic {
                        topic_path: f.clone(),
                        qos: *q,
                    })
                    .collect(),
            }),
            RequestKind::Unsubscribe(list) => Packet::Unsubscribe(crate::packet::Unsubscribe {
                pid,
                topics: list.clone(),
            }),
        };
        self.send(now, &packet);
        self.awaiting_ack.push((pid_value, request));
    }

    /// Forgets the per-connection state. In-flight publishes, subscriptions and unacknowledged
    /// requests are kept for the next connection.
    fn reset_link_state(&mut self) {
        self.rx.clear();
        self.tx.clear();
        self.ping_deadline = None;
        // Back in the order they were made. An insertion by binary search (stable, the list is
        // short) instead of `sort_by_key`, whose stable sort costs the browser package 5 KB.
        let mut requests: Vec<Request> = Vec::with_capacity(self.awaiting_ack.len());
        for (pid, request) in core::mem::take(&mut self.awaiting_ack) {
            self.pids.release(pid);
            let at = requests.partition_point(|r| r.id <= request.id);
            requests.insert(at, request);
        }
        for request in requests.into_iter().rev() {
            self.unsent.push_front(request);
        }
    }

    fn lose_connection(&mut self, now: Instant, error: ConnectionError, transport_closed: bool) {
        if self.draining_until.is_some() {
            // The caller asked to disconnect: the link ending early ends the drain, no retry.
            if transport_closed {
                self.link = Link::Idle;
                self.reset_link_state();
                self.draining_until = None;
                self.events.push_back(Event::Disconnected);
            } else {
                self.disconnect_now(now);
            }
            return;
        }
        if !transport_closed {
            self.actions.push_back(TransportAction::Close);
        }
        self.reset_link_state();
        // Closed by the peer as a takeover closes: a retried failure, and through a bridge its
        // "upstream closed" 1000 (a 1001 drain or a 1011 failure is no takeover).
        let by_peer = matches!(&error, ConnectionError::Transport(f) if f.is_retried()
            && !matches!(f, TransportFailure::Closed { code, .. } if *code != crate::wire::close::NORMAL));
        let error = if self.takeovers.dropped(now, by_peer) {
            ConnectionError::ConnectedElsewhere {
                drops: self.takeovers.short_drops(),
            }
        } else {
            error
        };
        let retry = self.options.reconnect.enabled && error.is_retried();
        let reconnect_in = retry.then(|| self.backoff.next_delay());
        self.link = match reconnect_in {
            Some(delay) => Link::Backoff { until: now + delay },
            None => Link::Idle,
        };
        let attempt = self.backoff.attempt();
        self.events.push_back(Event::ConnectionLost {
            error,
            reconnect_in,
            attempt,
        });
    }

    fn handle_packet(&mut self, now: Instant, packet: Packet<'_>) -> Result<(), ProtocolViolation> {
        if let Link::AwaitConnack { .. } = self.link {
            return match packet {
                Packet::Connack(connack) => {
                    match crate::error::ConnectRefused::from_code(connack.code) {
                        Some(refused) => self.lose_connection(now, refused.into(), false),
                        None if connack.session_present && self.options.clean_session => {
                            return Err(ProtocolViolation::SessionPresentOnCleanSession);
                        }
                        None => self.on_connected(now, connack.session_present),
                    }
                    Ok(())
                }
                other => Err(ProtocolViolation::BeforeConnack {
                    packet: crate::packet::name(&other),
                }),
            };
        }
        match packet {
            // Draining before DISCONNECT: new messages are neither delivered nor acknowledged
            // (the broker keeps them for the next session, or drops them with a clean one).
            Packet::Publish(_) if self.draining_until.is_some() => Ok(()),
            Packet::Publish(publish) => self.on_publish(now, publish),
            Packet::Puback(pid) => {
                self.complete(now, pid.get(), Awaiting::Puback);
                Ok(())
            }
            Packet::Pubrec(pid) => {
                let pid = pid.get();
                // Also answers a repeated PUBREC for a message already released.
                if self.outgoing.pubrec(pid) {
                    self.send_pid_packet(now, pid, Packet::Pubrel);
                }
                Ok(())
            }
            Packet::Pubrel(pid) => {
                if self.incoming_qos2.remove(pid.get()) {
                    self.incoming_changes += 1;
                }
                self.send_pid_packet(now, pid.get(), Packet::Pubcomp);
                self.finish_draining(now);
                Ok(())
            }
            Packet::Pubcomp(pid) => {
                self.complete(now, pid.get(), Awaiting::Pubcomp);
                Ok(())
            }
            Packet::Suback(suback) => {
                let outcome = self.on_suback(suback);
                self.use_freed_ids(now);
                outcome
            }
            Packet::Unsuback(pid) => {
                match self.take_request(pid.get()) {
                    Some(Request {
                        id,
                        kind: RequestKind::Unsubscribe(_),
                    }) => {
                        self.pids.release(pid.get());
                        if let Some(request) = id {
                            self.events.push_back(Event::Unsubscribed { request });
                        }
                        self.use_freed_ids(now);
                        Ok(())
                    }
                    Some(other) => {
                        self.awaiting_ack.push((pid.get(), other));
                        Err(ProtocolViolation::UnsubackForSubscribe { pid: pid.get() })
                    }
                    None => Ok(()), // a late ack for a request already retried: harmless
                }
            }
            Packet::Pingresp => {
                self.ping_deadline = None;
                Ok(())
            }
            Packet::Connack(_) => Err(ProtocolViolation::SecondConnack),
            other => Err(ProtocolViolation::ClientOnlyPacket {
                packet: crate::packet::name(&other),
            }),
        }
    }

    fn on_connected(&mut self, now: Instant, session_present: bool) {
        self.link = Link::Up;
        self.last_received = now;
        self.backoff.reset();
        self.takeovers.connected(now);
        self.events.push_back(Event::Connected { session_present });
        if !session_present {
            // A new broker session: its QoS 2 ids start afresh, and it has no subscriptions.
            self.incoming_qos2.clear();
            self.incoming_changes += 1;
            self.fail_released_publishes();
            let pending: Vec<&str> = self
                .unsent
                .iter()
                .filter_map(|r| match &r.kind {
                    RequestKind::Subscribe(list) => Some(list.iter().map(|(f, _)| f.as_str())),
                    RequestKind::Unsubscribe(_) => None,
                })
                .flatten()
                .collect();
            let resubscribe: Vec<(String, QoS)> = self
                .subscriptions
                .iter()
                .filter(|(f, _)| !pending.contains(&f.as_str()))
                .cloned()
                .collect();
            if !resubscribe.is_empty() {
                self.send_request(
                    now,
                    Request {
                        id: None,
                        kind: RequestKind::Subscribe(resubscribe),
                    },
                );
            }
        }
        for request in core::mem::take(&mut self.unsent) {
            self.send_request(now, request);
        }
        // Resend in-flight publishes in their original order, marked as duplicates.
        let inflight: Vec<(u16, Awaiting, OutMessage)> = self
            .outgoing
            .inflight()
            .into_iter()
            .map(|f| (f.pid, f.stage, f.message.clone()))
            .collect();
        for (pid, stage, message) in inflight {
            match stage {
                Awaiting::Pubcomp => self.send_pid_packet(now, pid, Packet::Pubrel),
                _ => self.send_publish(now, pid, &message, true),
            }
        }
        self.flush_queue(now);
    }

    fn on_publish(
        &mut self,
        now: Instant,
        publish: crate::packet::Publish<'_>,
    ) -> Result<(), ProtocolViolation> {
        topic::validate_name(publish.topic_name).map_err(ProtocolViolation::InvalidTopicName)?;
        let deliver = match publish.qospid {
            QosPid::AtMostOnce => true,
            QosPid::AtLeastOnce(pid) => {
                self.send(now, &Packet::Puback(pid));
                true
            }
            QosPid::ExactlyOnce(pid) => {
                let first = self.incoming_qos2.insert(pid.get());
                self.incoming_changes += u64::from(first);
                self.send(now, &Packet::Pubrec(pid));
                first
            }
        };
        if deliver {
            self.events.push_back(Event::Message(Message {
                topic: publish.topic_name.to_string(),
                payload: publish.payload.to_vec(),
                qos: publish.qospid.qos(),
                retain: publish.retain,
                dup: publish.dup,
            }));
        }
        Ok(())
    }

    fn on_suback(&mut self, suback: crate::packet::Suback) -> Result<(), ProtocolViolation> {
        let pid = suback.pid.get();
        let Some(request) = self.take_request(pid) else {
            return Ok(()); // a late ack for a request already retried
        };
        let RequestKind::Subscribe(list) = &request.kind else {
            self.awaiting_ack.push((pid, request));
            return Err(ProtocolViolation::SubackForUnsubscribe { pid });
        };
        if list.len() != suback.return_codes.len() {
            let violation = ProtocolViolation::SubackCountMismatch {
                pid,
                codes: suback.return_codes.len(),
                filters: list.len(),
            };
            self.awaiting_ack.push((pid, request));
            return Err(violation);
        }
        self.pids.release(pid);
        let granted: Vec<Option<QoS>> = suback
            .return_codes
            .iter()
            .map(|code| match code {
                crate::packet::SubscribeReturnCodes::Success(qos) => Some(*qos),
                crate::packet::SubscribeReturnCodes::Failure => None,
            })
            .collect();
        // A refused filter is not resubscribed after a reconnect.
        for ((filter, _), granted) in list.iter().zip(&granted) {
            if granted.is_none() {
                self.subscriptions.retain(|(f, _)| f != filter);
            }
        }
        if let Some(request) = request.id {
            self.events
                .push_back(Event::Subscribed { request, granted });
        }
        Ok(())
    }

    /// The broker came back without our session: QoS 2 publishes already released (PUBREL sent,
    /// PUBCOMP awaited) cannot be completed, since the broker that would answer PUBCOMP for an
    /// unknown id (mosquitto does) would make `Published` a lie. Those still awaiting PUBREC
    /// are sent again: a broker that stores QoS 2 at PUBLISH and forwards at PUBREL (§4.3.3
    /// method A, mosquitto) discarded them with the session.
    fn fail_released_publishes(&mut self) {
        for done in self.outgoing.take_released() {
            self.pids.release(done.pid);
            self.events.push_back(Event::PublishFailed {
                id: done.id,
                reason: PublishFailure::SessionLostBeforePubcomp,
            });
        }
    }

    /// Inbound QoS 2 packet ids received and not yet released (PUBREL), to persist with the
    /// pending publishes: after a reload, the broker's DUP resend of one of them must not be
    /// delivered again.
    pub fn incoming_qos2_ids(&self) -> Vec<u16> {
        self.incoming_qos2.iter().collect()
    }

    /// PUBACK or PUBCOMP: the publish is done; its window slot goes to the queue.
    fn complete(&mut self, now: Instant, pid: u16, stage: Awaiting) {
        let done = match stage {
            Awaiting::Puback => self.outgoing.puback(pid),
            Awaiting::Pubcomp => self.outgoing.pubcomp(pid),
            Awaiting::Pubrec => None,
        };
        // An ack for an unknown id (e.g. after a resend was acked twice) is ignored.
        if let Some(done) = done {
            self.pids.release(pid);
            self.events.push_back(Event::Published { id: done.id });
            self.use_freed_ids(now);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
