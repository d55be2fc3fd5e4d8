//! Why session options cannot be used: the caller's fault, found before anything is sent.

use super::EncodeError;
use crate::topic::TopicError;

/// An option breaks a rule of MQTT 3.1.1's CONNECT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// [MQTT-3.1.2-22]: a password may only be sent with a user name.
    #[error("a password needs a user name [MQTT-3.1.2-22]")]
    PasswordWithoutUserName,
    /// [MQTT-3.1.3-7]: a zero-length client id asks the broker to assign one, which only a clean
    /// session may do (a persistent session needs a stable id).
    #[error("an empty client id needs clean session [MQTT-3.1.3-7]")]
    EmptyClientIdWithoutCleanSession,
    /// The will topic is a topic name like any other: no wildcards ([MQTT-3.1.2-14]).
    #[error("will topic: {0}")]
    WillTopic(TopicError),
    /// [MQTT-1.5.3-2]: UTF-8 strings in MQTT must not contain U+0000.
    #[error("the {field} contains the NUL character [MQTT-1.5.3-2]")]
    ContainsNul {
        /// Name of the option that holds the NUL, e.g. `"client id"`.
        field: &'static str,
    },
    /// The CONNECT packet cannot hold a field (more than 65,535 bytes, §1.5.3).
    #[error("the options cannot be sent: {0}")]
    Unencodable(#[from] EncodeError),
}
