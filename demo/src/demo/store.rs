//! Activated devices and the platform password, kept in the data directory.
//!
//! `devices.txt` holds one line per activated identity: `<identity> <salt hex> <sha256 hex>`,
//! where the hash is SHA-256 over salt ‖ password. Passwords themselves are never stored: they
//! are shown once, in the activation reply. `platform.txt` holds the platform password in clear
//! (it is printed in the banner anyway).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};

use super::pki::write_private;
use super::DemoError;

/// The user name that logs in as the platform side.
pub(crate) const PLATFORM_USER: &str = "platform";

const SALT_LEN: usize = 16;
/// Bytes of randomness in a password: 20 bytes, 40 hex characters (like Murano's tokens).
const PASSWORD_BYTES: usize = 20;

/// Identities that name the demo itself, never a device: `activate` (a device `activate` would
/// own `activate/#`, every later device's password) and the platform user.
const RESERVED_IDENTITIES: &[&str] = &["activate", PLATFORM_USER];
/// The prefix of the services' ids (`demo-activation`, `demo-front`): no client may use one.
pub(crate) const SERVICE_PREFIX: &str = "demo-";
/// The prefix of the platform's client ids (`platform-portal`, `platform-writer-<pid>`).
const PLATFORM_PREFIX: &str = "platform-";

/// Whether `name` is 1 to `max` of `A-Z a-z 0-9 - _ . :`: no `/`, `+`, `#`, `$`, space or NUL,
/// so it is one topic level without wildcards, and a client id rumqttd accepts.
pub(crate) fn plain_name(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Whether `name` is kept for the demo itself: `activate`, the platform's names, the services'.
pub(crate) fn reserved_name(name: &str) -> bool {
    RESERVED_IDENTITIES.contains(&name)
        || name.starts_with(SERVICE_PREFIX)
        || name.starts_with(PLATFORM_PREFIX)
}

/// Whether `id` can be a device identity: a [`plain_name`] of up to 64 characters, not
/// [`reserved_name`]. So `activate/<id>` and `<id>/#` never hold a wildcard or another level, and
/// no device owns a service's topics or client id.
pub(crate) fn valid_identity(id: &str) -> bool {
    plain_name(id, 64) && !reserved_name(id)
}

/// `len` random bytes as lowercase hex.
pub(crate) fn random_hex(rng: &SystemRandom, len: usize) -> Result<String, DemoError> {
    let mut bytes = vec![0u8; len];
    rng.fill(&mut bytes).map_err(|_| DemoError::Random)?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

fn digest(salt: &[u8], password: &[u8]) -> Vec<u8> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(salt);
    ctx.update(password);
    ctx.finish().as_ref().to_vec()
}

/// Compares without an early exit on the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, Clone)]
struct Entry {
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// The device registry (shared by the activation service and the TLS front).
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    devices: BTreeMap<String, Entry>,
    rng: SystemRandom,
}

/// What [`Store::activate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Activation {
    /// A new identity: here is its password (shown once).
    Activated(String),
    /// Already activated: Murano stays silent.
    AlreadyActivated,
    /// Not a valid identity.
    Invalid,
}

impl Store {
    /// Loads `devices.txt` from `dir` (absent: no devices). Malformed lines are skipped with a
    /// warning rather than refusing to start.
    pub(crate) fn load(dir: &Path) -> Result<Store, DemoError> {
        let path = dir.join("devices.txt");
        let mut devices = BTreeMap::new();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                for (n, line) in text.lines().enumerate() {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    let parsed = match fields.as_slice() {
                        [id, salt, hash] if valid_identity(id) => unhex(salt)
                            .zip(unhex(hash))
                            .map(|(salt, hash)| (id, salt, hash)),
                        [] => continue,
                        _ => None,
                    };
                    match parsed {
                        Some((id, salt, hash)) => {
                            devices.insert(id.to_string(), Entry { salt, hash });
                        }
                        None => {
                            tracing::warn!(file = %path.display(), line = n + 1, "skipping malformed line");
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(DemoError::Io { path, source }),
        }
        Ok(Store {
            path,
            devices,
            rng: SystemRandom::new(),
        })
    }

    /// Activated identities, sorted.
    pub(crate) fn identities(&self) -> impl Iterator<Item = &str> {
        self.devices.keys().map(String::as_str)
    }

    /// Activates `identity` once: a new random 40-hex-character password, stored as a salted
    /// hash and saved before it is returned.
    pub(crate) fn activate(&mut self, identity: &str) -> Result<Activation, DemoError> {
        if !valid_identity(identity) {
            return Ok(Activation::Invalid);
        }
        if self.devices.contains_key(identity) {
            return Ok(Activation::AlreadyActivated);
        }
        let password = random_hex(&self.rng, PASSWORD_BYTES)?;
        let mut salt = vec![0u8; SALT_LEN];
        self.rng.fill(&mut salt).map_err(|_| DemoError::Random)?;
        let hash = digest(&salt, password.as_bytes());
        self.devices
            .insert(identity.to_string(), Entry { salt, hash });
        if let Err(e) = self.save() {
            self.devices.remove(identity);
            return Err(e);
        }
        Ok(Activation::Activated(password))
    }

    /// Whether `password` is the password of the activated `identity`.
    pub(crate) fn check(&self, identity: &str, password: &[u8]) -> bool {
        match self.devices.get(identity) {
            Some(entry) => same(&digest(&entry.salt, password), &entry.hash),
            None => false,
        }
    }

    fn save(&self) -> Result<(), DemoError> {
        let text: String = self
            .devices
            .iter()
            .map(|(id, e)| format!("{id} {} {}\n", hex(&e.salt), hex(&e.hash)))
            .collect();
        let tmp = self.path.with_extension("txt.tmp");
        write_private(&tmp, &text)?;
        std::fs::rename(&tmp, &self.path).map_err(|source| DemoError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// The platform password from `platform.txt`, generated (40 hex characters) on first use.
pub(crate) fn platform_password(dir: &Path) -> Result<String, DemoError> {
    let path = dir.join("platform.txt");
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(DemoError::Io { path, source }),
    }
    let password = random_hex(&SystemRandom::new(), PASSWORD_BYTES)?;
    write_private(&path, &format!("{password}\n"))?;
    Ok(password)
}

/// Constant-time comparison of a presented password with the expected one.
pub(crate) fn password_matches(expected: &str, presented: &[u8]) -> bool {
    same(expected.as_bytes(), presented)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("demo-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn identities() {
        assert!(valid_identity("007"));
        assert!(valid_identity("dev-1.a_b:c"));
        for bad in [
            "",
            "platform",
            "a/b",
            "+",
            "#",
            "$x",
            "a b",
            "a\0b",
            &"x".repeat(65),
            "activate",
            "platform-portal",
            "platform-writer-12",
            "demo-activation",
            "demo-front",
        ] {
            assert!(!valid_identity(bad), "{bad:?}");
        }
        // The services' real ids are covered.
        for service in [
            super::super::broker::FRONT_USER,
            super::super::broker::ACTIVATION_LINK,
        ] {
            assert!(reserved_name(service), "{service}");
        }
        assert!(valid_identity("activated"));
        assert!(valid_identity("my-platform"));
    }

    #[test]
    fn activate_once_check_and_survive_reload() {
        let dir = temp("activate");
        let mut store = Store::load(&dir).unwrap();
        let Activation::Activated(pw) = store.activate("007").unwrap() else {
            panic!("not activated")
        };
        assert_eq!(pw.len(), 40);
        assert!(pw.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(store.check("007", pw.as_bytes()));
        assert!(!store.check("007", b"wrong"));
        assert!(!store.check("008", pw.as_bytes()));
        assert_eq!(store.activate("007").unwrap(), Activation::AlreadyActivated);
        assert_eq!(store.activate("a/b").unwrap(), Activation::Invalid);
        assert_eq!(store.activate("activate").unwrap(), Activation::Invalid);
        let text = std::fs::read_to_string(dir.join("devices.txt")).unwrap();
        assert!(!text.contains(&pw), "password stored in clear");

        let reloaded = Store::load(&dir).unwrap();
        assert!(reloaded.check("007", pw.as_bytes()));
        assert_eq!(reloaded.identities().collect::<Vec<_>>(), vec!["007"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let dir = temp("malformed");
        std::fs::write(
            dir.join("devices.txt"),
            "x/y 00 00\nok zz 00\n\nfine 0a 0b\nactivate 0a 0b\n",
        )
        .unwrap();
        let store = Store::load(&dir).unwrap();
        assert_eq!(store.identities().collect::<Vec<_>>(), vec!["fine"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn platform_password_is_generated_once() {
        let dir = temp("platform");
        let a = platform_password(&dir).unwrap();
        assert_eq!(a.len(), 40);
        assert_eq!(platform_password(&dir).unwrap(), a);
        assert!(password_matches(&a, a.as_bytes()));
        assert!(!password_matches(&a, b""));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
