//! The delivery guarantees, checked after every step (`check`) and at the end of a run
//! (`check_end`). Their text is docs/delivery-guarantees.md, point for point.

use std::collections::BTreeSet;

use mqtt_core::{qos_to_u8, QoS};

use crate::world::{Outcome, World};

/// A broken invariant: the step it broke at and what it says.
#[derive(Debug)]
pub(crate) struct Violation {
    pub step: usize,
    pub what: String,
}

/// The number in a payload such as `c17`.
fn payload_number(payload: &[u8]) -> u64 {
    String::from_utf8_lossy(payload.get(1..).unwrap_or_default())
        .parse()
        .unwrap_or(u64::MAX)
}

fn name(payload: &[u8]) -> String {
    String::from_utf8_lossy(payload).into_owned()
}

impl World {
    /// Invariants after every step. Incremental where the books only grow: the `Published`
    /// booked since the last check, and the messages forwarded or delivered a second time.
    pub(crate) fn check(&mut self, step: usize) -> Result<(), Violation> {
        let fail = |what: String| Err(Violation { step, what });
        let unchecked = std::mem::take(&mut self.published_unchecked);
        let duplicates_allowed = self.storage_degraded;
        if let Some(v) = self.broker.violations.iter().find(|v| {
            !(duplicates_allowed && (v.contains("[MQTT-2.3.1-2]") || v.contains("[MQTT-3.3.1-1]")))
        }) {
            return fail(format!("the broker saw the client break a rule: {v}"));
        }
        if duplicates_allowed {
            return self.check_bound(step);
        }
        for payload in &unchecked {
            let Some((qos, _)) = self.outcomes.get(payload) else {
                continue;
            };
            let held = match qos {
                QoS::AtMostOnce => true,
                QoS::AtLeastOnce => self.broker.acknowledged_qos1.contains_key(payload),
                QoS::ExactlyOnce => {
                    self.broker.forwarded.contains_key(payload)
                        || payload_number(payload) < self.ambiguous_before
                }
            };
            if !held {
                return fail(format!(
                    "`Published` for {} (QoS {}) but the broker never accepted it",
                    name(payload),
                    qos_to_u8(*qos)
                ));
            }
        }
        for payload in &self.broker.forwarded_again {
            if let Some((QoS::ExactlyOnce, _)) = self.outcomes.get(payload) {
                let count = self.broker.forwarded.get(payload).copied().unwrap_or(0);
                return fail(format!(
                    "QoS 2 message {} forwarded {count} times",
                    name(payload)
                ));
            }
        }
        for payload in &self.received_again {
            let qos = self
                .sent_down
                .iter()
                .find(|(p, _)| p == payload)
                .map(|(_, q)| *q);
            if let Some(qos) = qos.filter(|q| *q != QoS::AtLeastOnce) {
                let count = self.received.get(payload).copied().unwrap_or(0);
                return fail(format!(
                    "QoS {} message {} delivered {count} times",
                    qos_to_u8(qos),
                    name(payload)
                ));
            }
        }
        if let Some(what) = &self.misreport {
            return fail(what.clone());
        }
        self.check_bound(step)
    }

    /// Memory is bounded: pending publishes within `max_inflight + max_queued`.
    fn check_bound(&self, step: usize) -> Result<(), Violation> {
        let fail = |what: String| Err(Violation { step, what });
        let bound = self.session.options().max_inflight + self.session.options().max_queued;
        if self.session.pending_count() > bound {
            return fail(format!(
                "{} pending publishes, above the bound {bound}",
                self.session.pending_count()
            ));
        }
        Ok(())
    }

    /// At the end, after the quiet phase: nothing accepted is silently gone.
    pub(crate) fn check_end(&self, step: usize) -> Result<(), Violation> {
        let fail = |what: String| Err(Violation { step, what });
        let pending: BTreeSet<Vec<u8>> = self
            .session
            .pending_publishes()
            .into_iter()
            .map(|p| p.payload)
            .collect();
        for (payload, (qos, outcome)) in &self.outcomes {
            if *qos != QoS::AtMostOnce && *outcome == Outcome::Pending && !pending.contains(payload)
            {
                return fail(format!(
                    "{} (QoS {}) was accepted and is neither published nor pending",
                    name(payload),
                    qos_to_u8(*qos)
                ));
            }
        }
        if !self.settled() {
            return fail(format!(
                "did not settle: connected={} pending={}",
                self.session.is_connected(),
                self.session.pending_count()
            ));
        }
        if !self.scenario.broker_may_drop_session() {
            for (payload, qos) in &self.sent_down {
                let count = self.received.get(payload).copied().unwrap_or(0);
                if *qos != QoS::AtMostOnce && count == 0 {
                    return fail(format!(
                        "QoS {} message {} to the client never arrived",
                        qos_to_u8(*qos),
                        name(payload)
                    ));
                }
            }
            // QoS 1: first deliveries in the order the broker sent them (§4.6).
            let sent: Vec<&Vec<u8>> = self
                .sent_down
                .iter()
                .filter(|(_, q)| *q == QoS::AtLeastOnce)
                .map(|(p, _)| p)
                .collect();
            let sent_set: BTreeSet<&Vec<u8>> = sent.iter().copied().collect();
            let mut seen = BTreeSet::new();
            let first_seen: Vec<&Vec<u8>> = self
                .received_order
                .iter()
                .filter(|p| sent_set.contains(p) && seen.insert(*p))
                .collect();
            if first_seen != sent {
                return fail("QoS 1 messages to the client arrived out of order".into());
            }
        }
        Ok(())
    }

    /// Runs the seed's steps with faults, then a quiet phase, checking invariants throughout.
    pub(crate) fn run(&mut self) -> Result<(), Violation> {
        for step in 0..self.scenario.steps {
            let next = self.draw(true);
            self.apply(next);
            self.check(step)?;
        }
        self.settle_quietly(self.scenario.steps)
    }

    /// Quiet phase: no faults and no new work; everything accepted must settle. Then the end
    /// checks.
    pub(crate) fn settle_quietly(&mut self, from: usize) -> Result<(), Violation> {
        self.end_faults();
        for step in from..from + 2_000 {
            if self.settled() {
                break;
            }
            let next = self.draw(false);
            self.apply(next);
            self.check(step)?;
        }
        self.check_end(from)
    }
}
