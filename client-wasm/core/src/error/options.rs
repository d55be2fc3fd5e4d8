//! Why session options cannot be used: the caller's fault, found before anything is sent.

use super::EncodeError;
use crate::text::{display_from_text, Text};
use crate::topic::TopicError;

/// An option breaks a rule of MQTT 3.1.1's CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionsError {
    /// [MQTT-3.1.2-22]: a password may only be sent with a user name.
    PasswordWithoutUserName,
    /// [MQTT-3.1.3-7]: a zero-length client id asks the broker to assign one, which only a clean
    /// session may do (a persistent session needs a stable id).
    EmptyClientIdWithoutCleanSession,
    /// The will topic is a topic name like any other: no wildcards ([MQTT-3.1.2-14]).
    WillTopic(TopicError),
    /// [MQTT-1.5.3-2]: UTF-8 strings in MQTT must not contain U+0000.
    ContainsNul {
        /// Name of the option that holds the NUL, e.g. `"client id"`.
        field: &'static str,
    },
    /// The CONNECT packet cannot hold a field (more than 65,535 bytes, §1.5.3).
    Unencodable(EncodeError),
}

impl Text for OptionsError {
    fn write_text(&self, out: &mut String) {
        match self {
            OptionsError::PasswordWithoutUserName => {
                out.push_str("a password needs a user name [MQTT-3.1.2-22]");
            }
            OptionsError::EmptyClientIdWithoutCleanSession => {
                out.push_str("an empty client id needs clean session [MQTT-3.1.3-7]");
            }
            OptionsError::WillTopic(e) => {
                out.push_str("will topic: ");
                e.write_text(out);
            }
            OptionsError::ContainsNul { field } => {
                for part in ["the ", field, " contains the NUL character [MQTT-1.5.3-2]"] {
                    out.push_str(part);
                }
            }
            OptionsError::Unencodable(e) => {
                out.push_str("the options cannot be sent: ");
                e.write_text(out);
            }
        }
    }
}

display_from_text!(OptionsError);

impl std::error::Error for OptionsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OptionsError::Unencodable(e) => Some(e),
            _ => None,
        }
    }
}

impl From<EncodeError> for OptionsError {
    fn from(e: EncodeError) -> Self {
        OptionsError::Unencodable(e)
    }
}
