//! One tab's part in a shared connection: a follower until it holds the lock, then (once the
//! store is read) the leader. Sans-IO: inputs are method calls, outputs are polled.

mod follower;
mod leader;

use mqtt_core::{CommandError, Event, Instant, PublishId, QoS};

use crate::msgs::{LinkState, Publish, RequestKey, TabId, TabMessage};
use crate::request::{Handle, Request};

/// Which tab holds the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TabRole {
    /// Not shared: this tab has its own connection.
    Solo,
    /// Shared, and this tab holds the connection.
    Leader,
    /// Shared: another tab holds the connection; calls and events go through it.
    Follower,
}

impl TabRole {
    /// `solo`, `leader` or `follower`.
    pub fn as_str(self) -> &'static str {
        match self {
            TabRole::Solo => "solo",
            TabRole::Leader => "leader",
            TabRole::Follower => "follower",
        }
    }
}

/// The leader's session, as far as the tab logic needs it (the runtime adapter implements it
/// on its session and store; tests on a model).
pub trait Connection {
    /// Runs `request` on the session: the id of its outcome event, or why it was refused.
    fn run(&mut self, now: Instant, request: &Request) -> Result<Handle, CommandError>;
    /// Connects (again), taking the client id over after "connected elsewhere".
    fn connect(&mut self, now: Instant);
    /// Whether accepted QoS 1/2 publishes are stored, so that the next leader restores them.
    fn stores(&self) -> bool;
}

/// A publish the store held when this tab became the leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Its id in the new leader's session.
    pub id: PublishId,
    /// Its topic.
    pub topic: String,
    /// Its payload.
    pub payload: Vec<u8>,
    /// Its QoS.
    pub qos: QoS,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Follower,
    /// Holds the lock, the store is being read: still a follower for everything else.
    Granted,
    Leader,
}

/// A request of this tab not yet settled.
#[derive(Debug, Clone)]
struct Mine {
    id: u64,
    request: Request,
    /// The leader's store committed its row (`Accepted { stored: true }`): the next leader
    /// restores it.
    stored: bool,
}

/// Whose call a session object is: this tab's (by the id its caller got) or another tab's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Local(u64),
    Remote(RequestKey),
}

/// How many settled remote requests a leader remembers, to answer a repeat with `Done`.
const REMEMBERED: usize = 1024;

/// One tab of a shared connection.
#[derive(Debug)]
pub struct Tab {
    id: TabId,
    role: Role,
    next_id: u64,
    mine: Vec<Mine>,
    /// This tab's subscriptions, for re-subscribing them to a new leader.
    subs: Vec<(String, QoS)>,
    /// Follower: the leader its requests go to (from its `Hello`; none yet: they wait).
    leader: Option<TabId>,
    /// Follower: the leader's connection is up.
    connected: bool,
    /// Follower: the leader's connection stopped as "connected elsewhere" (until `takeOver`).
    elsewhere: bool,
    /// Leader: who made each call in progress.
    owners: Vec<(Handle, Owner)>,
    /// Leader: remote requests settled lately.
    settled: Vec<RequestKey>,
    /// Leader: restored publishes nobody adopted yet.
    unclaimed: Vec<Restored>,
    /// Leader: other tabs' QoS 1/2 publishes whose rows are not committed yet: `Accepted`
    /// only once committed (a leader gone before leaves them to be submitted again).
    storing: Vec<PublishId>,
    /// Leader: the last state, for tabs that join later.
    last_state: Option<LinkState>,
    /// Leader: (filter, tab) pairs; an unsubscribe reaches the broker only for filters no
    /// other tab holds.
    holders: Vec<(String, TabId)>,
    /// Leader: the tabs heard from and not gone (`Bye`). A lone tab posts no `Delivery`: a
    /// follower always speaks first (`Hi` when it starts, and to every new leader's `Hello`).
    followers: Vec<TabId>,
    posts: Vec<TabMessage>,
    events: Vec<Event>,
}

impl Tab {
    /// A tab joining the connection: a follower, asking the leader for the state.
    pub fn new(id: TabId) -> Tab {
        let mut tab = Tab {
            id,
            role: Role::Follower,
            next_id: 1,
            mine: Vec::new(),
            subs: Vec::new(),
            leader: None,
            connected: false,
            elsewhere: false,
            owners: Vec::new(),
            settled: Vec::new(),
            unclaimed: Vec::new(),
            storing: Vec::new(),
            last_state: None,
            holders: Vec::new(),
            followers: Vec::new(),
            posts: Vec::new(),
            events: Vec::new(),
        };
        tab.post(TabMessage::Hi { from: id });
        tab
    }

    /// This tab's id on the channel.
    pub fn id(&self) -> TabId {
        self.id
    }

    /// Leader or follower (a tab granted the lock is a follower until it has read the store).
    pub fn role(&self) -> TabRole {
        match self.role {
            Role::Leader => TabRole::Leader,
            Role::Follower | Role::Granted => TabRole::Follower,
        }
    }

    /// Whether this tab holds the connection (and has read the store).
    pub fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }

    /// The lock is this tab's: it reads the store, then [`Tab::promote`].
    pub fn lock_acquired(&mut self) {
        if self.role == Role::Follower {
            self.role = Role::Granted;
        }
    }

    /// Whether the lock was granted and the tab waits for the store to become the leader.
    pub fn is_granted(&self) -> bool {
        self.role == Role::Granted
    }

    /// Follower: the leader's connection is up.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// Follower: the leader's connection stopped as "connected elsewhere".
    pub fn elsewhere(&self) -> bool {
        self.elsewhere
    }

    /// Follower: this tab's publishes not settled yet.
    pub fn pending_count(&self) -> usize {
        self.mine
            .iter()
            .filter(|m| matches!(m.request, Request::Publish { .. }))
            .count()
    }

    /// A call of this tab's page: run on the session (leader) or handed to the leader
    /// (follower). Returns the id the caller's events will carry.
    pub fn request(
        &mut self,
        conn: &mut impl Connection,
        now: Instant,
        request: Request,
        max_queued: usize,
    ) -> Result<u64, CommandError> {
        if self.role != Role::Leader {
            return self.follow(request, max_queued);
        }
        let handle = self.run_for(conn, now, self.id, &request)?;
        let own = self.new_id();
        match handle {
            Some(handle) => self.owners.push((handle, Owner::Local(own))),
            None => self.events.push(Event::Unsubscribed {
                request: mqtt_core::RequestId(own),
            }),
        }
        Ok(own)
    }

    /// A message another tab posted: the leader runs the followers' requests, a follower turns
    /// the leader's messages into events.
    pub fn handle(&mut self, conn: &mut impl Connection, now: Instant, message: TabMessage) {
        if self.role == Role::Leader {
            self.lead(conn, now, message);
        } else {
            self.follow_message(message);
        }
    }

    /// Follower: asks the leader to take the client id back after "connected elsewhere".
    pub fn take_over(&mut self) {
        self.post(TabMessage::TakeOver { from: self.id });
    }

    /// This tab ends: a follower's filters are no longer its (a leader just lets the lock go).
    pub fn leave(&mut self) {
        if self.role != Role::Leader {
            self.post(TabMessage::Bye { from: self.id });
        }
    }

    /// The next message to post to the other tabs.
    #[must_use = "a message dropped never reaches the other tabs"]
    pub fn poll_post(&mut self) -> Option<TabMessage> {
        first(&mut self.posts)
    }

    /// The next event for this tab's page (a follower's, or a leader's call settled without
    /// the broker).
    #[must_use = "an event dropped never reaches the page"]
    pub fn poll_event(&mut self) -> Option<Event> {
        first(&mut self.events)
    }

    fn post(&mut self, message: TabMessage) {
        self.posts.push(message);
    }

    fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }
}

/// Takes the first item (short lists, drained at once: a `Vec` is less code in the browser
/// package than a `VecDeque`).
fn first<T>(list: &mut Vec<T>) -> Option<T> {
    (!list.is_empty()).then(|| list.remove(0))
}

/// A publish request's content.
fn publish_of(request: &Request) -> Option<Publish> {
    match request {
        Request::Publish {
            topic,
            payload,
            qos,
            retain,
        } => Some(Publish {
            topic: topic.clone(),
            payload: payload.clone(),
            qos: *qos,
            retain: *retain,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
