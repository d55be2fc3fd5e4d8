//! The crates of the workspace and their root files, from the root `Cargo.toml`'s members and
//! each member's manifest (`[lib]`, `[[bin]]`, and Cargo's default `src/lib.rs`, `src/main.rs`,
//! `src/bin/*.rs`).

use std::path::{Path, PathBuf};

use toml::{Table, Value};

/// One crate root (a package's library, or one of its binaries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateRoot {
    /// The package name; a binary of a package that also has a library adds ` bin NAME`.
    pub name: String,
    /// Its root file (`src/lib.rs`, `src/main.rs`, ...).
    pub file: PathBuf,
    /// The member's `src/` directory.
    pub src: PathBuf,
}

/// Why the workspace could not be read.
#[derive(Debug)]
pub enum WorkspaceError {
    /// A manifest that cannot be read.
    Read(PathBuf),
    /// A manifest that is not valid TOML, or a member's without a `[package]` name.
    Manifest {
        /// The manifest.
        file: PathBuf,
        /// The TOML parser's message, or what is missing.
        message: String,
    },
    /// A member with no library and no binary.
    NoRoot(PathBuf),
}

impl std::fmt::Display for WorkspaceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkspaceError::Read(file) => write!(f, "cannot read {}", file.display()),
            WorkspaceError::Manifest { file, message } => {
                write!(f, "{}: {message}", file.display())
            }
            WorkspaceError::NoRoot(dir) => {
                write!(f, "member {} has no src/lib.rs or binary", dir.display())
            }
        }
    }
}

/// The workspace members listed in `root/Cargo.toml`, as written there.
pub fn members(root: &Path) -> Result<Vec<String>, WorkspaceError> {
    let manifest = read_manifest(&root.join("Cargo.toml"))?;
    let members = manifest
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Ok(members)
}

/// Every crate root of every member of the workspace at `root`.
pub fn crate_roots(root: &Path) -> Result<Vec<CrateRoot>, WorkspaceError> {
    let mut roots = Vec::new();
    for member in members(root)? {
        roots.extend(member_roots(&root.join(member))?);
    }
    Ok(roots)
}

fn member_roots(dir: &Path) -> Result<Vec<CrateRoot>, WorkspaceError> {
    let manifest_file = dir.join("Cargo.toml");
    let manifest = read_manifest(&manifest_file)?;
    let package = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| WorkspaceError::Manifest {
            file: manifest_file.clone(),
            message: "no [package] name".into(),
        })?
        .to_string();
    let src = dir.join("src");
    let lib = manifest
        .get("lib")
        .and_then(|l| l.get("path"))
        .and_then(Value::as_str)
        .map(|p| dir.join(p))
        .or_else(|| Some(src.join("lib.rs")).filter(|f| f.is_file()));

    let mut bins: Vec<(String, PathBuf)> = Vec::new();
    for bin in manifest
        .get("bin")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = bin.get("name").and_then(Value::as_str).unwrap_or(&package);
        let file = bin
            .get("path")
            .and_then(Value::as_str)
            .map_or_else(|| src.join("main.rs"), |p| dir.join(p));
        bins.push((name.to_string(), file));
    }
    let main = src.join("main.rs");
    if main.is_file() && !bins.iter().any(|(_, f)| *f == main) {
        bins.push((package.clone(), main));
    }
    if let Ok(entries) = std::fs::read_dir(src.join("bin")) {
        let mut found: Vec<(String, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let path = e.path();
                let stem = path.file_stem()?.to_str()?.to_string();
                if path.extension().is_some_and(|x| x == "rs") {
                    Some((stem, path))
                } else if path.join("main.rs").is_file() {
                    Some((stem, path.join("main.rs")))
                } else {
                    None
                }
            })
            .collect();
        found.sort();
        for (name, file) in found {
            if !bins.iter().any(|(_, f)| *f == file) {
                bins.push((name, file));
            }
        }
    }

    let mut roots = Vec::new();
    if let Some(file) = &lib {
        roots.push(CrateRoot {
            name: package.clone(),
            file: file.clone(),
            src: src.clone(),
        });
    }
    for (name, file) in bins {
        let name = if lib.is_some() || name != package {
            format!("{package} bin {name}")
        } else {
            package.clone()
        };
        roots.push(CrateRoot {
            name,
            file,
            src: src.clone(),
        });
    }
    if roots.is_empty() {
        return Err(WorkspaceError::NoRoot(dir.to_path_buf()));
    }
    Ok(roots)
}

fn read_manifest(file: &Path) -> Result<Table, WorkspaceError> {
    let text =
        std::fs::read_to_string(file).map_err(|_| WorkspaceError::Read(file.to_path_buf()))?;
    text.parse::<Table>().map_err(|e| WorkspaceError::Manifest {
        file: file.to_path_buf(),
        message: e.to_string(),
    })
}
