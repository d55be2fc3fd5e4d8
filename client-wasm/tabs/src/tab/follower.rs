//! The follower's side: calls handed to the leader, the leader's messages turned into the
//! events this tab's page gets, and each request handed again to a new leader.

use mqtt_core::persist::StoreError;
use mqtt_core::{
    topic, CommandError, ConnectionError, Event, PublishFailure, PublishId, QoS, RequestId,
};

use super::{Mine, Tab};
use crate::msgs::{LinkState, Publish, Refusal, RequestKey, TabId, TabMessage};
use crate::request::Request;

impl Tab {
    /// A follower's call: checked here as the session would (what only the leader can know,
    /// a full queue or store, comes back as `Refused`), then handed on.
    pub(super) fn follow(
        &mut self,
        request: Request,
        max_queued: usize,
    ) -> Result<u64, CommandError> {
        match &request {
            Request::Publish { topic, .. } => {
                topic::validate_name(topic)?;
                if self.pending_count() >= max_queued {
                    return Err(CommandError::QueueFull(self.pending_count()));
                }
            }
            Request::Subscribe(list) => {
                if list.is_empty() {
                    return Err(CommandError::NoFilters);
                }
                for (filter, _) in list {
                    topic::validate_filter(filter)?;
                }
            }
            Request::Unsubscribe(list) => {
                if list.is_empty() {
                    return Err(CommandError::NoFilters);
                }
                for filter in list {
                    topic::validate_filter(filter)?;
                }
                self.subs.retain(|(f, _)| !list.contains(f));
            }
        }
        let mine = Mine {
            id: self.new_id(),
            request,
            stored: false,
        };
        self.send(&mine);
        let id = mine.id;
        self.mine.push(mine);
        Ok(id)
    }

    /// Hands a request to the leader, once there is one; its number stands for it until
    /// `Done`/`Refused`.
    fn send(&mut self, mine: &Mine) {
        if let Some(leader) = self.leader {
            let message = request_message(self.id, leader, mine);
            self.post(message);
        }
    }

    /// Follower: a message from the leader, as the events this tab's page gets.
    pub(super) fn follow_message(&mut self, message: TabMessage) {
        if message.to().is_some_and(|to| to != self.id) {
            return;
        }
        match message {
            TabMessage::Hello { from: leader, to } => {
                self.leader = Some(leader);
                self.connected = false;
                // A new leader only posts deliveries to tabs it has heard from.
                if to.is_none() && self.subs.is_empty() && self.mine.is_empty() {
                    self.post(TabMessage::Hi { from: self.id });
                }
                if !self.subs.is_empty() {
                    self.post(TabMessage::Subscribe {
                        request: RequestKey {
                            tab: self.id,
                            number: 0,
                        },
                        leader,
                        filters: self.subs.clone(),
                    });
                }
                for index in 0..self.mine.len() {
                    let message = request_message(self.id, leader, &self.mine[index]);
                    self.post(message);
                }
            }
            TabMessage::State { state, .. } => {
                self.connected = matches!(state, LinkState::Connected { .. });
                self.elsewhere = matches!(
                    state,
                    LinkState::Lost {
                        error: ConnectionError::ConnectedElsewhere { .. },
                        ..
                    }
                );
                self.events.push(state_event(state));
            }
            TabMessage::Delivery(m) => self.events.push(Event::Message(m)),
            TabMessage::Accepted { request, stored } => {
                if let Some(mine) = self.mine.iter_mut().find(|m| m.id == request.number) {
                    mine.stored = stored;
                }
            }
            TabMessage::Done { request, granted } => self.settle(request, Ok(&granted)),
            TabMessage::Refused { request, reason } => self.settle(request, Err(reason)),
            // The followers' kinds: for the leader.
            _ => {}
        }
    }

    fn settle(&mut self, request: RequestKey, outcome: Result<&[Option<QoS>], Refusal>) {
        let Some(index) = self.mine.iter().position(|m| m.id == request.number) else {
            return;
        };
        let mine = self.mine.remove(index);
        // Re-subscribed to a new leader from now on (until then, handed again as a request).
        if let (Request::Subscribe(list), Ok(_)) = (&mine.request, outcome) {
            for (filter, qos) in list {
                match self.subs.iter_mut().find(|(f, _)| f == filter) {
                    Some(existing) => existing.1 = *qos,
                    None => self.subs.push((filter.clone(), *qos)),
                }
            }
        }
        self.events.push(settled_event(&mine, outcome));
    }
}

/// The message that hands a request to the leader (one an earlier leader stored: to adopt).
fn request_message(tab: TabId, leader: TabId, mine: &Mine) -> TabMessage {
    let request = RequestKey {
        tab,
        number: mine.id,
    };
    match &mine.request {
        Request::Publish {
            topic,
            payload,
            qos,
            retain,
        } => {
            let publish = Publish {
                topic: topic.clone(),
                payload: payload.clone(),
                qos: *qos,
                retain: *retain,
            };
            if mine.stored {
                TabMessage::Adopt {
                    request,
                    leader,
                    publish,
                }
            } else {
                TabMessage::Publish {
                    request,
                    leader,
                    publish,
                }
            }
        }
        Request::Subscribe(filters) => TabMessage::Subscribe {
            request,
            leader,
            filters: filters.clone(),
        },
        Request::Unsubscribe(filters) => TabMessage::Unsubscribe {
            request,
            leader,
            filters: filters.clone(),
        },
    }
}

/// The event a tab's page gets when the leader settles its request (a subscribe's granted
/// QoS per filter; none given: each refused).
pub(super) fn settled_event(mine: &Mine, outcome: Result<&[Option<QoS>], Refusal>) -> Event {
    match (&mine.request, outcome) {
        (Request::Publish { .. }, Ok(_)) => Event::Published {
            id: PublishId(mine.id),
        },
        (Request::Publish { .. }, Err(reason)) => Event::PublishFailed {
            id: PublishId(mine.id),
            reason: match reason {
                Refusal::SessionLost => PublishFailure::SessionLostBeforePubcomp,
                // The leader's store could not commit its row: as in a lone tab.
                Refusal::StorageFull => PublishFailure::NotStored(StoreError::Full),
                Refusal::StorageUnavailable => PublishFailure::NotStored(StoreError::Unavailable),
                other => PublishFailure::RefusedBySharedConnection(other.code()),
            },
        },
        (Request::Subscribe(list), outcome) => Event::Subscribed {
            request: RequestId(mine.id),
            granted: match outcome {
                Ok(granted) if !granted.is_empty() => granted.to_vec(),
                _ => vec![None; list.len()],
            },
        },
        (Request::Unsubscribe(_), _) => Event::Unsubscribed {
            request: RequestId(mine.id),
        },
    }
}

/// A follower's view of the leader's connection state.
fn state_event(state: LinkState) -> Event {
    match state {
        LinkState::Connected { session_present } => Event::Connected { session_present },
        LinkState::Reconnecting { attempt } => Event::Reconnecting { attempt },
        LinkState::Lost {
            error,
            reconnect_in,
            attempt,
        } => Event::ConnectionLost {
            error,
            reconnect_in,
            attempt,
        },
    }
}
