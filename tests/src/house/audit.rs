//! Both house rules over the whole workspace: import cycles per crate, and long files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::cycles::{self, Cycle};
use super::length;
use super::source::Disk;
use super::tree::{LoadError, Tree};
use super::workspace::{self, CrateRoot, WorkspaceError};

/// The most lines a source file may have before its `#[cfg(test)]` part.
pub const MAX_LINES: usize = 600;

/// What the checks found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Every crate root read (`mqtt-core`, `mqttws bin mqttws`, ...).
    pub crates: Vec<String>,
    /// `(crate, cycle)`, in crate order.
    pub cycles: Vec<(String, Cycle)>,
    /// Every non-test source file under a `src/`, by path from the workspace root.
    pub files: BTreeMap<String, usize>,
}

impl Findings {
    /// `crate: a -> b -> a` for each cycle.
    pub fn cycle_keys(&self) -> Vec<String> {
        self.cycles
            .iter()
            .map(|(krate, cycle)| format!("{krate}: {}", cycle.path()))
            .collect()
    }

    /// The files over [`MAX_LINES`], with their count.
    pub fn long_files(&self) -> Vec<(&str, usize)> {
        self.files
            .iter()
            .filter(|(_, &lines)| lines > MAX_LINES)
            .map(|(path, &lines)| (path.as_str(), lines))
            .collect()
    }
}

/// Why the audit could not run.
#[derive(Debug)]
pub enum AuditError {
    /// The workspace's manifests could not be read.
    Workspace(WorkspaceError),
    /// One crate's module tree could not be read.
    Load {
        /// The crate root's name, as in [`Findings::crates`].
        krate: String,
        /// What went wrong.
        error: LoadError,
    },
}

impl std::fmt::Display for AuditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditError::Workspace(e) => write!(f, "{e}"),
            AuditError::Load { krate, error } => write!(f, "{krate}: {error}"),
        }
    }
}

/// Runs both checks over the workspace at `root`.
pub fn audit(root: &Path) -> Result<Findings, AuditError> {
    let crates = workspace::crate_roots(root).map_err(AuditError::Workspace)?;
    let mut findings = Findings::default();
    let mut test_files: Vec<PathBuf> = Vec::new();
    for CrateRoot { name, file, .. } in &crates {
        let tree = Tree::load(file, &Disk).map_err(|error| AuditError::Load {
            krate: name.clone(),
            error,
        })?;
        for cycle in cycles::find(&tree) {
            findings
                .cycles
                .push((name.clone(), relative_sites(cycle, root)));
        }
        for loaded in &tree.files {
            if loaded.test_only {
                test_files.push(loaded.path.clone());
            } else {
                findings
                    .files
                    .insert(relative(&loaded.path, root), loaded.lines_before_tests);
            }
        }
        findings.crates.push(name.clone());
    }
    // Files under `src/` that no module tree reaches count whole (nothing compiles them as tests).
    let mut srcs: Vec<&PathBuf> = crates.iter().map(|c| &c.src).collect();
    srcs.dedup();
    for src in srcs {
        for file in rust_files(src) {
            let key = relative(&file, root);
            if findings.files.contains_key(&key) || test_files.contains(&file) {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let lines = syn::parse_file(&text).map_or_else(
                |_| text.lines().count(),
                |s| length::lines_before_tests(&text, &s),
            );
            findings.files.insert(key, lines);
        }
    }
    Ok(findings)
}

fn relative_sites(mut cycle: Cycle, root: &Path) -> Cycle {
    for site in &mut cycle.sites {
        site.file = PathBuf::from(relative(&site.file, root));
    }
    cycle
}

fn relative(file: &Path, root: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .to_string_lossy()
        .into_owned()
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
