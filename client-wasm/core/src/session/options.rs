//! What a session is configured with.

use core::time::Duration;

use crate::error::OptionsError;
use crate::reconnect::ReconnectPolicy;
use crate::{topic, QoS};

/// A last will: published by the broker if the connection drops without DISCONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    /// The topic the will is published to (MQTT 3.1.1 §3.1.3.2 Will Topic): a topic name, no
    /// wildcards.
    pub topic: String,
    /// The will message (MQTT 3.1.1 §3.1.3.3 Will Message).
    pub payload: Vec<u8>,
    /// The QoS the broker publishes it with (MQTT 3.1.1 §3.1.2.6 Will QoS).
    pub qos: QoS,
    /// Whether the broker retains it (MQTT 3.1.1 §3.1.2.7 Will Retain).
    pub retain: bool,
}

/// Session configuration. `Options::new(client_id)` gives sensible defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The client identifier sent in CONNECT (MQTT 3.1.1 §3.1.3.1 Client Identifier). Empty
    /// asks the broker to assign one, which needs `clean_session`.
    pub client_id: String,
    /// CONNECT's Clean Session flag (MQTT 3.1.1 §3.1.2.4). With `false` the broker keeps subscriptions and unacknowledged QoS 1/2 messages across
    /// connections, and the session resends its own in-flight packets with DUP after reconnecting.
    pub clean_session: bool,
    /// Keepalive in seconds, sent in CONNECT (MQTT 3.1.1 §3.1.2.10 Keep Alive); 0 disables
    /// PINGREQ.
    pub keep_alive_secs: u16,
    /// How long to wait for PINGRESP after PINGREQ before declaring the link dead. Defaults to
    /// half the keepalive, so a stall is detected within 1.5 keepalive intervals.
    pub ping_timeout: Option<Duration>,
    /// How long to wait for CONNACK after the transport opened.
    pub connect_timeout: Duration,
    /// The user name sent in CONNECT (MQTT 3.1.1 §3.1.3.4 User Name); `None` sends none.
    pub username: Option<String>,
    /// The password sent in CONNECT (MQTT 3.1.1 §3.1.3.5 Password), binary; needs a user name.
    pub password: Option<Vec<u8>>,
    /// The last will sent in CONNECT (MQTT 3.1.1 §3.1.2.5 Will Flag); `None` sends none.
    pub will: Option<Will>,
    /// QoS 1/2 publishes awaiting acknowledgement at once; further ones wait in the queue.
    /// Default 20, mosquitto's `max_inflight_messages`: mosquitto 2.0 silently drops QoS 2
    /// publishes past that quota from MQTT 3.1.1 clients.
    pub max_inflight: usize,
    /// Publishes that may wait (offline, or for the in-flight window). When full, `publish`
    /// refuses new messages with `Error::QueueFull`; accepted messages are never dropped.
    pub max_queued: usize,
    /// Incoming packets larger than this (whole frame, bytes) close the connection with
    /// `DecodeError::TooLarge` before they are buffered. Default 2 MiB, ws-bridge's default
    /// packet limit: a 1 MiB payload (Murano's largest resource value) fits with any topic.
    pub max_incoming_packet: usize,
    /// Whether and when to reconnect after the connection is lost.
    pub reconnect: ReconnectPolicy,
    /// How long `disconnect` waits for the broker's PUBREL of inbound QoS 2 messages already
    /// delivered, so each gets its PUBCOMP before DISCONNECT (the broker would otherwise keep
    /// them half-done). Zero disconnects at once.
    pub drain_timeout: Duration,
}

impl Options {
    /// Defaults for `client_id`: clean session, 60 s keepalive, no credentials and no will,
    /// a 10 s connect timeout, 20 in flight, 1,000 queued, 2 MiB incoming packets, reconnecting
    /// with [`ReconnectPolicy::default`], a 2 s drain on `disconnect`.
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            clean_session: true,
            keep_alive_secs: 60,
            ping_timeout: None,
            connect_timeout: Duration::from_secs(10),
            username: None,
            password: None,
            will: None,
            max_inflight: 20,
            max_queued: 1_000,
            max_incoming_packet: 2 << 20,
            reconnect: ReconnectPolicy::default(),
            drain_timeout: Duration::from_secs(2),
        }
    }

    /// Sets user name and password.
    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<Vec<u8>>,
    ) -> Self {
        self.username = Some(username.into());
        self.password = Some(password.into());
        self
    }

    /// Checks the options against CONNECT's rules before anything is sent.
    pub fn check(&self) -> Result<(), OptionsError> {
        if self.password.is_some() && self.username.is_none() {
            return Err(OptionsError::PasswordWithoutUserName);
        }
        if self.client_id.is_empty() && !self.clean_session {
            return Err(OptionsError::EmptyClientIdWithoutCleanSession);
        }
        if let Some(will) = &self.will {
            topic::validate_name(&will.topic).map_err(OptionsError::WillTopic)?;
        }
        for (field, value) in [
            ("client id", Some(self.client_id.as_str())),
            ("user name", self.username.as_deref()),
        ] {
            if value.is_some_and(|v| v.contains('\0')) {
                return Err(OptionsError::ContainsNul { field });
            }
        }
        Ok(())
    }

    pub(crate) fn keep_alive(&self) -> Option<Duration> {
        (self.keep_alive_secs > 0).then(|| Duration::from_secs(u64::from(self.keep_alive_secs)))
    }

    pub(crate) fn effective_ping_timeout(&self) -> Duration {
        self.ping_timeout
            .or_else(|| self.keep_alive().map(|k| k / 2))
            .unwrap_or(Duration::from_secs(30))
    }
}
