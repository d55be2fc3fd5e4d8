//! The sharing rules, natively: tabs exchange their messages through the codec, the leader's
//! session is a model that records what it was asked.

use mqtt_core::{ConnectionError, Message, PublishFailure, PublishId, RequestId};

use super::leader::done;
use super::*;
use crate::msgs::Refusal;

#[derive(Default)]
struct Model {
    next: u64,
    runs: Vec<Request>,
    connects: usize,
    stores: bool,
    refuse: Option<CommandError>,
}

impl Connection for Model {
    fn run(&mut self, _now: Instant, request: &Request) -> Result<Handle, CommandError> {
        if let Some(e) = self.refuse.clone() {
            return Err(e);
        }
        if matches!(request, Request::Unsubscribe(l) if l.is_empty()) {
            return Err(CommandError::NoFilters);
        }
        self.runs.push(request.clone());
        self.next += 1;
        Ok(match request {
            Request::Publish { .. } => Handle::Publish(PublishId(self.next)),
            _ => Handle::Request(RequestId(self.next)),
        })
    }

    fn connect(&mut self, _now: Instant) {
        self.connects += 1;
    }

    fn stores(&self) -> bool {
        self.stores
    }
}

struct Peer {
    tab: Tab,
    model: Model,
    events: Vec<Event>,
}

const NOW: Instant = Instant::from_millis(0);

fn peer(id: u64, stores: bool) -> Peer {
    Peer {
        tab: Tab::new(TabId(id)),
        model: Model {
            stores,
            ..Model::default()
        },
        events: Vec::new(),
    }
}

fn lead(peer: &mut Peer, restored: Vec<Restored>) {
    peer.tab.lock_acquired();
    assert!(peer.tab.promote(&mut peer.model, NOW, restored));
    assert_eq!(peer.tab.role(), TabRole::Leader);
}

/// Delivers every posted message to every other live tab (as a channel does), through the
/// codec, until nobody has anything to say; collects each tab's events.
fn settle(peers: &mut [&mut Peer]) {
    loop {
        let mut quiet = true;
        for from in 0..peers.len() {
            while let Some(message) = peers[from].tab.poll_post() {
                quiet = false;
                let bytes = message.encode();
                for (to, peer) in peers.iter_mut().enumerate() {
                    if to != from {
                        let decoded = TabMessage::decode(&bytes).expect("decodes");
                        peer.tab.handle(&mut peer.model, NOW, decoded);
                    }
                }
            }
        }
        for peer in peers.iter_mut() {
            while let Some(event) = peer.tab.poll_event() {
                peer.events.push(event);
            }
        }
        if quiet {
            return;
        }
    }
}

fn publish(topic: &str, qos: QoS) -> Request {
    Request::Publish {
        topic: topic.into(),
        payload: b"x".to_vec(),
        qos,
        retain: false,
    }
}

fn subscribe(filter: &str) -> Request {
    Request::Subscribe(vec![(filter.into(), QoS::AtLeastOnce)])
}

/// The leader's session events, routed: what its own page gets.
fn route(peer: &mut Peer, event: Event) -> Option<Event> {
    peer.tab.route(event)
}

#[test]
fn a_followers_calls_settle_on_the_leaders_acknowledgements() {
    let (mut a, mut b) = (peer(1, false), peer(2, false));
    lead(&mut a, Vec::new());
    assert_eq!(a.model.connects, 1);
    settle(&mut [&mut a, &mut b]);
    assert_eq!(b.tab.role(), TabRole::Follower);

    // The state reaches the follower; a late tab gets it in answer to its `Hi`.
    let connected = Event::Connected {
        session_present: false,
    };
    assert!(route(&mut a, connected).is_some());
    settle(&mut [&mut a, &mut b]);
    assert!(b.tab.connected());
    assert_eq!(
        b.events,
        [Event::Connected {
            session_present: false
        }]
    );
    let mut c = peer(3, false);
    settle(&mut [&mut a, &mut b, &mut c]);
    assert!(c.tab.connected());
    assert_eq!(
        b.events.len(),
        1,
        "the answer to a `Hi` is for that tab alone"
    );

    let sub = b
        .tab
        .request(&mut b.model, NOW, subscribe("t/#"), 10)
        .expect("handed on");
    let publ = b
        .tab
        .request(&mut b.model, NOW, publish("t/1", QoS::ExactlyOnce), 10)
        .expect("on");
    settle(&mut [&mut a, &mut b]);
    assert_eq!(
        a.model.runs,
        [subscribe("t/#"), publish("t/1", QoS::ExactlyOnce)]
    );
    assert_eq!(b.tab.pending_count(), 1);
    let granted = vec![Some(QoS::AtLeastOnce)];
    let to_b = Event::Subscribed {
        request: RequestId(1),
        granted: granted.clone(),
    };
    assert_eq!(route(&mut a, to_b), None, "another tab's outcome");
    assert_eq!(route(&mut a, Event::Published { id: PublishId(2) }), None);
    let message = Message {
        topic: "t/1".into(),
        payload: b"x".to_vec(),
        qos: QoS::ExactlyOnce,
        retain: false,
        dup: false,
    };
    assert!(route(&mut a, Event::Message(message.clone())).is_some());
    settle(&mut [&mut a, &mut b]);
    assert_eq!(
        b.events[1..],
        [
            Event::Subscribed {
                request: RequestId(sub),
                granted
            },
            Event::Published {
                id: PublishId(publ)
            },
            Event::Message(message),
        ]
    );
    assert_eq!(b.tab.pending_count(), 0);

    // The leader's own calls keep the ids its page got.
    let own = a
        .tab
        .request(&mut a.model, NOW, publish("t/2", QoS::AtLeastOnce), 10)
        .unwrap();
    assert_eq!(
        route(&mut a, Event::Published { id: PublishId(3) }),
        Some(Event::Published { id: PublishId(own) })
    );
}

#[test]
fn a_follower_checks_what_it_can_and_the_leader_refuses_the_rest() {
    let (mut a, mut b) = (peer(1, true), peer(2, false));
    lead(&mut a, Vec::new());
    assert!(matches!(
        b.tab
            .request(&mut b.model, NOW, publish("a/+", QoS::AtMostOnce), 10),
        Err(CommandError::InvalidTopic(_))
    ));
    assert_eq!(
        b.tab
            .request(&mut b.model, NOW, Request::Subscribe(vec![]), 10),
        Err(CommandError::NoFilters)
    );
    b.tab
        .request(&mut b.model, NOW, publish("a", QoS::AtLeastOnce), 1)
        .unwrap();
    assert_eq!(
        b.tab
            .request(&mut b.model, NOW, publish("a", QoS::AtLeastOnce), 1),
        Err(CommandError::QueueFull(1))
    );
    a.model.refuse = Some(CommandError::QueueFull(5));
    let id = b.tab.request(&mut b.model, NOW, subscribe("b"), 1).unwrap();
    settle(&mut [&mut a, &mut b]);
    assert!(b.events.contains(&Event::Subscribed {
        request: RequestId(id),
        granted: vec![None],
    }));
    // The publish was refused too (the model refuses everything now).
    assert!(b.events.contains(&Event::PublishFailed {
        id: PublishId(1),
        reason: PublishFailure::RefusedBySharedConnection("queue_full"),
    }));
    // A store failure reads as in a lone tab.
    a.model.refuse = None;
    let id = b
        .tab
        .request(&mut b.model, NOW, publish("c", QoS::AtLeastOnce), 9)
        .unwrap();
    settle(&mut [&mut a, &mut b]);
    let failed = PublishFailure::NotStored(mqtt_core::persist::StoreError::Full);
    let last = PublishId(a.model.next);
    let failure = Event::PublishFailed {
        id: last,
        reason: failed.clone(),
    };
    assert_eq!(route(&mut a, failure), None);
    settle(&mut [&mut a, &mut b]);
    assert_eq!(
        b.events.last(),
        Some(&Event::PublishFailed {
            id: PublishId(id),
            reason: failed
        })
    );
}

#[test]
fn an_unsubscribe_in_one_tab_keeps_the_filter_of_the_other() {
    let (mut a, mut b) = (peer(1, false), peer(2, false));
    lead(&mut a, Vec::new());
    a.tab
        .request(&mut a.model, NOW, subscribe("x"), 10)
        .unwrap();
    b.tab
        .request(&mut b.model, NOW, subscribe("x"), 10)
        .unwrap();
    settle(&mut [&mut a, &mut b]);
    // The follower lets go: the leader still holds it, the broker hears nothing.
    let runs = a.model.runs.len();
    let id = b.tab.request(
        &mut b.model,
        NOW,
        Request::Unsubscribe(vec!["x".into()]),
        10,
    );
    settle(&mut [&mut a, &mut b]);
    assert_eq!(a.model.runs.len(), runs);
    assert_eq!(
        b.events.last(),
        Some(&Event::Unsubscribed {
            request: RequestId(id.unwrap())
        })
    );
    // The leader lets go last: now it reaches the broker.
    a.tab
        .request(
            &mut a.model,
            NOW,
            Request::Unsubscribe(vec!["x".into()]),
            10,
        )
        .unwrap();
    assert_eq!(
        a.model.runs.last(),
        Some(&Request::Unsubscribe(vec!["x".into()]))
    );

    // A tab that ends lets go of all its filters.
    b.tab
        .request(&mut b.model, NOW, subscribe("y"), 10)
        .unwrap();
    settle(&mut [&mut a, &mut b]);
    b.tab.leave();
    settle(&mut [&mut a, &mut b]);
    let own = a.tab.request(
        &mut a.model,
        NOW,
        Request::Unsubscribe(vec!["y".into()]),
        10,
    );
    assert!(own.is_ok());
    assert_eq!(
        a.model.runs.last(),
        Some(&Request::Unsubscribe(vec!["y".into()]))
    );
    // Filters another tab holds: settled at once, without the broker.
    a.tab
        .request(&mut a.model, NOW, subscribe("z"), 10)
        .unwrap();
    let mut c = peer(3, false);
    c.tab
        .request(&mut c.model, NOW, subscribe("z"), 10)
        .unwrap();
    settle(&mut [&mut a, &mut c]);
    let runs = a.model.runs.len();
    let own = a.tab.request(
        &mut a.model,
        NOW,
        Request::Unsubscribe(vec!["z".into()]),
        10,
    );
    assert_eq!(a.model.runs.len(), runs);
    assert_eq!(
        a.tab.poll_event(),
        Some(Event::Unsubscribed {
            request: RequestId(own.unwrap())
        })
    );
}

/// A request that crosses a leader change (handed again) runs once: a repeat gets the answer
/// of the first.
#[test]
fn a_repeated_request_is_answered_not_run_twice() {
    let (mut a, mut b) = (peer(1, false), peer(2, false));
    lead(&mut a, Vec::new());
    b.tab
        .request(&mut b.model, NOW, publish("p", QoS::AtLeastOnce), 10)
        .unwrap();
    settle(&mut [&mut a, &mut b]);
    assert_eq!(a.model.runs.len(), 1);
    // A `Hello` has the follower hand everything again: the leader answers from memory.
    a.tab.post(TabMessage::Hello {
        from: TabId(1),
        to: None,
    });
    settle(&mut [&mut a, &mut b]);
    assert_eq!(a.model.runs.len(), 1);
    assert_eq!(route(&mut a, Event::Published { id: PublishId(1) }), None);
    settle(&mut [&mut a, &mut b]);
    assert_eq!(b.tab.pending_count(), 0);
    let key = RequestKey {
        tab: TabId(2),
        number: 1,
    };
    let publish = Publish {
        topic: "p".into(),
        payload: b"x".to_vec(),
        qos: QoS::AtLeastOnce,
        retain: false,
    };
    let to = |leader: u64| TabMessage::Publish {
        request: key,
        leader: TabId(leader),
        publish: publish.clone(),
    };
    a.tab.handle(&mut a.model, NOW, to(1));
    assert_eq!(a.model.runs.len(), 1);
    assert_eq!(
        a.tab.poll_post().map(|m| m.encode()),
        Some(done(key).encode())
    );
    // Posted to an earlier leader and still on its way: not this leader's to run (the
    // follower hands it again on the `Hello`).
    let fresh = RequestKey {
        tab: TabId(2),
        number: 9,
    };
    let stale = TabMessage::Publish {
        request: fresh,
        leader: TabId(7),
        publish,
    };
    a.tab.handle(&mut a.model, NOW, stale);
    assert_eq!(a.model.runs.len(), 1);
    assert_eq!(a.tab.poll_post(), None);
    // The leader's own kinds from a peer are ignored.
    let other = TabMessage::Hello {
        from: TabId(9),
        to: None,
    };
    a.tab.handle(&mut a.model, NOW, other);
    assert_eq!(a.tab.poll_post(), None);
}

/// The leader is gone before it stored a follower's QoS 2 publish: the next leader (the
/// follower itself) runs it. Once stored, the next leader restores it and the follower adopts
/// the restored row instead of publishing it again.
#[test]
fn a_followers_publish_is_stored_by_the_leader_and_adopted_by_the_next() {
    let (mut a, mut b, mut c) = (peer(1, true), peer(2, true), peer(3, true));
    lead(&mut a, Vec::new());
    let stored = b
        .tab
        .request(&mut b.model, NOW, publish("q2", QoS::ExactlyOnce), 10)
        .unwrap();
    let unstored = c
        .tab
        .request(&mut c.model, NOW, publish("q2b", QoS::ExactlyOnce), 10)
        .unwrap();
    settle(&mut [&mut a, &mut b, &mut c]);
    assert_eq!(a.model.runs.len(), 2);
    // Only the first row commits before the leader dies.
    a.tab.committed(PublishId(1));
    settle(&mut [&mut a, &mut b, &mut c]);
    drop(a);

    // The next leader restores the committed row; it adopts its own stored request and
    // re-runs the unstored one of the other tab only.
    let row = Restored {
        id: PublishId(40),
        topic: "q2".into(),
        payload: b"x".to_vec(),
        qos: QoS::ExactlyOnce,
    };
    lead(&mut c, vec![row]);
    assert_eq!(c.model.runs, [publish("q2b", QoS::ExactlyOnce)]);
    settle(&mut [&mut b, &mut c]);
    assert_eq!(
        c.model.runs.len(),
        1,
        "the stored row is adopted, not published again"
    );
    assert_eq!(route(&mut c, Event::Published { id: PublishId(40) }), None);
    assert_eq!(
        route(&mut c, Event::Published { id: PublishId(1) }),
        Some(Event::Published {
            id: PublishId(unstored)
        })
    );
    settle(&mut [&mut b, &mut c]);
    assert!(b.events.contains(&Event::Published {
        id: PublishId(stored)
    }));
    assert_eq!(b.tab.pending_count(), 0);
}

/// A stored request whose row is gone (it completed under the dead leader) is done at once.
#[test]
fn an_adopted_publish_with_no_row_left_is_done() {
    let (mut a, mut b) = (peer(1, true), peer(2, true));
    lead(&mut a, Vec::new());
    let id = b
        .tab
        .request(&mut b.model, NOW, publish("q", QoS::AtLeastOnce), 10)
        .unwrap();
    settle(&mut [&mut a, &mut b]);
    a.tab.committed(PublishId(1));
    settle(&mut [&mut a, &mut b]);
    // The follower itself becomes the leader, with an empty store.
    lead(&mut b, Vec::new());
    assert!(b.model.runs.is_empty());
    settle(&mut [&mut b]);
    assert_eq!(b.events, [Event::Published { id: PublishId(id) }]);
}

/// The dropped leader's follower becomes the leader: it re-subscribes its filters and re-runs
/// its unsettled requests on its own session.
#[test]
fn a_follower_that_takes_over_runs_its_own_requests() {
    let (mut a, mut b) = (peer(1, false), peer(2, false));
    lead(&mut a, Vec::new());
    b.tab
        .request(&mut b.model, NOW, subscribe("s"), 10)
        .unwrap();
    settle(&mut [&mut a, &mut b]);
    assert_eq!(
        route(
            &mut a,
            Event::Subscribed {
                request: RequestId(1),
                granted: vec![Some(QoS::AtLeastOnce)]
            }
        ),
        None
    );
    settle(&mut [&mut a, &mut b]);
    let p = b
        .tab
        .request(&mut b.model, NOW, publish("p", QoS::AtMostOnce), 10)
        .unwrap();
    drop(a);
    b.tab.lock_acquired();
    assert!(b.tab.is_granted());
    assert_eq!(b.tab.role(), TabRole::Follower, "until the store is read");
    lead(&mut b, Vec::new());
    assert_eq!(
        b.model.runs,
        [subscribe("s"), publish("p", QoS::AtMostOnce)]
    );
    assert_eq!(b.model.connects, 1);
    assert_eq!(
        route(&mut b, Event::Published { id: PublishId(2) }),
        Some(Event::Published { id: PublishId(p) })
    );
    // Not promoted twice.
    assert!(!b.tab.promote(&mut b.model, NOW, Vec::new()));
}

#[test]
fn connected_elsewhere_reaches_every_tab_and_take_over_goes_to_the_leader() {
    let (mut a, mut b) = (peer(1, false), peer(2, false));
    lead(&mut a, Vec::new());
    let lost = Event::ConnectionLost {
        error: ConnectionError::ConnectedElsewhere { drops: 3 },
        reconnect_in: None,
        attempt: 3,
    };
    assert!(route(&mut a, lost.clone()).is_some());
    settle(&mut [&mut a, &mut b]);
    assert!(b.tab.elsewhere());
    assert_eq!(b.events.last(), Some(&lost));
    b.tab.take_over();
    settle(&mut [&mut a, &mut b]);
    assert_eq!(a.model.connects, 2);
}

/// A message for another tab is not this tab's, whatever it says.
#[test]
fn answers_for_another_tab_are_ignored() {
    let mut b = peer(2, false);
    b.tab
        .request(&mut b.model, NOW, publish("p", QoS::AtMostOnce), 10)
        .unwrap();
    let other = RequestKey {
        tab: TabId(9),
        number: 1,
    };
    b.tab.handle(&mut b.model, NOW, done(other));
    assert_eq!(b.tab.pending_count(), 1);
    assert_eq!(b.tab.poll_event(), None);
    let mine = RequestKey {
        tab: TabId(2),
        number: 1,
    };
    b.tab.handle(
        &mut b.model,
        NOW,
        TabMessage::Refused {
            request: mine,
            reason: Refusal::SessionLost,
        },
    );
    assert_eq!(
        b.tab.poll_event(),
        Some(Event::PublishFailed {
            id: PublishId(1),
            reason: PublishFailure::SessionLostBeforePubcomp
        })
    );
}

fn delivered(topic: &str) -> Event {
    Event::Message(Message {
        topic: topic.into(),
        payload: b"m".to_vec(),
        qos: QoS::AtMostOnce,
        retain: false,
        dup: false,
    })
}

fn drain_posts(peer: &mut Peer) -> Vec<TabMessage> {
    std::iter::from_fn(|| peer.tab.poll_post()).collect()
}

/// A tab alone posts nothing per message (the bench's lone tab paid a channel post for each);
/// a follower that says `Hi` gets every message, one that says `Bye` no longer does.
#[test]
fn a_leader_posts_deliveries_only_while_it_has_followers() {
    let mut a = peer(1, false);
    lead(&mut a, Vec::new());
    drain_posts(&mut a);
    assert!(route(&mut a, delivered("t/1")).is_some());
    assert_eq!(drain_posts(&mut a), Vec::new());

    let mut b = peer(2, false);
    settle(&mut [&mut a, &mut b]);
    assert!(route(&mut a, delivered("t/2")).is_some());
    settle(&mut [&mut a, &mut b]);
    assert_eq!(b.events.last(), Some(&delivered("t/2")));

    b.tab.leave();
    settle(&mut [&mut a, &mut b]);
    assert!(route(&mut a, delivered("t/3")).is_some());
    assert_eq!(drain_posts(&mut a), Vec::new());
}

/// A follower with no filters and no calls says nothing a new leader would hear, but still
/// sees every message of the shared connection: it answers the new leader's `Hello`.
#[test]
fn a_silent_follower_sees_the_messages_of_a_new_leader() {
    let (mut a, mut b, mut c) = (peer(1, false), peer(2, false), peer(3, false));
    lead(&mut a, Vec::new());
    settle(&mut [&mut a, &mut b, &mut c]);
    // `a` is gone without a word (its tab crashed); `c` is granted the lock.
    lead(&mut c, Vec::new());
    settle(&mut [&mut b, &mut c]);
    assert!(route(&mut c, delivered("t/after")).is_some());
    settle(&mut [&mut b, &mut c]);
    assert_eq!(b.events.last(), Some(&delivered("t/after")));
}
