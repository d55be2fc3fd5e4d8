//! The follower's side: calls handed to the leader, the leader's messages turned into the
//! events this tab's caller gets, and each request handed again to a new leader.

use super::*;
use mqtt_core::persist::StoreError;

impl Share {
    /// Hands `command` to the leader; its id stands for it until `ok`/`err`.
    fn send(&self, mine: &Mine, adopt: bool) {
        let f = self.tab.as_str();
        let r = mine.id as f64;
        let out = match &mine.command {
            Command::Publish {
                topic,
                payload,
                qos,
                retain,
            } => Out::new(if adopt { "adopt" } else { "pub" })
                .set("tp", topic.as_str())
                .bytes("pl", payload)
                .set("q", qos_to_u8(*qos))
                .set("rt", *retain),
            Command::Subscribe(list) => Out::new("sub").set("l", wire::filters_with_qos(list)),
            Command::Unsubscribe(list) => Out::new("unsub").set("l", wire::strings(list)),
            Command::Disconnect => return,
        };
        self.post(out.set("f", f).set("r", r));
    }

    /// A follower's call: checked here as the session would (what only the leader can know,
    /// a full queue or store, comes back as `err`), then handed on.
    pub(super) fn follow(
        &mut self,
        command: Command,
        max_queued: usize,
    ) -> Result<u64, CommandError> {
        match &command {
            Command::Publish { topic, .. } => {
                topic::validate_name(topic)?;
                if self.pending_count() >= max_queued {
                    return Err(CommandError::QueueFull(self.pending_count()));
                }
            }
            Command::Subscribe(list) => {
                if list.is_empty() {
                    return Err(CommandError::NoFilters);
                }
                for (filter, _) in list {
                    topic::validate_filter(filter)?;
                }
                for (filter, qos) in list {
                    match self.subs.iter_mut().find(|(f, _)| f == filter) {
                        Some(existing) => existing.1 = *qos,
                        None => self.subs.push((filter.clone(), *qos)),
                    }
                }
            }
            Command::Unsubscribe(list) => {
                if list.is_empty() {
                    return Err(CommandError::NoFilters);
                }
                for filter in list {
                    topic::validate_filter(filter)?;
                }
                self.subs.retain(|(f, _)| !list.contains(f));
            }
            Command::Disconnect => return Ok(0),
        }
        let mine = Mine {
            id: self.new_id(),
            command,
            stored: false,
        };
        self.send(&mine, false);
        let id = mine.id;
        self.mine.push(mine);
        Ok(id)
    }

    /// Follower: a message from the leader, as the events this tab's caller gets.
    pub(super) fn follow_message(&mut self, message: &In, events: &mut Vec<Event>) {
        let kind = message.str("t").unwrap_or_default();
        if let Some(to) = message.str("to") {
            if to != self.tab {
                return;
            }
        }
        match kind.as_str() {
            "hello" => {
                self.connected = false;
                if !self.subs.is_empty() {
                    let f = self.tab.as_str();
                    self.post(
                        Out::new("sub")
                            .set("f", f)
                            .set("r", 0)
                            .set("l", wire::filters_with_qos(&self.subs)),
                    );
                }
                for mine in &self.mine {
                    let adopt = mine.stored;
                    self.send(mine, adopt);
                }
            }
            "st" => {
                if let Some(event) = state_event(message) {
                    self.connected = matches!(event, Event::Connected { .. });
                    self.elsewhere = matches!(
                        event,
                        Event::ConnectionLost {
                            error: mqtt_core::ConnectionError::ConnectedElsewhere { .. },
                            ..
                        }
                    );
                    events.push(event);
                }
            }
            "m" => {
                let (Some(topic), Some(payload), Some(qos)) =
                    (message.str("tp"), message.bytes("pl"), message.qos("q"))
                else {
                    return;
                };
                events.push(Event::Message(Message {
                    topic,
                    payload,
                    qos,
                    retain: message.flag("rt"),
                    dup: message.flag("d"),
                }));
            }
            "acc" | "ok" | "err" => {
                let Some(id) = message.num("r") else { return };
                let Some(index) = self.mine.iter().position(|m| m.id == id) else {
                    return;
                };
                if kind == "acc" {
                    self.mine[index].stored = message.flag("p");
                    return;
                }
                let mine = self.mine.remove(index);
                let code = message.str("c");
                events.push(settled_event(&mine, code.as_deref(), message));
            }
            _ => {}
        }
    }
}

/// The event a follower's caller gets when the leader settles its request.
pub(super) fn settled_event(mine: &Mine, refused: Option<&str>, message: &In) -> Event {
    match (&mine.command, refused) {
        (Command::Publish { .. }, None) => Event::Published {
            id: PublishId(mine.id),
        },
        (Command::Publish { .. }, Some(code)) => Event::PublishFailed {
            id: PublishId(mine.id),
            reason: match code {
                "session_lost" => PublishFailure::SessionLostBeforePubcomp,
                // The leader's store could not commit its row: as in a lone tab.
                "storage_full" => PublishFailure::NotStored(StoreError::Full),
                "storage_unavailable" => PublishFailure::NotStored(StoreError::Unavailable),
                other => PublishFailure::RefusedBySharedConnection(wire::refusal_code(other)),
            },
        },
        (Command::Subscribe(list), refused) => {
            let granted: Vec<Option<QoS>> = match (refused, message.list("g")) {
                (None, Some(g)) => {
                    let mut granted = Vec::new();
                    for q in g.iter() {
                        granted.push(q.as_f64().and_then(|n| mqtt_core::qos_from_u8(n as u8)));
                    }
                    granted
                }
                _ => vec![None; list.len()],
            };
            Event::Subscribed {
                request: RequestId(mine.id),
                granted,
            }
        }
        _ => Event::Unsubscribed {
            request: RequestId(mine.id),
        },
    }
}

/// A follower's view of the leader's connection state.
fn state_event(message: &In) -> Option<Event> {
    let attempt = message.num("a").unwrap_or(0) as u32;
    Some(match message.str("s")?.as_str() {
        "c" => Event::Connected {
            session_present: message.flag("sp"),
        },
        "k" => Event::Reconnecting { attempt },
        "r" => Event::ConnectionLost {
            error: wire::error_in(&message.object("e")),
            reconnect_in: Some(core::time::Duration::from_millis(
                message.num("ms").unwrap_or(0),
            )),
            attempt,
        },
        "x" => Event::ConnectionLost {
            error: wire::error_in(&message.object("e")),
            reconnect_in: None,
            attempt,
        },
        _ => return None,
    })
}
