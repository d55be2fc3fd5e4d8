//! Checks of the topics and QoS values given on the command line.

use mqtt_core::{qos_from_u8, topic, QoS};

use crate::exit::{CliError, Failure};

pub(super) fn qos(value: u8) -> QoS {
    qos_from_u8(value).unwrap_or(QoS::AtMostOnce)
}

pub(super) fn check_topic(name: &str) -> Result<(), CliError> {
    topic::validate_name(name)
        .map_err(|e| CliError::new(Failure::Usage, format!("invalid topic '{name}': {e}")))
}

pub(super) fn check_filter(filter: &str) -> Result<(), CliError> {
    topic::validate_filter(filter).map_err(|e| {
        CliError::new(
            Failure::Usage,
            format!("invalid topic filter '{filter}': {e}"),
        )
    })
}
