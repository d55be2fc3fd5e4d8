//! A real mosquitto 2.0 broker on loopback ports, configured like Murano.
//!
//! Listeners (all on 127.0.0.1):
//! * plain TCP (for test-side helpers and `mosquitto_pub`/`mosquitto_sub`);
//! * TLS with the `broker.test` certificate: clients dial `127.0.0.1` but verify (and send as
//!   SNI) the name [`BROKER_NAME`], trusting [`Mosquitto::ca_path`];
//! * optionally: mutual TLS (`require_certificate true`), WebSockets (only when this build can:
//!   see [`supports_websockets`]), and TLS listeners presenting a wrong-name, an expired or a
//!   foreign-CA certificate (for refusal tests).
//!
//! Authorisation (`per_listener_settings false`, `allow_anonymous true`, password + ACL files):
//! * anonymous clients may publish `activate` and `$provision/<client id>` and subscribe
//!   `activate/<client id>` and `$provision/<client id>` (Murano activation);
//! * a device (any user) may read and write `<its username>/#`;
//! * the user [`PLATFORM_USER`] (password [`PLATFORM_PASSWORD`]) may read and write everything,
//!   `$provision/#`, `$resource/#` and `$resource.batch` included: it plays the Murano platform;
//! * with [`MosquittoOptions::murano_current_api`]: everyone may use `$resource/#` and
//!   `$resource.batch`, and anonymous clients may provision any identity on `$provision/+`.
//!   mosquitto keeps one `$resource` tree for all and reads an empty user name as anonymous
//!   (2.0.11: it cannot check a token alone, nor tie a reply to an empty client id), so this
//!   models the current API's topics and log-in styles, not its per-device isolation (the
//!   demo's front models that).
//!
//! ```no_run
//! use tests::certs::TestPki;
//! use tests::mosquitto::{Mosquitto, MosquittoOptions};
//! let pki = TestPki::generate();
//! let mut broker = Mosquitto::start(&pki, MosquittoOptions::default());
//! broker.add_user("dev1", "secret"); // reloads with SIGHUP and waits until it works
//! println!("{} {}", broker.tls_addr(), broker.ca_path().display());
//! broker.restart(); // same ports, persistent sessions kept
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::certs::{TempDir, TestPki};
use crate::procs::{free_port, loopback, try_wait_for_port, wait_for_port, ChildGuard};

/// Path of the broker binary.
pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";
/// The name on the broker's certificate; send it as SNI and verify it.
pub const BROKER_NAME: &str = "broker.test";
/// The privileged user that plays the Murano platform.
pub const PLATFORM_USER: &str = "platform";
/// Its password.
pub const PLATFORM_PASSWORD: &str = "platform-secret";

/// Which optional listeners to open, and users to create at start.
#[derive(Debug, Clone, Default)]
pub struct MosquittoOptions {
    /// A mutual-TLS listener (`require_certificate true`, trusting the test CA).
    pub mtls: bool,
    /// A WebSockets listener, if [`supports_websockets`] (silently skipped otherwise).
    pub websockets: bool,
    /// A TLS listener presenting the `wrong.test` certificate.
    pub wrong_name_listener: bool,
    /// A TLS listener presenting the expired `broker.test` certificate.
    pub expired_listener: bool,
    /// A TLS listener presenting a `broker.test` certificate from an unrelated CA.
    pub other_issuer_listener: bool,
    /// Users (name, password) in the password file from the start.
    pub users: Vec<(String, String)>,
    /// Murano's current API for everyone (see the module's notes).
    pub murano_current_api: bool,
}

impl MosquittoOptions {
    /// Every optional listener on.
    pub fn all() -> Self {
        MosquittoOptions {
            mtls: true,
            websockets: true,
            wrong_name_listener: true,
            expired_listener: true,
            other_issuer_listener: true,
            users: Vec::new(),
            murano_current_api: false,
        }
    }
}

/// Ports of the listeners (0 when not opened).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ports {
    /// Plain MQTT over TCP.
    pub plain: u16,
    /// MQTT over TLS (`broker.test`).
    pub tls: u16,
    /// MQTT over mutual TLS.
    pub mtls: u16,
    /// MQTT over WebSockets (plain).
    pub ws: u16,
    /// TLS with the `wrong.test` certificate.
    pub wrong_name: u16,
    /// TLS with the expired certificate.
    pub expired: u16,
    /// TLS with the unrelated CA's certificate.
    pub other_issuer: u16,
}

/// A running broker; killed (SIGKILL) and its folder removed on drop.
#[derive(Debug)]
pub struct Mosquitto {
    child: Option<ChildGuard>,
    ports: Ports,
    conf: PathBuf,
    passwd: PathBuf,
    log: PathBuf,
    ca: PathBuf,
    dir: TempDir,
}

const ACL: &str = "\
# Anonymous clients (topic lines before any user line): Murano activation only.
topic write activate

# Privileged platform user: plays the Murano platform.
user platform
topic readwrite #
topic readwrite $provision/#
topic readwrite $resource/#
topic readwrite $resource.batch

# Everyone (patterns): own activation topics, and a device's own tree.
pattern write $provision/%c
pattern read $provision/%c
pattern read activate/%c
pattern readwrite %u/#
";

/// Added with [`MosquittoOptions::murano_current_api`] (patterns apply to every client).
const CURRENT_API_ACL: &str = "\
pattern readwrite $resource/#
pattern write $resource.batch
";

/// True when this mosquitto build can open a WebSockets listener here (probed once by
/// starting a throwaway broker).
pub fn supports_websockets() -> bool {
    static PROBE: OnceLock<bool> = OnceLock::new();
    *PROBE.get_or_init(|| {
        let dir = TempDir::new("mosquitto-ws-probe");
        let port = free_port();
        let conf = dir.path().join("probe.conf");
        let text = format!(
            "user root\nallow_anonymous true\nlistener {port} 127.0.0.1\nprotocol websockets\n"
        );
        if std::fs::write(&conf, text).is_err() {
            return false;
        }
        let mut child = ChildGuard::spawn(
            "mosquitto (websockets probe)",
            Command::new(MOSQUITTO)
                .arg("-c")
                .arg(&conf)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let ok = try_wait_for_port(loopback(port), Duration::from_secs(2)) && child.is_running();
        child.kill();
        ok
    })
}

fn copy_into(src: &Path, dir: &Path, name: &str) -> PathBuf {
    let dst = dir.join(name);
    std::fs::copy(src, &dst).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
    dst
}

fn passwd(file: &Path, create: bool, user: &str, password: &str) {
    let mut cmd = Command::new("mosquitto_passwd");
    if create {
        cmd.arg("-c");
    }
    let status = cmd
        .arg("-b")
        .arg(file)
        .arg(user)
        .arg(password)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run mosquitto_passwd");
    assert!(status.success(), "mosquitto_passwd failed for {user}");
}

impl Mosquitto {
    /// A fresh PKI and a broker with one password user and the default listeners.
    pub fn with_user(user: &str, password: &str) -> (TestPki, Mosquitto) {
        let pki = TestPki::generate();
        let opts = MosquittoOptions {
            users: vec![(user.into(), password.into())],
            ..MosquittoOptions::default()
        };
        let broker = Mosquitto::start(&pki, opts);
        (pki, broker)
    }

    /// A fresh PKI and a broker with one password user and the mutual-TLS listener too
    /// (`require_certificate true`, trusting the run's CA).
    pub fn mutual_tls_with_user(user: &str, password: &str) -> (TestPki, Mosquitto) {
        let pki = TestPki::generate();
        let opts = MosquittoOptions {
            mtls: true,
            users: vec![(user.into(), password.into())],
            ..MosquittoOptions::default()
        };
        let broker = Mosquitto::start(&pki, opts);
        (pki, broker)
    }

    /// Starts a broker with the given options; waits until every listener accepts. Retries
    /// with fresh ports (up to 3 times) if a port was taken between picking and binding.
    pub fn start(pki: &TestPki, opts: MosquittoOptions) -> Mosquitto {
        let mut last = String::new();
        for _ in 0..3 {
            match Self::try_start(pki, &opts) {
                Ok(m) => return m,
                Err(e) => last = e,
            }
        }
        panic!("mosquitto failed to start 3 times: {last}");
    }

    fn try_start(pki: &TestPki, opts: &MosquittoOptions) -> Result<Mosquitto, String> {
        assert!(
            Path::new(MOSQUITTO).exists(),
            "{MOSQUITTO} not found: install Debian's mosquitto package (apt-get install mosquitto mosquitto-clients)"
        );
        let dir = TempDir::new("mosquitto");
        let d = dir.path();
        std::fs::create_dir_all(d.join("data")).expect("data dir");
        let ca = copy_into(&pki.ca(), d, "ca.pem");
        let files = |name: &str, pair: crate::certs::CertFiles| {
            (
                copy_into(&pair.cert, d, &format!("{name}.pem")),
                copy_into(&pair.key, d, &format!("{name}.key")),
            )
        };
        let broker = files("broker", pki.broker());
        let wrong = files("wrong", pki.wrong_name());
        let expired = files("expired", pki.expired());
        let other = files("other", pki.other_issuer());

        let passwd_file = d.join("passwd");
        passwd(&passwd_file, true, PLATFORM_USER, PLATFORM_PASSWORD);
        for (u, p) in &opts.users {
            passwd(&passwd_file, false, u, p);
        }
        let acl = d.join("acl");
        let acl_text = match opts.murano_current_api {
            // Anonymous lines must come before the first `user` line.
            true => {
                ACL.replacen(
                    "topic write activate\n",
                    "topic write activate\ntopic readwrite $provision/+\n",
                    1,
                ) + CURRENT_API_ACL
            }
            false => ACL.to_string(),
        };
        std::fs::write(&acl, acl_text).expect("acl");
        let log = d.join("mosquitto.log");

        let mut ports = Ports {
            plain: free_port(),
            tls: free_port(),
            ..Ports::default()
        };
        let mut conf = format!(
            "# generated by tests/src/mosquitto.rs\n\
             user root\n\
             per_listener_settings false\n\
             allow_anonymous true\n\
             password_file {passwd}\n\
             acl_file {acl}\n\
             persistence true\n\
             persistence_location {data}/\n\
             log_dest file {log}\n\
             log_type error\nlog_type warning\nlog_type notice\nlog_type information\n\
             connection_messages true\n\
             log_timestamp_format %H:%M:%S\n\
             max_queued_messages 100000\n\
             \n\
             listener {plain} 127.0.0.1\n\
             \n",
            passwd = passwd_file.display(),
            acl = acl.display(),
            data = d.join("data").display(),
            log = log.display(),
            plain = ports.plain,
        );
        let tls_listener = |port: u16, (cert, key): &(PathBuf, PathBuf), mtls: bool| {
            format!(
                "listener {port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n{}\n",
                ca.display(),
                cert.display(),
                key.display(),
                if mtls {
                    "require_certificate true\nuse_identity_as_username false\n"
                } else {
                    ""
                }
            )
        };
        conf.push_str(&tls_listener(ports.tls, &broker, false));
        if opts.mtls {
            ports.mtls = free_port();
            conf.push_str(&tls_listener(ports.mtls, &broker, true));
        }
        if opts.wrong_name_listener {
            ports.wrong_name = free_port();
            conf.push_str(&tls_listener(ports.wrong_name, &wrong, false));
        }
        if opts.expired_listener {
            ports.expired = free_port();
            conf.push_str(&tls_listener(ports.expired, &expired, false));
        }
        if opts.other_issuer_listener {
            ports.other_issuer = free_port();
            conf.push_str(&tls_listener(ports.other_issuer, &other, false));
        }
        if opts.websockets && supports_websockets() {
            ports.ws = free_port();
            conf.push_str(&format!(
                "listener {} 127.0.0.1\nprotocol websockets\n\n",
                ports.ws
            ));
        }
        let conf_path = d.join("mosquitto.conf");
        std::fs::write(&conf_path, conf).expect("write mosquitto.conf");
        let mut m = Mosquitto {
            child: None,
            ports,
            conf: conf_path,
            passwd: passwd_file,
            log,
            ca,
            dir,
        };
        m.launch()?;
        Ok(m)
    }

    fn launch(&mut self) -> Result<(), String> {
        let child = ChildGuard::spawn(
            "mosquitto",
            Command::new(MOSQUITTO)
                .arg("-c")
                .arg(&self.conf)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        self.child = Some(child);
        let p = self.ports;
        for port in [
            p.plain,
            p.tls,
            p.mtls,
            p.ws,
            p.wrong_name,
            p.expired,
            p.other_issuer,
        ] {
            if port != 0 && !try_wait_for_port(loopback(port), Duration::from_secs(10)) {
                return Err(format!(
                    "mosquitto did not open port {port} within 10 s; log:\n{}",
                    self.log_text()
                ));
            }
        }
        // A port taken by someone else makes mosquitto exit; make sure it is ours and alive.
        std::thread::sleep(Duration::from_millis(20));
        if !self.is_running() {
            return Err(format!(
                "mosquitto exited at start; log:\n{}",
                self.log_text()
            ));
        }
        Ok(())
    }

    /// Listener ports.
    pub fn ports(&self) -> Ports {
        self.ports
    }
    /// Plain TCP listener address.
    pub fn plain_addr(&self) -> SocketAddr {
        loopback(self.ports.plain)
    }
    /// TLS listener address (verify [`BROKER_NAME`]).
    pub fn tls_addr(&self) -> SocketAddr {
        loopback(self.ports.tls)
    }
    /// Mutual-TLS listener address, if opened.
    pub fn mtls_addr(&self) -> Option<SocketAddr> {
        (self.ports.mtls != 0).then(|| loopback(self.ports.mtls))
    }
    /// WebSockets listener address, if opened.
    pub fn ws_addr(&self) -> Option<SocketAddr> {
        (self.ports.ws != 0).then(|| loopback(self.ports.ws))
    }
    /// The CA that signed the broker's certificate (a copy of the PKI's `ca.pem`).
    pub fn ca_path(&self) -> &Path {
        &self.ca
    }
    /// The broker's working folder (config, password and ACL files, log, persistence).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
    /// The broker's process id (0 when stopped).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, ChildGuard::pid)
    }
    /// The broker's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// True if `user`/`password` can connect now (checked with `mosquitto_pub` on the plain port).
    pub fn can_login(&self, user: &str, password: &str) -> bool {
        Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &self.ports.plain.to_string()])
            .args(["-u", user, "-P", password, "-i", &format!("probe-{user}")])
            .args(["-t", &format!("{user}/probe"), "-m", "probe", "-q", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// Adds (or updates) a user with `mosquitto_passwd -b`, reloads the broker with SIGHUP, and
    /// waits (up to 10 s) until the new credentials work.
    pub fn add_user(&mut self, name: &str, password: &str) {
        passwd(&self.passwd, false, name, password);
        if let Some(c) = &self.child {
            c.signal("HUP");
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.can_login(name, password) {
            assert!(
                Instant::now() < deadline,
                "user {name} still refused 10 s after SIGHUP; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the broker gracefully (SIGTERM, so persistence is saved) and starts it again on
    /// the same ports; waits until it accepts connections.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(e) = self.launch() {
            panic!("restart failed: {e}");
        }
    }

    /// Stops gracefully (SIGTERM; SIGKILL after 5 s). [`Mosquitto::restart`] starts it again.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.signal("TERM");
            if c.wait_timeout(Duration::from_secs(5)).is_none() {
                c.kill();
            }
        }
    }

    /// Kills the broker now (SIGKILL): no persistence saved. [`Mosquitto::restart`] starts it again.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill();
        }
    }

    /// True while the broker process runs.
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(ChildGuard::is_running)
    }

    /// Waits for the plain port (after [`Mosquitto::restart`] this is already done).
    pub fn wait_ready(&self) {
        wait_for_port(self.plain_addr(), Duration::from_secs(10));
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
    }
}
