//! The messages tabs exchange, typed (rustls `msgs/` is the model): one variant per kind, and
//! one codec ([`TabMessage::encode`], [`TabMessage::decode`]) to the bytes a channel carries.
//!
//! | message       | from     | says                                                         |
//! |---------------|----------|--------------------------------------------------------------|
//! | `Hi`          | follower | a new tab asks for the connection state                      |
//! | `Hello`       | leader   | its id (to all, or to a tab's `Hi`): requests go to it (again) |
//! | `State`       | leader   | the connection state (to one tab: the answer to `Hi`)        |
//! | `Delivery`    | leader   | a message the broker delivered                               |
//! | `Publish`     | follower | a publish to run                                             |
//! | `Adopt`       | follower | a publish an earlier leader accepted and stored              |
//! | `Subscribe`   | follower | filters to subscribe (request 0: re-subscribe, no reply)     |
//! | `Unsubscribe` | follower | filters to unsubscribe                                       |
//! | `Bye`         | follower | the tab ended; its filters are no longer its                 |
//! | `TakeOver`    | follower | "Take over" after connected elsewhere (the leader's to do)   |
//! | `Accepted`    | leader   | the request is running (`stored`: its row is committed)      |
//! | `Done`        | leader   | the request completed (a subscribe's granted QoS)            |
//! | `Refused`     | leader   | the request was refused, and why                             |
//!
//! A request names the leader it is for: a leader ignores one posted to an earlier leader,
//! still on its way when it took over (the follower hands it again on the `Hello`).
//!
//! A peer's message is read like bytes from the network: anything malformed is a
//! [`DecodeError`], never a panic.

mod codec;
mod types;

pub use codec::DecodeError;
pub use types::{LinkState, Publish, Refusal, RequestKey, TabId, TabMessage};
