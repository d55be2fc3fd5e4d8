//! The link to the broker: its state, opening it (CONNECT), keepalive, closing it (DISCONNECT,
//! after the drain of inbound QoS 2) and losing it (backoff, the takeover rule).

use core::time::Duration;
use std::collections::VecDeque;

use super::{Event, Session, TransportAction};
use crate::codec;
use crate::error::{ConnectionError, OptionsError, TransportFailure};
use crate::packet::{Connect, LastWill, Packet, Protocol};
use crate::time::Instant;
use crate::wire::close;

/// The state of the link to the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Link {
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

impl Link {
    /// Whether bytes from the transport are read: CONNECT went out and the link was not lost.
    pub(super) fn reads(self) -> bool {
        matches!(self, Link::AwaitConnack { .. } | Link::Up)
    }

    /// Whether a transport is open or being opened.
    pub(super) fn has_transport(self) -> bool {
        matches!(
            self,
            Link::Opening { .. } | Link::AwaitConnack { .. } | Link::Up
        )
    }
}

/// What the keepalive asks for at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keepalive {
    Nothing,
    /// Send PINGREQ now.
    Ping,
    /// No PINGRESP (nor any byte) within the ping timeout: the link is dead.
    Dead,
}

/// When the link last carried bytes each way, and the PINGRESP awaited, if any.
#[derive(Debug, Default)]
pub(super) struct Liveness {
    last_sent: Instant,
    last_received: Instant,
    ping_deadline: Option<Instant>,
}

impl Liveness {
    pub(super) fn sent(&mut self, now: Instant) {
        self.last_sent = now;
    }

    /// Bytes arrived. A PINGRESP may be queued behind a backlog: bytes arriving prove the link
    /// is alive, so an outstanding ping's deadline runs from the last byte, not from PINGREQ.
    pub(super) fn received(&mut self, now: Instant, ping_timeout: Duration) {
        self.last_received = now;
        if let Some(deadline) = self.ping_deadline.as_mut() {
            *deadline = now + ping_timeout;
        }
    }

    /// CONNACK arrived: the link is alive from now on.
    pub(super) fn connected(&mut self, now: Instant) {
        self.last_received = now;
    }

    pub(super) fn pong(&mut self) {
        self.ping_deadline = None;
    }

    /// A new link awaits no PINGRESP.
    pub(super) fn reset(&mut self) {
        self.ping_deadline = None;
    }

    /// PINGREQ is due a keepalive after the last packet sent (the spec's rule) or received,
    /// whichever is older: a client that only sends (QoS 0 into a stalled link) still probes.
    fn next_ping(&self, keep_alive: Option<Duration>) -> Option<Instant> {
        Some(self.last_sent.min(self.last_received) + keep_alive?)
    }

    /// When the keepalive next acts: the PINGRESP deadline, or the next PINGREQ.
    #[must_use]
    pub(super) fn due(&self, keep_alive: Option<Duration>) -> Option<Instant> {
        self.ping_deadline.or_else(|| self.next_ping(keep_alive))
    }

    /// What is due at `now`; a ping asked for starts its PINGRESP deadline.
    #[must_use]
    pub(super) fn poll(
        &mut self,
        now: Instant,
        keep_alive: Option<Duration>,
        ping_timeout: Duration,
    ) -> Keepalive {
        match self.ping_deadline {
            Some(deadline) if now >= deadline => Keepalive::Dead,
            Some(_) => Keepalive::Nothing,
            None => match self.next_ping(keep_alive) {
                Some(next_ping) if now >= next_ping => {
                    self.ping_deadline = Some(now + ping_timeout);
                    Keepalive::Ping
                }
                _ => Keepalive::Nothing,
            },
        }
    }
}

impl Session {
    pub(super) fn open_transport(&mut self, now: Instant) {
        self.link = Link::Opening {
            deadline: now + self.options.connect_timeout,
        };
        self.actions.push_back(TransportAction::Open);
    }

    /// The transport is open: CONNECT goes out, or the options that cannot fill one end the
    /// link for good.
    pub(super) fn send_connect(&mut self, now: Instant) {
        self.link = Link::AwaitConnack {
            deadline: now + self.options.connect_timeout,
        };
        let options = &self.options;
        let will = options.will.as_ref().map(|w| LastWill {
            topic: &w.topic,
            message: &w.payload,
            qos: w.qos,
            retain: w.retain,
        });
        let connect = Connect {
            protocol: Protocol::MQTT311,
            keep_alive: options.keep_alive_secs,
            client_id: &options.client_id,
            clean_session: options.clean_session,
            last_will: will,
            username: options.username.as_deref(),
            password: options.password.as_deref(),
        };
        let checked = options.check().and_then(|()| {
            codec::encode(&Packet::Connect(connect)).map_err(OptionsError::Unencodable)
        });
        match checked {
            Ok(bytes) => self.queue_bytes(now, bytes),
            Err(e) => self.lose_connection(now, ConnectionError::InvalidOptions(e), false),
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

    /// The keepalive's part of `handle_timeout` while the link is up.
    pub(super) fn check_keepalive(&mut self, now: Instant) {
        let ping_timeout = self.options.effective_ping_timeout();
        match self
            .liveness
            .poll(now, self.options.keep_alive(), ping_timeout)
        {
            Keepalive::Nothing => {}
            Keepalive::Ping => self.send(now, &Packet::Pingreq),
            Keepalive::Dead => {
                let ms = ping_timeout.as_millis() as u64;
                self.lose_connection(now, ConnectionError::KeepaliveTimeout(ms), false);
            }
        }
    }

    /// Forgets the per-connection state. In-flight publishes, subscriptions and unacknowledged
    /// requests are kept for the next connection.
    pub(super) fn reset_link_state(&mut self) {
        self.rx.clear();
        self.tx.clear();
        self.liveness.reset();
        let pids = &mut self.pids;
        self.requests.requeue_awaiting(|pid| pids.release(pid));
    }

    pub(super) fn lose_connection(
        &mut self,
        now: Instant,
        error: ConnectionError,
        transport_closed: bool,
    ) {
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
            && !matches!(f, TransportFailure::Closed { code, .. } if *code != close::NORMAL));
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

    /// While draining: disconnect once the last awaited PUBREL was answered or time is up.
    pub(super) fn finish_draining(&mut self, now: Instant) {
        if let Some(until) = self.draining_until {
            if self.incoming_qos2.len() == 0 || now >= until {
                self.disconnect_now(now);
            }
        }
    }
}
