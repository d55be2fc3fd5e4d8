//! SUBSCRIBE and UNSUBSCRIBE: the filters the session holds, and its requests waiting for the
//! link, for a packet id, or for their acknowledgement.

use std::collections::VecDeque;

use super::{Event, RequestId, Session};
use crate::error::ProtocolViolation;
use crate::packet::{Packet, Pid, Suback, Subscribe, SubscribeReturnCodes, SubscribeTopic};
use crate::packet::{QoS, Unsubscribe};
use crate::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RequestKind {
    Subscribe(Vec<(String, QoS)>),
    Unsubscribe(Vec<String>),
}

/// A SUBSCRIBE or UNSUBSCRIBE. `id` is `None` for the session's own resubscribe.
#[derive(Debug, Clone)]
pub(super) struct Request {
    id: Option<RequestId>,
    kind: RequestKind,
}

/// The subscriptions and the requests of one session, whatever the link does.
#[derive(Debug)]
pub(super) struct Requests {
    /// Filters the user wants, in the order first asked, for resubscribing.
    subscriptions: Vec<(String, QoS)>,
    /// Requests sent and awaiting SUBACK/UNSUBACK, by packet id.
    awaiting_ack: Vec<(u16, Request)>,
    /// Requests to send once connected (or once a packet id is free).
    unsent: VecDeque<Request>,
    next_id: u64,
}

impl Default for Requests {
    fn default() -> Self {
        Requests {
            subscriptions: Vec::new(),
            awaiting_ack: Vec::new(),
            unsent: VecDeque::new(),
            next_id: 1,
        }
    }
}

impl Requests {
    pub(super) fn subscriptions(&self) -> &[(String, QoS)] {
        &self.subscriptions
    }

    /// The user subscribed: a new filter joins in order, a known one takes its new QoS.
    pub(super) fn remember(&mut self, list: &[(String, QoS)]) {
        for (filter, qos) in list {
            match self.subscriptions.iter_mut().find(|(f, _)| f == filter) {
                Some(existing) => existing.1 = *qos,
                None => self.subscriptions.push((filter.clone(), *qos)),
            }
        }
    }

    /// The user unsubscribed: not resubscribed after a reconnect.
    pub(super) fn forget(&mut self, filters: &[&str]) {
        self.subscriptions
            .retain(|(f, _)| !filters.contains(&f.as_str()));
    }

    /// A new request from the user, under a fresh id.
    #[must_use]
    fn new_request(&mut self, kind: RequestKind) -> (RequestId, Request) {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        (id, Request { id: Some(id), kind })
    }

    /// The session's own SUBSCRIBE after the broker forgot the session: every filter the user
    /// wants, except those a request still to be sent subscribes anyway.
    #[must_use]
    pub(super) fn resubscription(&self) -> Option<Request> {
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
        (!resubscribe.is_empty()).then_some(Request {
            id: None,
            kind: RequestKind::Subscribe(resubscribe),
        })
    }

    #[must_use]
    pub(super) fn next_unsent(&mut self) -> Option<Request> {
        self.unsent.pop_front()
    }

    #[must_use]
    pub(super) fn take_unsent(&mut self) -> VecDeque<Request> {
        core::mem::take(&mut self.unsent)
    }

    /// Removes and returns the request awaiting an ack under `pid`.
    #[must_use]
    fn take_awaiting(&mut self, pid: u16) -> Option<Request> {
        let index = self.awaiting_ack.iter().position(|(p, _)| *p == pid)?;
        Some(self.awaiting_ack.swap_remove(index).1)
    }

    /// The link is gone: requests awaiting an ack go back ahead of the unsent ones, in the order
    /// they were made, and `release` gets each packet id they held.
    pub(super) fn requeue_awaiting(&mut self, mut release: impl FnMut(u16)) {
        // An insertion by binary search (stable, the list is short) instead of `sort_by_key`,
        // whose stable sort costs the browser package 5 KB.
        let mut requests: Vec<Request> = Vec::with_capacity(self.awaiting_ack.len());
        for (pid, request) in core::mem::take(&mut self.awaiting_ack) {
            release(pid);
            let at = requests.partition_point(|r| r.id <= request.id);
            requests.insert(at, request);
        }
        for request in requests.into_iter().rev() {
            self.unsent.push_front(request);
        }
    }
}

impl Session {
    /// Sends a user's request now if connected, otherwise once connected.
    pub(super) fn request(&mut self, now: Instant, kind: RequestKind) -> RequestId {
        let (id, request) = self.requests.new_request(kind);
        if self.is_connected() {
            self.send_request(now, request);
        } else {
            self.requests.unsent.push_back(request);
        }
        id
    }

    /// Sends a request under a free packet id, or keeps it until one is freed.
    pub(super) fn send_request(&mut self, now: Instant, request: Request) {
        let Some(pid_value) = self.pids.allocate() else {
            self.requests.unsent.push_back(request);
            return;
        };
        let Ok(pid) = Pid::try_from(pid_value) else {
            return;
        };
        let packet = match &request.kind {
            RequestKind::Subscribe(list) => Packet::Subscribe(Subscribe {
                pid,
                topics: list
                    .iter()
                    .map(|(f, q)| SubscribeTopic {
                        topic_path: f.clone(),
                        qos: *q,
                    })
                    .collect(),
            }),
            RequestKind::Unsubscribe(list) => Packet::Unsubscribe(Unsubscribe {
                pid,
                topics: list.clone(),
            }),
        };
        self.send(now, &packet);
        self.requests.awaiting_ack.push((pid_value, request));
    }

    pub(super) fn on_suback(&mut self, suback: Suback) -> Result<(), ProtocolViolation> {
        let pid = suback.pid.get();
        let Some(request) = self.requests.take_awaiting(pid) else {
            return Ok(()); // a late ack for a request already retried
        };
        let RequestKind::Subscribe(list) = &request.kind else {
            self.requests.awaiting_ack.push((pid, request));
            return Err(ProtocolViolation::SubackForUnsubscribe { pid });
        };
        if list.len() != suback.return_codes.len() {
            let violation = ProtocolViolation::SubackCountMismatch {
                pid,
                codes: suback.return_codes.len(),
                filters: list.len(),
            };
            self.requests.awaiting_ack.push((pid, request));
            return Err(violation);
        }
        self.pids.release(pid);
        let granted: Vec<Option<QoS>> = suback
            .return_codes
            .iter()
            .map(|code| match code {
                SubscribeReturnCodes::Success(qos) => Some(*qos),
                SubscribeReturnCodes::Failure => None,
            })
            .collect();
        // A refused filter is not resubscribed after a reconnect.
        for ((filter, _), granted) in list.iter().zip(&granted) {
            if granted.is_none() {
                self.requests.subscriptions.retain(|(f, _)| f != filter);
            }
        }
        if let Some(request) = request.id {
            self.events
                .push_back(Event::Subscribed { request, granted });
        }
        Ok(())
    }

    pub(super) fn on_unsuback(&mut self, now: Instant, pid: u16) -> Result<(), ProtocolViolation> {
        match self.requests.take_awaiting(pid) {
            Some(Request {
                id,
                kind: RequestKind::Unsubscribe(_),
            }) => {
                self.pids.release(pid);
                if let Some(request) = id {
                    self.events.push_back(Event::Unsubscribed { request });
                }
                self.use_freed_ids(now);
                Ok(())
            }
            Some(other) => {
                self.requests.awaiting_ack.push((pid, other));
                Err(ProtocolViolation::UnsubackForSubscribe { pid })
            }
            None => Ok(()), // a late ack for a request already retried: harmless
        }
    }
}
