//! Admission keys: read from the files the configuration names, for one route (its own
//! `[routes.NAME.admission]` keys, or the top-level `[admission]` ones).

use std::path::Path;

use super::token::{ShortKey, TokenKeys};
use crate::config::{AdmissionKeys, Config, ConfigError, RouteError};

/// The keys of route `name`: `None` when it has no `admission` table (or is unknown).
pub fn route_keys(config: &Config, name: &str) -> Result<Option<TokenKeys>, ConfigError> {
    let Some(own) = config.routes.get(name).and_then(|r| r.admission.as_ref()) else {
        return Ok(None);
    };
    let keys: &AdmissionKeys = if own.key_file.is_some() {
        own
    } else {
        &config.admission
    };
    let Some(current) = &keys.key_file else {
        return Err(ConfigError::Route {
            route: name.to_string(),
            problem: RouteError::NoAdmissionKey,
        });
    };
    let current_bytes = read_key(current)?;
    let previous_bytes = keys
        .previous_key_file
        .as_deref()
        .map(read_key)
        .transpose()?;
    TokenKeys::new(&current_bytes, previous_bytes.as_deref())
        .map(Some)
        .map_err(|ShortKey(len)| ConfigError::AdmissionKey {
            path: current.clone(),
            len,
        })
}

fn read_key(path: &Path) -> Result<Vec<u8>, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "admission key file is readable by other users: chmod 600 it");
            }
        }
    }
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    Ok(bytes.get(start..end).unwrap_or(&[]).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::Claims;

    #[test]
    fn route_keys_come_from_the_route_or_the_top_level_and_rotate() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
        write("global.key", "  global-key-global-key-global-key-0001\n");
        write("own.key", "own-key-own-key-own-key-own-key-0001");
        write("old.key", "old-key-old-key-old-key-old-key-0001\n");
        write("short.key", "short\n");
        let toml = "listen=\"127.0.0.1:1\"\n[admission]\nkey_file=\"global.key\"\n\
                    [routes.g]\nhost=\"h\"\n[routes.g.admission]\n\
                    [routes.own]\nhost=\"h\"\n[routes.own.admission]\nkey_file=\"own.key\"\n\
                    previous_key_file=\"old.key\"\n\
                    [routes.short]\nhost=\"h\"\n[routes.short.admission]\nkey_file=\"short.key\"\n\
                    [routes.open]\nhost=\"h\"\n";
        write("b.toml", toml);
        let config = Config::load(&dir.join("b.toml")).unwrap();
        let claims = |route: &str| Claims {
            route: route.into(),
            expires_at: 10,
            client_id: None,
        };
        // The file's surrounding whitespace is not part of the key.
        let global = TokenKeys::new(b"global-key-global-key-global-key-0001", None).unwrap();
        let g = route_keys(&config, "g").unwrap().unwrap();
        assert!(g
            .verify(&global.mint(&claims("g")).unwrap(), "g", 0)
            .is_ok());
        let own = route_keys(&config, "own").unwrap().unwrap();
        let old = TokenKeys::new(b"old-key-old-key-old-key-old-key-0001", None).unwrap();
        assert!(own
            .verify(&old.mint(&claims("own")).unwrap(), "own", 0)
            .is_ok());
        assert!(own
            .verify(&global.mint(&claims("own")).unwrap(), "own", 0)
            .is_err());
        let e = route_keys(&config, "short").unwrap_err();
        assert!(e.to_string().contains("at least 32 bytes"), "{e}");
        assert!(matches!(e, ConfigError::AdmissionKey { len: 5, .. }), "{e}");
        assert!(route_keys(&config, "open").unwrap().is_none());
        assert!(route_keys(&config, "unknown").unwrap().is_none());
    }
}
