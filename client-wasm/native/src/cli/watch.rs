//! The connection events every command reacts to the same way. A leaf below the commands and
//! their flags (`connect`): it takes what it needs from them as values.

use mqtt_core::{qos_to_u8, ConnectionError, Event};
use mqtt_flows::Flow;
use mqttws::{BrokerUrl, Driver};

use super::io::{debug, warn};
use crate::exit::{CliError, Failure};

/// The error behind a lost connection: the exit class from the session's typed error; a
/// transport failure in the transport's own words.
pub(super) fn lost(error: &ConnectionError) -> CliError {
    let failure = Failure::of_connection(error);
    match error {
        ConnectionError::Transport(cause) if error.close_code().is_none() => {
            CliError::new(failure, cause)
        }
        _ => CliError::new(failure, error),
    }
}

/// Watches connection events common to every command. Fatal: any loss before the first
/// CONNACK, a loss the session will not retry, and a refused subscription.
pub(super) struct Watch {
    debug: bool,
    url: String,
    pub(super) connected_once: bool,
    /// Filters this command subscribes to, to name a refused one.
    filters: Vec<String>,
}

impl Watch {
    /// Reports progress on stderr when `debug` (the commands' `--debug`).
    pub(super) fn new(debug: bool, url: &BrokerUrl, filters: Vec<String>) -> Self {
        Self {
            debug,
            url: url.to_string(),
            connected_once: false,
            filters,
        }
    }

    pub(super) fn event<F: Flow>(
        &mut self,
        driver: &Driver<F>,
        event: &Event,
    ) -> Result<(), CliError> {
        match event {
            Event::Connected { session_present } => {
                self.connected_once = true;
                debug(
                    self.debug,
                    format_args!(
                        "connected to {} (session present: {session_present})",
                        self.url
                    ),
                );
            }
            Event::ConnectionLost {
                error,
                reconnect_in,
                ..
            } => {
                let error = lost(error);
                match reconnect_in {
                    Some(delay) if self.connected_once => {
                        warn(format_args!(
                            "connection lost: {}; reconnecting in {} ms",
                            error.message,
                            delay.as_millis()
                        ));
                    }
                    _ => return Err(error),
                }
            }
            Event::Reconnecting { attempt } => {
                debug(self.debug, format_args!("reconnecting (attempt {attempt})"));
            }
            Event::Subscribed { granted, .. } => {
                if granted.iter().any(Option::is_none) {
                    let kept = driver.session().subscriptions();
                    let refused: Vec<&str> = self
                        .filters
                        .iter()
                        .filter(|f| !kept.iter().any(|(k, _)| k == *f))
                        .map(String::as_str)
                        .collect();
                    let which = if refused.is_empty() {
                        "a topic filter".to_string()
                    } else {
                        refused.join(", ")
                    };
                    return Err(CliError::new(
                        Failure::Auth,
                        format!("not authorised to subscribe to {which} (SUBACK 0x80)"),
                    ));
                }
                let shown: Vec<String> = granted
                    .iter()
                    .flatten()
                    .map(|q| format!("QoS {}", qos_to_u8(*q)))
                    .collect();
                debug(
                    self.debug,
                    format_args!(
                        "subscribed to {} (granted {})",
                        self.filters.join(", "),
                        shown.join(", ")
                    ),
                );
            }
            _ => {}
        }
        Ok(())
    }
}
