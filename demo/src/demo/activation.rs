//! The Murano-like activation service, on rumqttd's in-process link.
//!
//! * Legacy: a PUBLISH on `activate` whose payload is the identity is answered on
//!   `activate/<identity>` with the new password.
//! * Current API: an empty PUBLISH on `$provision/<identity>` is answered on the same topic
//!   with the password (non-empty PUBLISHes there, our replies included, are ignored).
//! * An identity activates once; asking again gets no answer, as on Murano.
//!
//! Inside rumqttd `$provision/…` is stored as `~$provision/…` (see `policy`).

use std::sync::{Arc, Mutex};

use rumqttd::local::{LinkRx, LinkTx};
use rumqttd::Notification;

use super::policy;
use super::store::{Activation, Store};

/// What a request on the link asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Request {
    /// `activate` with this identity: reply on `activate/<identity>`.
    Legacy(String),
    /// `$provision/<identity>` with an empty payload: reply on the same topic.
    Provision(String),
}

/// Classifies a PUBLISH seen by the service (topics as rumqttd stores them).
pub(super) fn classify(topic: &str, payload: &[u8]) -> Option<Request> {
    let topic = policy::to_client(topic);
    if topic == "activate" {
        let identity = policy::legacy_activation_identity(payload)?;
        return Some(Request::Legacy(identity.to_string()));
    }
    let identity = topic.strip_prefix("$provision/")?;
    payload
        .is_empty()
        .then(|| Request::Provision(identity.to_string()))
}

/// The reply topic (as rumqttd stores it) and payload for a request, if any.
pub(super) fn answer(store: &Mutex<Store>, request: &Request) -> Option<(String, String)> {
    let (identity, reply_topic) = match request {
        Request::Legacy(id) => (id, format!("activate/{id}")),
        Request::Provision(id) => (
            id,
            policy::to_broker(&format!("$provision/{id}")).into_owned(),
        ),
    };
    let result = match store.lock() {
        Ok(mut store) => store.activate(identity),
        Err(_) => return None,
    };
    match result {
        Ok(Activation::Activated(password)) => {
            tracing::info!(identity = %identity, "device activated");
            Some((reply_topic, password))
        }
        Ok(Activation::AlreadyActivated) => {
            tracing::info!(identity = %identity, "already activated: no answer (as Murano)");
            None
        }
        Ok(Activation::Invalid) => {
            tracing::info!(identity = %identity, "not a valid identity: no answer");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot save the activation");
            None
        }
    }
}

/// Runs the service until the link closes.
pub(super) async fn run(mut tx: LinkTx, mut rx: LinkRx, store: Arc<Mutex<Store>>) {
    for filter in ["activate", "~$provision/+"] {
        if let Err(e) = tx.subscribe(filter) {
            tracing::error!(error = %e, filter, "activation service cannot subscribe");
            return;
        }
    }
    loop {
        let notification = match rx.next().await {
            Ok(Some(n)) => n,
            Ok(None) => continue,
            Err(e) => {
                tracing::debug!(error = %e, "activation link closed");
                return;
            }
        };
        let Notification::Forward(forward) = notification else {
            continue;
        };
        let Ok(topic) = std::str::from_utf8(&forward.publish.topic) else {
            continue;
        };
        let Some(request) = classify(topic, &forward.publish.payload) else {
            continue;
        };
        if let Some((topic, password)) = answer(&store, &request) {
            if let Err(e) = tx.publish(topic, password) {
                tracing::error!(error = %e, "activation reply not sent");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        assert_eq!(
            classify("activate", b"007"),
            Some(Request::Legacy("007".into()))
        );
        assert_eq!(
            classify("~$provision/007", b""),
            Some(Request::Provision("007".into()))
        );
        assert_eq!(classify("~$provision/007", b"a-reply"), None);
        assert_eq!(classify("activate/007", b"x"), None);
        assert_eq!(classify("activate", &[0xff]), None);
        assert_eq!(classify("007/x", b""), None);
    }

    #[test]
    fn answers_once() {
        let dir = std::env::temp_dir().join(format!("demo-activation-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Mutex::new(Store::load(&dir).unwrap());
        let (topic, pw) = answer(&store, &Request::Legacy("007".into())).unwrap();
        assert_eq!(topic, "activate/007");
        assert_eq!(pw.len(), 40);
        assert_eq!(answer(&store, &Request::Legacy("007".into())), None);
        assert_eq!(answer(&store, &Request::Provision("007".into())), None);
        let (topic, _) = answer(&store, &Request::Provision("008".into())).unwrap();
        assert_eq!(topic, "~$provision/008");
        assert_eq!(answer(&store, &Request::Legacy("a/b".into())), None);
        assert_eq!(answer(&store, &Request::Legacy("platform".into())), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
