//! The leader's side: the session's events routed to the tabs, the followers' requests run
//! (idempotently, by request key), filters counted per tab, and the takeover from the store.

use mqtt_core::{topic, CommandError, Event, Instant, PublishId, QoS, RequestId};

use super::{Connection, Mine, Owner, Restored, Role, Tab, REMEMBERED};
use crate::msgs::{LinkState, Publish, Refusal, RequestKey, TabId, TabMessage};
use crate::request::{Handle, Request};

impl Tab {
    /// Leader: a session event. Connection states and messages go to every tab; the outcome
    /// of a call goes to the tab that made it. Returns what this tab's own page gets.
    pub fn route(&mut self, event: Event) -> Option<Event> {
        if self.role != Role::Leader {
            return Some(event);
        }
        let (handle, done) = match event {
            Event::Connected { session_present } => {
                self.broadcast_state(LinkState::Connected { session_present });
                return Some(event);
            }
            Event::ConnectionLost {
                ref error,
                reconnect_in,
                attempt,
            } => {
                self.broadcast_state(LinkState::Lost {
                    error: error.clone(),
                    reconnect_in,
                    attempt,
                });
                return Some(event);
            }
            Event::Reconnecting { attempt } => {
                self.broadcast_state(LinkState::Reconnecting { attempt });
                return Some(event);
            }
            Event::Message(ref m) => {
                if !self.followers.is_empty() {
                    self.post(TabMessage::Delivery(m.clone()));
                }
                return Some(event);
            }
            Event::Published { id } => (Handle::Publish(id), Ok(Vec::new())),
            Event::PublishFailed { id, ref reason } => {
                (Handle::Publish(id), Err(Refusal::from_code(reason.code())))
            }
            Event::Subscribed {
                request,
                ref granted,
            } => (Handle::Request(request), Ok(granted.clone())),
            Event::Unsubscribed { request } => (Handle::Request(request), Ok(Vec::new())),
            other => return Some(other),
        };
        match self.take_owner(handle) {
            Some(Owner::Local(own)) => Some(renumbered(event, own)),
            Some(Owner::Remote(request)) => {
                self.post(match done {
                    Ok(granted) => TabMessage::Done { request, granted },
                    Err(reason) => TabMessage::Refused { request, reason },
                });
                self.remember(request);
                None
            }
            None => {
                // A restored publish nobody adopted finished: nobody may adopt it any more.
                if let Handle::Publish(id) = handle {
                    self.unclaimed.retain(|u| u.id != id);
                }
                None
            }
        }
    }

    /// Leader: the row of publish `id` is committed to the store; the tab that handed it over
    /// learns that the next leader will restore it.
    pub fn committed(&mut self, id: PublishId) {
        let Some(index) = self.storing.iter().position(|s| *s == id) else {
            return;
        };
        self.storing.remove(index);
        let owner = self.owners.iter().find(|(h, _)| *h == Handle::Publish(id));
        if let Some(&(_, Owner::Remote(request))) = owner {
            self.post(TabMessage::Accepted {
                request,
                stored: true,
            });
        }
    }

    /// The store was read, with the publishes it held: a tab granted the lock becomes the
    /// leader, takes its own requests back from the follower role, says hello and connects.
    /// False (nothing done) unless the lock was granted.
    pub fn promote(
        &mut self,
        conn: &mut impl Connection,
        now: Instant,
        restored: Vec<Restored>,
    ) -> bool {
        if self.role != Role::Granted {
            return false;
        }
        self.role = Role::Leader;
        self.unclaimed = restored;
        if !self.subs.is_empty() {
            let subs = self.subs.clone();
            let _ = conn.run(now, &Request::Subscribe(subs.clone()));
            self.hold(self.id, &subs);
        }
        for mine in std::mem::take(&mut self.mine) {
            let owner = Owner::Local(mine.id);
            if let (true, Some(publish)) = (mine.stored, super::publish_of(&mine.request)) {
                match self.claim(&publish) {
                    Some(id) => self.owners.push((Handle::Publish(id), owner)),
                    None => self.settle_mine(&mine, Ok(&[])),
                }
                continue;
            }
            match self.run_for(conn, now, self.id, &mine.request) {
                Ok(Some(handle)) => self.owners.push((handle, owner)),
                Ok(None) => self.settle_mine(&mine, Ok(&[])),
                Err(e) => self.settle_mine(&mine, Err(Refusal::from_code(e.code()))),
            }
        }
        self.post(TabMessage::Hello {
            from: self.id,
            to: None,
        });
        conn.connect(now);
        true
    }

    /// Runs `tab`'s request, keeping count of who holds which filter. `None`: done without
    /// the broker (an unsubscribe from filters other tabs still hold).
    pub(super) fn run_for(
        &mut self,
        conn: &mut impl Connection,
        now: Instant,
        tab: TabId,
        request: &Request,
    ) -> Result<Option<Handle>, CommandError> {
        match request {
            Request::Subscribe(list) => {
                let handle = conn.run(now, request)?;
                self.hold(tab, list);
                Ok(Some(handle))
            }
            Request::Unsubscribe(list) => {
                for filter in list {
                    topic::validate_filter(filter)?;
                }
                let free = self.let_go(tab, Some(list));
                if free.is_empty() && !list.is_empty() {
                    return Ok(None);
                }
                conn.run(now, &Request::Unsubscribe(free)).map(Some)
            }
            Request::Publish { .. } => conn.run(now, request).map(Some),
        }
    }

    /// Leader: a message of another tab.
    pub(super) fn lead(&mut self, conn: &mut impl Connection, now: Instant, message: TabMessage) {
        if let Some(tab) = message.follower() {
            self.note_follower(tab, matches!(message, TabMessage::Bye { .. }));
        }
        let (request, leader, call) = match message {
            TabMessage::Bye { from } => {
                self.let_go(from, None);
                return;
            }
            // A follower's "Take over": the connection is the leader's to take back.
            TabMessage::TakeOver { .. } => return conn.connect(now),
            TabMessage::Hi { from } => {
                self.post(TabMessage::Hello {
                    from: self.id,
                    to: Some(from),
                });
                if let Some(state) = self.last_state.clone() {
                    self.post(TabMessage::State {
                        to: Some(from),
                        state,
                    });
                }
                return;
            }
            TabMessage::Publish {
                request,
                leader,
                publish,
            } => (request, leader, Call::Run(publish.into())),
            TabMessage::Adopt {
                request,
                leader,
                publish,
            } => (request, leader, Call::Adopt(publish)),
            TabMessage::Subscribe {
                request,
                leader,
                filters,
            } => (request, leader, Call::Run(Request::Subscribe(filters))),
            TabMessage::Unsubscribe {
                request,
                leader,
                filters,
            } => (request, leader, Call::Run(Request::Unsubscribe(filters))),
            // The leader's own kinds, from a tab that was the leader a moment ago.
            _ => return,
        };
        // Posted to an earlier leader and still on its way when this tab took over: the
        // follower hands it again on this leader's `Hello` (running it now could run it twice).
        if leader != self.id {
            return;
        }
        if request.number != 0 && self.answer_repeat(conn, request) {
            return;
        }
        let owner = Owner::Remote(request);
        let request_of = match call {
            Call::Adopt(publish) => {
                match self.claim(&publish) {
                    Some(id) => {
                        self.owners.push((Handle::Publish(id), owner));
                        let stored = true;
                        self.post(TabMessage::Accepted { request, stored });
                    }
                    None => self.post(done(request)),
                }
                return;
            }
            Call::Run(request_of) => request_of,
        };
        // Accepted once its row is committed: then the next leader restores it (`Adopt`, not
        // `Publish`), and `committed` tells the follower so.
        let stored = conn.stores()
            && matches!(&request_of, Request::Publish { qos, .. } if *qos != QoS::AtMostOnce);
        match self.run_for(conn, now, request.tab, &request_of) {
            // A re-subscription: no reply.
            Ok(_) if request.number == 0 => {}
            Ok(Some(handle)) => {
                self.owners.push((handle, owner));
                match handle {
                    Handle::Publish(id) if stored => self.storing.push(id),
                    _ => self.post(TabMessage::Accepted {
                        request,
                        stored: false,
                    }),
                }
            }
            Ok(None) => {
                self.post(done(request));
                self.remember(request);
            }
            Err(e) if request.number != 0 => self.post(TabMessage::Refused {
                request,
                reason: Refusal::from_code(e.code()),
            }),
            Err(_) => {}
        }
    }

    /// A request seen before gets the same answer (in progress, or settled); true if it was.
    fn answer_repeat(&mut self, conn: &impl Connection, request: RequestKey) -> bool {
        let owner = Owner::Remote(request);
        if let Some(&(handle, _)) = self.owners.iter().find(|(_, o)| *o == owner) {
            // Stored once its row is committed (`committed` says so then).
            let stored = match handle {
                Handle::Publish(id) => conn.stores() && !self.storing.contains(&id),
                Handle::Request(_) => false,
            };
            self.post(TabMessage::Accepted { request, stored });
            return true;
        }
        if self.settled.contains(&request) {
            self.post(done(request));
            return true;
        }
        false
    }

    fn broadcast_state(&mut self, state: LinkState) {
        self.post(TabMessage::State {
            to: None,
            state: state.clone(),
        });
        self.last_state = Some(state);
    }

    fn settle_mine(&mut self, mine: &Mine, outcome: Result<&[Option<QoS>], Refusal>) {
        let event = super::follower::settled_event(mine, outcome);
        self.events.push(event);
    }

    fn hold(&mut self, tab: TabId, filters: &[(String, QoS)]) {
        for (filter, _) in filters {
            if !self.holders.iter().any(|(f, t)| f == filter && *t == tab) {
                self.holders.push((filter.clone(), tab));
            }
        }
    }

    /// `tab` lets go of `filters` (all of its filters: `None`); returns those nobody holds
    /// any more.
    fn let_go(&mut self, tab: TabId, filters: Option<&[String]>) -> Vec<String> {
        self.holders
            .retain(|(f, t)| *t != tab || filters.is_some_and(|list| !list.contains(f)));
        let mut free = filters.unwrap_or_default().to_vec();
        free.retain(|f| !self.holders.iter().any(|(held, _)| held == f));
        free
    }

    /// Keeps the set of followers: `gone` for a `Bye`, else heard from.
    fn note_follower(&mut self, tab: TabId, gone: bool) {
        match self.followers.iter().position(|t| *t == tab) {
            Some(index) if gone => {
                self.followers.swap_remove(index);
            }
            None if !gone => self.followers.push(tab),
            _ => {}
        }
    }

    fn remember(&mut self, request: RequestKey) {
        if self.settled.len() == REMEMBERED {
            self.settled.remove(0);
        }
        self.settled.push(request);
    }

    /// The owner of a settled call (a refused publish is no longer waiting for its commit).
    fn take_owner(&mut self, handle: Handle) -> Option<Owner> {
        self.storing.retain(|s| Handle::Publish(*s) != handle);
        let index = self.owners.iter().position(|(h, _)| *h == handle)?;
        Some(self.owners.remove(index).1)
    }

    /// The first restored publish with this content nobody adopted yet.
    fn claim(&mut self, publish: &Publish) -> Option<PublishId> {
        let index = self.unclaimed.iter().position(|u| {
            u.topic == publish.topic && u.payload == publish.payload && u.qos == publish.qos
        })?;
        Some(self.unclaimed.remove(index).id)
    }
}

/// What a follower asked for.
enum Call {
    Run(Request),
    Adopt(Publish),
}

pub(super) fn done(request: RequestKey) -> TabMessage {
    TabMessage::Done {
        request,
        granted: Vec::new(),
    }
}

/// A session event of this tab's own call, with the id its caller got.
fn renumbered(event: Event, own: u64) -> Event {
    match event {
        Event::Published { .. } => Event::Published { id: PublishId(own) },
        Event::PublishFailed { reason, .. } => Event::PublishFailed {
            id: PublishId(own),
            reason,
        },
        Event::Subscribed { granted, .. } => Event::Subscribed {
            request: RequestId(own),
            granted,
        },
        Event::Unsubscribed { .. } => Event::Unsubscribed {
            request: RequestId(own),
        },
        other => other,
    }
}

impl From<Publish> for Request {
    fn from(p: Publish) -> Request {
        Request::Publish {
            topic: p.topic,
            payload: p.payload,
            qos: p.qos,
            retain: p.retain,
        }
    }
}
