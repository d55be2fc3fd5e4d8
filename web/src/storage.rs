//! Remembered credentials in `localStorage`, only when the user ticks "remember" (opt-in).

use mqtt_flows::Credentials;

const KEY: &str = "mqttws.web.credentials";

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The remembered credentials, if any (`username\npassword`).
pub fn load() -> Option<Credentials> {
    let text = local()?.get_item(KEY).ok().flatten()?;
    let (username, password) = text.split_once('\n')?;
    (!username.is_empty()).then(|| Credentials {
        username: username.into(),
        password: password.into(),
    })
}

pub fn save(username: &str, password: &str) {
    if let Some(storage) = local() {
        // A full or disabled storage only means nothing is remembered.
        let _ = storage.set_item(KEY, &format!("{username}\n{password}"));
    }
}

pub fn forget() {
    if let Some(storage) = local() {
        let _ = storage.remove_item(KEY);
    }
}
