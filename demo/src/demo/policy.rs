//! Murano-like access rules, as pure functions of a role and a topic.
//!
//! | role | may publish | may subscribe |
//! |---|---|---|
//! | `Anonymous(cid)` | `activate`, `$provision/<cid>` | `activate/<cid>`, `$provision/<cid>` |
//! | `Device(id)` | `<id>/…` | filters inside `<id>/` (`<id>/#`, `<id>/+`, `<id>/temp`) |
//! | `Platform` | anything | anything |
//!
//! rumqttd refuses subscriptions to `$…` filters and never matches `$…` topics, so the front
//! stores them in the broker under a reserved prefix: `$provision/007` is `~$provision/007`
//! inside rumqttd ([`to_broker`], [`to_client`]). Nobody, not even the platform, may name a
//! `~$…` topic directly.

use std::borrow::Cow;

use mqtt_core::topic;

use super::store::valid_identity;

/// Who a connection is, decided from its CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// No user name: may only activate, as the identity in its client id.
    Anonymous {
        /// The client id (the identity being activated).
        client_id: String,
    },
    /// An activated device.
    Device {
        /// Its identity (the user name).
        identity: String,
    },
    /// The platform side (the Murano portal's role): no restriction.
    Platform,
}

impl Role {
    /// A short description for logs and the banner.
    pub fn describe(&self) -> String {
        match self {
            Role::Anonymous { client_id } => format!("anonymous({client_id})"),
            Role::Device { identity } => format!("device({identity})"),
            Role::Platform => "platform".to_string(),
        }
    }
}

/// The prefix under which `$…` topics live inside rumqttd.
pub const RESERVED_PREFIX: &str = "~$";

/// A client's topic or filter as rumqttd stores it.
pub fn to_broker(topic: &str) -> Cow<'_, str> {
    if topic.starts_with('$') {
        Cow::Owned(format!("~{topic}"))
    } else {
        Cow::Borrowed(topic)
    }
}

/// A topic from rumqttd as clients see it.
pub fn to_client(topic: &str) -> Cow<'_, str> {
    match topic.strip_prefix('~') {
        Some(rest) if rest.starts_with('$') => Cow::Borrowed(rest),
        _ => Cow::Borrowed(topic),
    }
}

/// Whether `role` may publish on `topic` (a topic name as the client sent it).
pub fn may_publish(role: &Role, topic: &str) -> bool {
    if topic::validate_name(topic).is_err() || topic.starts_with(RESERVED_PREFIX) {
        return false;
    }
    match role {
        Role::Platform => true,
        Role::Anonymous { client_id } => {
            valid_identity(client_id)
                && (topic == "activate" || topic.strip_prefix("$provision/") == Some(client_id))
        }
        Role::Device { identity } => inside(identity, topic),
    }
}

/// Whether `role` may subscribe to `filter` (a filter as the client sent it).
pub fn may_subscribe(role: &Role, filter: &str) -> bool {
    if topic::validate_filter(filter).is_err() || filter.starts_with(RESERVED_PREFIX) {
        return false;
    }
    match role {
        Role::Platform => true,
        Role::Anonymous { client_id } => {
            valid_identity(client_id)
                && (filter.strip_prefix("activate/") == Some(client_id)
                    || filter.strip_prefix("$provision/") == Some(client_id))
        }
        // `<id>/` followed by anything valid: the first level is fixed, so wildcards after it
        // stay inside the device's own topics.
        Role::Device { identity } => inside(identity, filter),
    }
}

/// `<identity>/` followed by at least one character.
fn inside(identity: &str, topic: &str) -> bool {
    valid_identity(identity)
        && topic
            .strip_prefix(identity)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|rest| !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anon(cid: &str) -> Role {
        Role::Anonymous {
            client_id: cid.into(),
        }
    }
    fn device(id: &str) -> Role {
        Role::Device {
            identity: id.into(),
        }
    }

    #[test]
    fn anonymous_may_only_activate_as_itself() {
        let r = anon("007");
        assert!(may_publish(&r, "activate"));
        assert!(may_publish(&r, "$provision/007"));
        assert!(may_subscribe(&r, "activate/007"));
        assert!(may_subscribe(&r, "$provision/007"));
        for t in [
            "activate/007",
            "$provision/008",
            "007/temp",
            "x",
            "$provision/",
            "activatex",
        ] {
            assert!(!may_publish(&r, t), "publish {t}");
        }
        for f in [
            "007/#",
            "#",
            "+/007",
            "activate/+",
            "activate/#",
            "activate/008",
            "activate",
            "$provision/+",
            "$provision/#",
            "$provision/008",
            "~$provision/007",
        ] {
            assert!(!may_subscribe(&r, f), "subscribe {f}");
        }
    }

    #[test]
    fn anonymous_with_a_wildcard_client_id_gets_nothing() {
        for cid in ["+", "#", "a/b", "", "platform"] {
            let r = anon(cid);
            assert!(!may_subscribe(&r, &format!("activate/{cid}")), "{cid}");
            assert!(!may_publish(&r, "activate"), "{cid}");
        }
    }

    #[test]
    fn device_stays_inside_its_own_topics() {
        let r = device("007");
        assert!(may_publish(&r, "007/temperature"));
        assert!(may_publish(&r, "007/a/b"));
        assert!(may_subscribe(&r, "007/#"));
        assert!(may_subscribe(&r, "007/+"));
        assert!(may_subscribe(&r, "007/temperature"));
        for t in [
            "008/temperature",
            "007",
            "007/",
            "0070/x",
            "activate",
            "$provision/007",
            "00/7",
        ] {
            assert!(!may_publish(&r, t), "publish {t}");
        }
        for f in [
            "#",
            "+/temperature",
            "+/#",
            "008/#",
            "007",
            "007/",
            "0070/#",
            "00+/x",
            "activate/007",
            "~$x/#",
        ] {
            assert!(!may_subscribe(&r, f), "subscribe {f}");
        }
    }

    #[test]
    fn invalid_topics_and_filters_are_refused_for_everyone() {
        for r in [anon("007"), device("007"), Role::Platform] {
            assert!(!may_publish(&r, "007/+"));
            assert!(!may_publish(&r, "007/#"));
            assert!(!may_publish(&r, ""));
            assert!(!may_subscribe(&r, "007/#/x"));
            assert!(!may_subscribe(&r, "007/a#"));
            assert!(!may_subscribe(&r, ""));
        }
    }

    #[test]
    fn platform_may_do_anything_but_the_reserved_prefix() {
        let r = Role::Platform;
        assert!(may_publish(&r, "007/temperature"));
        assert!(may_publish(&r, "$provision/007"));
        assert!(may_subscribe(&r, "#"));
        assert!(may_subscribe(&r, "+/temperature"));
        assert!(may_subscribe(&r, "$provision/+"));
        assert!(!may_publish(&r, "~$provision/007"));
        assert!(!may_subscribe(&r, "~$provision/#"));
    }

    #[test]
    fn dollar_topics_are_mapped_both_ways() {
        assert_eq!(to_broker("$provision/007"), "~$provision/007");
        assert_eq!(to_broker("007/x"), "007/x");
        assert_eq!(to_client("~$provision/007"), "$provision/007");
        assert_eq!(to_client("~x"), "~x");
        assert_eq!(to_client("007/x"), "007/x");
        for t in ["$a/b", "a", "$", "~"] {
            assert_eq!(to_client(&to_broker(t)), t);
        }
    }
}
