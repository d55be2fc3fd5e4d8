//! The credentials file written by `mqttws activate --save` and read by `--credentials`.
//!
//! Plain `key=value` lines, created with mode 0600 (owner read/write only) because it holds the
//! device's password:
//!
//! ```text
//! # mqttws device credentials
//! identity=007
//! password=b7b34f55e948b94841820ea50868a2490632d78f
//! ```

use std::io::Write;
use std::path::Path;

use mqtt_flows::Credentials;

/// Why the credentials file could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// Creating, restricting or writing the file failed.
    #[error("cannot write credentials file {path}: {reason}")]
    Write {
        /// The file's path, as displayed.
        path: String,
        /// The operating system's error text.
        reason: String,
    },
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("cannot read credentials file {path}: {reason}")]
    Read {
        /// The file's path, as displayed.
        path: String,
        /// The operating system's error text.
        reason: String,
    },
    /// The file was read but lacks a required line.
    #[error("credentials file {path} has no {field}= line")]
    Missing {
        /// The file's path, as displayed.
        path: String,
        /// The key of the missing line: `"identity"` or `"password"`.
        field: &'static str,
    },
}

/// Writes (or replaces) the file with mode 0600.
pub fn save(path: &Path, credentials: &Credentials) -> Result<(), CredentialsError> {
    let fail = |e: std::io::Error| CredentialsError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut file = options.open(path).map_err(fail)?;
        // An existing file keeps its mode on open: tighten it too.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(fail)?;
        write_body(&mut file, credentials).map_err(fail)
    }
    #[cfg(not(unix))]
    {
        let mut file = options.open(path).map_err(fail)?;
        write_body(&mut file, credentials).map_err(fail)
    }
}

fn write_body(file: &mut std::fs::File, credentials: &Credentials) -> std::io::Result<()> {
    let body = format!(
        "# mqttws device credentials\nidentity={}\npassword={}\n",
        credentials.username, credentials.password
    );
    file.write_all(body.as_bytes())?;
    file.sync_all()
}

/// Reads a file written by [`save`].
pub fn load(path: &Path) -> Result<Credentials, CredentialsError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| CredentialsError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    parse(&text).map_err(|field| CredentialsError::Missing { path: shown, field })
}

fn parse(text: &str) -> Result<Credentials, &'static str> {
    let mut identity = None;
    let mut password = None;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        match line.split_once('=') {
            Some(("identity", v)) => identity = Some(v.trim().to_string()),
            Some(("password", v)) => password = Some(v.trim().to_string()),
            _ => {}
        }
    }
    Ok(Credentials {
        username: identity.ok_or("identity")?,
        password: password.ok_or("password")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_with_mode_0600_and_read_back() {
        let path =
            std::env::temp_dir().join(format!("mqttws-credentials-{}.txt", std::process::id()));
        let credentials = Credentials {
            username: "007".into(),
            password: "b7b34f55e948b948".into(),
        };
        // An existing world-readable file is tightened too.
        assert!(std::fs::write(&path, "old").is_ok());
        let saved = save(&path, &credentials);
        #[cfg(unix)]
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777)
        };
        let loaded = load(&path);
        let _ = std::fs::remove_file(&path);
        assert_eq!(saved, Ok(()));
        #[cfg(unix)]
        assert_eq!(mode.ok(), Some(0o600));
        assert_eq!(loaded, Ok(credentials));
    }

    #[test]
    fn missing_fields_are_named() {
        assert_eq!(parse("identity=1\n"), Err("password"));
        assert_eq!(parse("# x\npassword=p"), Err("identity"));
        assert!(matches!(
            load(Path::new("/nonexistent/creds")),
            Err(CredentialsError::Read { .. })
        ));
    }
}
