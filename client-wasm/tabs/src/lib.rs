//! One MQTT connection per (bridge URL, client id) shared by every tab of an origin, without IO:
//! what the tabs say to each other ([`msgs`]) and what each tab does about it ([`Tab`]).
//!
//! ```text
//!  tab A (leader: holds the lock)             tab B, C (followers)
//!  Session + socket + store  ◀── Publish/Subscribe/Unsubscribe/Adopt ── channel ── calls
//!                            ── Hello, State, Delivery, Accepted/Done/Refused ──▶ ──▶ events
//! ```
//!
//! Every tab queues for one lock; the tab holding it is the leader and runs the
//! [`Session`](mqtt_core::Session) as a lone tab would. The others send their requests to it and
//! get its events back. A follower's request carries the follower's own id (tab, request number)
//! and stays with the follower until settled (`Done`/`Refused`): a leader that dies first leaves
//! it to be handed again to the next leader, which is where idempotency comes from:
//! - a publish the leader has not accepted (`Accepted`) is re-submitted: it was never stored;
//! - a publish it accepted is in the store (persistent sessions: `Accepted { stored: true }` is
//!   posted only once the store committed its row, [`Tab::committed`]), which the next leader
//!   restores and finishes; the follower *adopts* it (`Adopt`: matched by topic, payload and QoS
//!   to a restored row not yet claimed) to be told when it completes, or is told `Done` at once
//!   when no row is left (it completed before). So a QoS 2 message is never sent twice, a QoS 1
//!   message at least once. Without a store (clean sessions) accepted publishes are re-submitted
//!   too: at least once for both QoS;
//! - a leader answers a request id it has seen with the same answer (`Accepted` while in
//!   progress, `Done` once settled), so a request that crossed a leader change is not run twice.
//!
//! A request names the leader it is for (learned from that leader's `Hello`, which a new
//! leader broadcasts and a leader sends to each tab that says `Hi`): a request posted to an
//! earlier leader and still on its way when the next one took over is ignored, and handed again
//! on the new `Hello` (the simulation found that case running a QoS 2 message twice).
//!
//! The one gap, as the simulation (`tests/simulation`) measures it: a leader gone after a
//! follower's row committed and before that follower received `Accepted { stored: true }` (the
//! transaction's `complete` event, the post, its delivery) leaves a stored message the follower
//! hands again as a new `Publish`, not an `Adopt`: that QoS 2 message may reach the broker twice
//! (a QoS 1 message is resent anyway). Nothing is lost, and no other duplicate occurs.
//!
//! A tab granted the lock first opens and reads the store ([`Tab::lock_acquired`], then
//! [`Tab::promote`] with what the store held): until then its own calls wait as a follower's do
//! and the others' requests are ignored; its `Hello` then has every follower hand them again.
//! "Connected elsewhere" (`mqtt_core::takeover`) reaches every tab as the leader's state; a
//! follower's `takeOver` is handed to the leader (`TakeOver`).
//!
//! Subscriptions are each tab's: every follower re-subscribes its filters to a new leader. Every
//! tab sees every message of the shared connection; a leader posts them only while it has heard
//! from a follower (`Hi`, a request, or the answer to its `Hello`) that has not said `Bye`, so a
//! tab alone posts nothing per message.
//!
//! The runtime adapter (the browser crate) owns the lock, the channel, the session and the store;
//! a [`Tab`] only takes inputs (messages received, the lock granted, session events, commits) and
//! leaves outputs to poll (messages to post, events for the page), running requests on the
//! session through the narrow [`Connection`] trait.
#![forbid(unsafe_code)]

pub mod msgs;
mod request;
mod tab;

pub use request::{Handle, Request};
pub use tab::{Connection, Restored, Tab, TabRole};
