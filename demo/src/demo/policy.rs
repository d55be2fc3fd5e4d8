//! Murano-like access rules, as pure functions of a role and a topic.
//!
//! | role | client id | may publish | may subscribe |
//! |---|---|---|---|
//! | `Anonymous(cid)` | a device identity, clean session | `activate` (payload: `<cid>`), `$provision/<cid>` | `activate/<cid>`, `$provision/<cid>` |
//! | `Device(id)` | `<id>` or `<id>-<suffix>` | `<id>/…` | filters inside `<id>/` (`<id>/#`, `<id>/+`, `<id>/temp`) |
//! | `Platform` | any plain name but the services' | anything | anything |
//!
//! Device identities exclude the demo's own names ([`super::store::reserved_name`]). Inside
//! rumqttd every client id is put in its role's namespace ([`broker_client_id`]), so no client
//! can take over (or inherit the session of) another role's client, nor the services' link.
//!
//! rumqttd refuses subscriptions to `$…` filters and never matches `$…` topics, so the front
//! stores them in the broker under a reserved prefix: `$provision/007` is `~$provision/007`
//! inside rumqttd ([`to_broker`], [`to_client`]). Nobody, not even the platform, may name a
//! `~$…` topic directly. rumqttd's wildcards then match `~$…`, so the guard passes a `$…`
//! message only to a client that subscribed a `$…` filter matching it ([`topic::matches`],
//! [MQTT-4.7.2-1]).

use std::borrow::Cow;

use mqtt_core::topic;

use super::store::{plain_name, valid_identity, SERVICE_PREFIX};

/// Who a connection is, decided from its CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
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
    pub(crate) fn describe(&self) -> String {
        match self {
            Role::Anonymous { client_id } => format!("anonymous({client_id})"),
            Role::Device { identity } => format!("device({identity})"),
            Role::Platform => "platform".to_string(),
        }
    }
}

/// The prefix under which `$…` topics live inside rumqttd.
pub(crate) const RESERVED_PREFIX: &str = "~$";

/// A client's topic or filter as rumqttd stores it.
pub(crate) fn to_broker(topic: &str) -> Cow<'_, str> {
    if topic.starts_with('$') {
        Cow::Owned(format!("~{topic}"))
    } else {
        Cow::Borrowed(topic)
    }
}

/// A topic from rumqttd as clients see it.
pub(crate) fn to_client(topic: &str) -> Cow<'_, str> {
    match topic.strip_prefix('~') {
        Some(rest) if rest.starts_with('$') => Cow::Borrowed(rest),
        _ => Cow::Borrowed(topic),
    }
}

/// Whether `role` may publish on `topic` (a topic name as the client sent it).
pub(crate) fn may_publish(role: &Role, topic: &str) -> bool {
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

/// The identity an activation request on `activate` names: its payload as UTF-8, trimmed.
pub(crate) fn legacy_activation_identity(payload: &[u8]) -> Option<&str> {
    std::str::from_utf8(payload).ok().map(str::trim)
}

/// Whether `role` may publish `payload` on `topic`: [`may_publish`], and an anonymous client's
/// request on `activate` names its own client id (no one uses up another identity's activation).
pub(crate) fn may_publish_message(role: &Role, topic: &str, payload: &[u8]) -> bool {
    if !may_publish(role, topic) {
        return false;
    }
    match role {
        Role::Anonymous { client_id } if topic == "activate" => {
            legacy_activation_identity(payload) == Some(client_id.as_str())
        }
        _ => true,
    }
}

/// Longest suffix in a device's `<identity>-<suffix>` client id.
const MAX_CLIENT_SUFFIX: usize = 32;

/// Whether `role` may connect with `client_id` and this clean session flag:
/// * anonymous: the client id is the identity being activated, with a clean session (nothing
///   of a session survives the activation); or no client id at all, the current API's
///   token-only style, which may then provision exactly one identity (`resource.rs`);
/// * a device: its identity, or `<identity>-<suffix>` (one more connection, e.g. the web app's
///   `007-echo-host` and `007-device`), the suffix 1 to 32 identity characters;
/// * the platform: any plain name of up to 64 characters, but not the services' ids.
pub(crate) fn may_use_client_id(role: &Role, client_id: &str, clean_session: bool) -> bool {
    match role {
        Role::Anonymous { client_id: cid } => {
            cid == client_id && (valid_identity(client_id) || client_id.is_empty()) && clean_session
        }
        Role::Device { identity } => {
            valid_identity(identity)
                && match client_id.strip_prefix(identity.as_str()) {
                    Some("") => true,
                    Some(rest) => rest
                        .strip_prefix('-')
                        .is_some_and(|suffix| plain_name(suffix, MAX_CLIENT_SUFFIX)),
                    None => false,
                }
        }
        Role::Platform => plain_name(client_id, 64) && !client_id.starts_with(SERVICE_PREFIX),
    }
}

/// The client id rumqttd sees for `client_id` ([`may_use_client_id`] checked): the role's
/// namespace, `~` separated (`~` is in no client's id; rumqttd refuses `/ + # $` in one), so
/// equal client ids of different roles (or devices) are different sessions in the broker.
pub(crate) fn broker_client_id(role: &Role, client_id: &str) -> String {
    match role {
        Role::Anonymous { .. } => format!("~anonymous~{client_id}"),
        Role::Device { identity } => format!("~device~{identity}~{client_id}"),
        Role::Platform => format!("~platform~{client_id}"),
    }
}

/// Whether `role` may subscribe to `filter` (a filter as the client sent it).
pub(crate) fn may_subscribe(role: &Role, filter: &str) -> bool {
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
    fn anonymous_activates_only_its_own_client_id() {
        let r = anon("007");
        assert!(may_publish_message(&r, "activate", b"007"));
        assert!(may_publish_message(&r, "activate", b" 007\n"));
        for payload in [&b"008"[..], b"", b"0070", b"\xff", b"activate"] {
            assert!(!may_publish_message(&r, "activate", payload), "{payload:?}");
        }
        assert!(may_publish_message(&r, "$provision/007", b""));
        // Others' publishes on `activate` are not requests of their own.
        assert!(may_publish_message(&Role::Platform, "activate", b"008"));
        assert!(!may_publish_message(&device("007"), "activate", b"007"));
    }

    #[test]
    fn client_ids_are_tied_to_the_login() {
        let a = anon("007");
        assert!(may_use_client_id(&a, "007", true));
        assert!(
            !may_use_client_id(&a, "007", false),
            "anonymous keeps no session"
        );
        assert!(
            may_use_client_id(&anon(""), "", true),
            "token-only provisioning"
        );
        assert!(!may_use_client_id(&anon(""), "", false));
        for cid in [
            "activate",
            "demo-activation",
            "demo-front",
            "platform",
            "platform-portal",
            "a/b",
            "+",
            "#",
            "$x",
            "a\0b",
        ] {
            assert!(
                !may_use_client_id(&anon(cid), cid, true),
                "anonymous {cid:?}"
            );
        }
        let d = device("007");
        for ok in ["007", "007-echo-host", "007-device", "007-tab.2"] {
            assert!(may_use_client_id(&d, ok, true), "{ok}");
            assert!(may_use_client_id(&d, ok, false), "{ok}");
        }
        for bad in [
            "",
            "008",
            "0070",
            "007-",
            "007/x",
            "007-a/b",
            "007-$",
            "00",
            "demo-activation",
            "platform-portal",
            &format!("007-{}", "x".repeat(33)),
        ] {
            assert!(!may_use_client_id(&d, bad, true), "device {bad:?}");
        }
        let p = Role::Platform;
        for ok in [
            "platform-portal",
            "platform-writer-12",
            "platform-test",
            "007",
        ] {
            assert!(may_use_client_id(&p, ok, false), "{ok}");
        }
        for bad in ["", "demo-activation", "demo-front", "a/b", "~x", "a+"] {
            assert!(!may_use_client_id(&p, bad, true), "platform {bad:?}");
        }
    }

    #[test]
    fn broker_client_ids_are_namespaced_by_role() {
        let ids = [
            broker_client_id(&anon("007"), "007"),
            broker_client_id(&device("007"), "007"),
            broker_client_id(&Role::Platform, "007"),
            broker_client_id(&device("007"), "007-x"),
            broker_client_id(&device("007-x"), "007-x"),
        ];
        let unique: std::collections::BTreeSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        for id in &ids {
            assert!(id.starts_with('~'), "{id}");
            assert!(!id.contains(['/', '+', '#', '$']), "rumqttd refuses {id}");
            assert_ne!(id, super::super::broker::ACTIVATION_LINK);
        }
    }

    #[test]
    fn anonymous_with_a_wildcard_client_id_gets_nothing() {
        for cid in [
            "+",
            "#",
            "a/b",
            "",
            "platform",
            "activate",
            "demo-activation",
        ] {
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
    fn reserved_identities_own_nothing() {
        for id in ["activate", "platform", "platform-portal", "demo-activation"] {
            let r = device(id);
            assert!(!may_subscribe(&r, &format!("{id}/#")), "{id}");
            assert!(!may_publish(&r, &format!("{id}/x")), "{id}");
        }
        assert!(!may_subscribe(&device("activate"), "activate/#"));
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
