//! The browser client's command type: a page's request ([`Request`], which a follower tab
//! hands to the leader) or the end of the connection. Flows' commands convert into it.

use mqtt_flows as flows;
use mqtt_tabs::Request;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Request(Request),
    /// DISCONNECT once the in-flight publishes are done (a follower's flow cannot end the
    /// connection of every tab: ignored there).
    Disconnect,
}

impl From<flows::Command> for Command {
    fn from(command: flows::Command) -> Command {
        Command::Request(match command {
            flows::Command::Publish {
                topic,
                payload,
                qos,
                retain,
            } => Request::Publish {
                topic,
                payload,
                qos,
                retain,
            },
            flows::Command::Subscribe(list) => Request::Subscribe(list),
            flows::Command::Unsubscribe(list) => Request::Unsubscribe(list),
            flows::Command::Disconnect => return Command::Disconnect,
        })
    }
}
