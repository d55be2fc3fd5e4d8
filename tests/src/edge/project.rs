//! A user's project with the packed package installed: `npm install ./client-wasm-<v>.tgz`
//! (and `ws`, the optional peer dependency Node 20 needs for ws://, from tests/edge), once per
//! tarball: the folder `<target>/edge-project/<tarball stamp>` is reused while the tarball is
//! unchanged.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use super::edge_dir;

/// The installed project (see the module docs).
#[derive(Debug)]
pub struct EdgeProject {
    dir: PathBuf,
}

const HINT: &str = "build the package first: `bash scripts/build-pkg.sh`";

impl EdgeProject {
    /// The project for the current tarball, installed on first use by this test binary.
    pub fn shared() -> &'static EdgeProject {
        static PROJECT: OnceLock<EdgeProject> = OnceLock::new();
        PROJECT.get_or_init(EdgeProject::install)
    }

    /// The project folder (its `node_modules/client-wasm` is the installed package).
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn install() -> EdgeProject {
        let tarball = tarball();
        let stamp = std::fs::metadata(&tarball)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let root = target_dir().join("edge-project");
        let dir = root.join(stamp.to_string());
        if dir.join("node_modules/client-wasm/package.json").is_file() {
            return EdgeProject { dir };
        }
        // Projects of older tarballs are of no further use.
        for old in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            if !old.file_name().to_string_lossy().contains(".tmp") {
                let _ = std::fs::remove_dir_all(old.path());
            }
        }
        let staging = dir.with_extension(format!("{}.tmp", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).expect("project folder");
        std::fs::write(
            staging.join("package.json"),
            "{ \"name\": \"edge-user\", \"private\": true, \"type\": \"module\" }\n",
        )
        .expect("package.json");
        let file_name = tarball.file_name().expect("tarball name");
        std::fs::copy(&tarball, staging.join(file_name)).expect("copy tarball");
        let ws = edge_dir().join("node_modules/ws");
        assert!(
            ws.is_dir(),
            "{} missing: run `bash scripts/setup.sh`",
            ws.display()
        );
        let out = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--offline",
                "--loglevel=error",
            ])
            .arg(Path::new(".").join(file_name))
            .arg(&ws)
            .current_dir(&staging)
            .stdin(Stdio::null())
            .output()
            .expect("run npm");
        assert!(
            out.status.success(),
            "npm install of the tarball failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Another test binary may have installed the same tarball meanwhile: keep either.
        if std::fs::rename(&staging, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        assert!(
            dir.join("node_modules/client-wasm/package.json").is_file(),
            "install failed"
        );
        EdgeProject { dir }
    }
}

/// `client-wasm/pkg/client-wasm-<version>.tgz`; panics with the build command when it is
/// missing or older than the JS sources in `client-wasm/js`.
fn tarball() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let template = std::fs::read_to_string(root.join("client-wasm/js/package.json"))
        .expect("client-wasm/js/package.json");
    let version = serde_json::from_str::<serde_json::Value>(&template).expect("package.json")
        ["version"]
        .as_str()
        .expect("version")
        .to_string();
    let tarball = root.join(format!("client-wasm/pkg/client-wasm-{version}.tgz"));
    let built = std::fs::metadata(&tarball)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("{} not found: {HINT}", tarball.display()));
    if let Some(newest) = newest_mtime(&root.join("client-wasm/js")) {
        assert!(
            built >= newest,
            "{} is older than client-wasm/js: {HINT}",
            tarball.display()
        );
    }
    tarball
}

fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let time = if entry.path().is_dir() {
            newest_mtime(&entry.path())
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(time);
    }
    newest
}

/// `<target>` of the running test binary or bench (the cargo target folder it was built in).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // Cargo marks its target folder with CACHEDIR.TAG; a test binary sits three levels below it
    // (target/debug/deps), the bench two (target/release).
    exe.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map_or_else(std::env::temp_dir, Path::to_path_buf)
}
