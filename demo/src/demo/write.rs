//! `demo demo-write`: the platform side writes a device resource, as the Murano portal would.
//!
//! Connects through the demo's TLS front as `platform` (the password from the data directory),
//! with the native client of `client_wasm`, and publishes the value on `<identity>/<resource>`
//! at QoS 1 (legacy API), or with `--current-api` on `$resource/<identity>/<resource>`, which
//! the device receives on `$resource/<resource>/<µs>` (see `resource`); returns once the front
//! acknowledged it.

use std::path::PathBuf;
use std::time::Duration;

use mqtt_core::{Event, Options, QoS, Session};
use mqttws::{ConnectTo, Connector, Driver, Output, TlsOptions};

use super::store::{valid_identity, PLATFORM_USER};
use super::{state_file, DemoError};

/// Options of `demo-write`.
#[derive(Debug, Clone)]
pub(crate) struct WriteOptions {
    /// The running demo's data directory.
    pub data_dir: PathBuf,
    /// The device identity.
    pub identity: String,
    /// The resource (alias).
    pub resource: String,
    /// The value (sent as UTF-8 text).
    pub value: String,
    /// The front's address; `None`: read from the data directory's `demo.state`.
    pub broker: Option<String>,
    /// Murano's current API (`$resource`) rather than the legacy `<identity>/<resource>`.
    pub current_api: bool,
}

fn io(path: PathBuf) -> impl FnOnce(std::io::Error) -> DemoError {
    move |source| DemoError::Io { path, source }
}

/// Publishes the value; `Ok` once acknowledged.
pub(crate) async fn run(options: WriteOptions) -> Result<(), DemoError> {
    if !valid_identity(&options.identity) {
        return Err(DemoError::Usage(format!(
            "--identity {:?}: not a device identity",
            options.identity
        )));
    }
    let topic = match options.current_api {
        true => format!("$resource/{}/{}", options.identity, options.resource),
        false => format!("{}/{}", options.identity, options.resource),
    };
    mqtt_core::topic::validate_name(&topic)
        .map_err(|e| DemoError::Usage(format!("topic {topic:?}: {e}")))?;
    let dir = &options.data_dir;
    let broker = match &options.broker {
        Some(b) => b.clone(),
        None => {
            let path = state_file(dir);
            let text = std::fs::read_to_string(&path).map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => DemoError::Usage(format!(
                    "no running demo found in {} (start it with: cargo run -p demo -- demo)",
                    dir.display()
                )),
                _ => DemoError::Io { path, source },
            })?;
            text.lines()
                .find_map(|l| l.strip_prefix("front="))
                .map(str::to_string)
                .ok_or_else(|| DemoError::Usage("demo.state has no front= line".into()))?
        }
    };
    let connect_to: ConnectTo = broker
        .parse()
        .map_err(|e| DemoError::Usage(format!("--broker {broker:?}: {e}")))?;
    let password_path = dir.join("platform.txt");
    let password = std::fs::read_to_string(&password_path).map_err(io(password_path))?;
    let url = format!("mqtts://{}:{}", super::pki::SERVER_NAME, connect_to.port)
        .parse()
        .map_err(|e| DemoError::Usage(format!("{e}")))?;
    let tls = TlsOptions {
        ca_file: Some(dir.join("ca.pem")),
        client_auth: None,
    };
    let connector =
        Connector::new(url, &tls, Some(connect_to)).map_err(|e| DemoError::Write(e.to_string()))?;
    let mut session_options = Options::new(format!("platform-writer-{}", std::process::id()))
        .with_credentials(PLATFORM_USER, password.trim().as_bytes().to_vec());
    session_options.reconnect.enabled = false;
    let mut driver = Driver::plain(connector, Session::new(session_options));
    driver.connect();
    driver
        .publish(&topic, options.value.as_bytes(), QoS::AtLeastOnce, false)
        .map_err(|e| DemoError::Write(e.to_string()))?;
    let outcome = tokio::time::timeout(Duration::from_secs(15), async {
        let mut published = false;
        while let Some(output) = driver.next().await {
            match output {
                Output::Event(Event::Published { .. }) => {
                    published = true;
                    driver.disconnect();
                }
                Output::Event(Event::ConnectionLost { error, .. }) if !published => {
                    return Err(DemoError::Write(error.to_string()));
                }
                Output::Event(Event::Disconnected) => break,
                _ => {}
            }
        }
        match published {
            true => Ok(()),
            false => Err(DemoError::Write(
                "connection ended before the acknowledgement".into(),
            )),
        }
    })
    .await
    .map_err(|_| DemoError::Write("no acknowledgement within 15 s".into()))?;
    outcome?;
    println!("published {:?} on {topic}", options.value);
    Ok(())
}
