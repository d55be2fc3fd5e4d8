//! The one place a [`Request`] runs on the session: a QoS 1/2 publish of a persistent session
//! through its store (accepted once its row is committed, `mqtt_core::persist`), the rest as
//! they are. A lone tab calls it directly; the leader of shared tabs through
//! [`mqtt_tabs::Connection`].

use mqtt_core::persist::Persistence;
use mqtt_core::{CommandError, Instant, QoS, Session};
use mqtt_tabs::{Connection, Handle, Request};

/// The session, and its store's bookkeeping when the session is stored.
pub(super) struct Runner<'a> {
    pub(super) session: &'a mut Session,
    pub(super) persistence: Option<&'a mut Persistence>,
}

impl Runner<'_> {
    pub(super) fn run(&mut self, now: Instant, request: &Request) -> Result<Handle, CommandError> {
        match request {
            Request::Publish {
                topic,
                payload,
                qos,
                retain,
            } => match self.persistence.as_deref_mut() {
                Some(persistence) => {
                    persistence.publish(self.session, now, topic, payload, *qos, *retain)
                }
                None => self.session.publish(now, topic, payload, *qos, *retain),
            }
            .map(Handle::Publish),
            Request::Subscribe(list) => self
                .session
                .subscribe(now, &borrowed(list))
                .map(Handle::Request),
            Request::Unsubscribe(list) => {
                let filters: Vec<&str> = list.iter().map(String::as_str).collect();
                self.session.unsubscribe(now, &filters).map(Handle::Request)
            }
        }
    }
}

impl Connection for Runner<'_> {
    fn run(&mut self, now: Instant, request: &Request) -> Result<Handle, CommandError> {
        Runner::run(self, now, request)
    }

    fn connect(&mut self, now: Instant) {
        self.session.connect(now);
    }

    fn stores(&self) -> bool {
        self.persistence.is_some()
    }
}

fn borrowed(list: &[(String, QoS)]) -> Vec<(&str, QoS)> {
    let mut filters = Vec::new();
    for (f, q) in list {
        filters.push((f.as_str(), *q));
    }
    filters
}
