//! Where the analyser reads source text: the file system, or an in-memory map for its own tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Source files by path.
pub trait Sources {
    /// The text of `path`, or `None` when there is no such file.
    fn read(&self, path: &Path) -> Option<String>;
}

/// The real files under a directory.
pub struct Disk;

impl Sources for Disk {
    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
}

/// Files held in memory: `(path, text)` pairs.
#[derive(Default)]
pub struct Memory {
    files: BTreeMap<PathBuf, String>,
}

impl Memory {
    /// A set of files from `(path, text)` pairs.
    pub fn of(files: &[(&str, &str)]) -> Memory {
        Memory {
            files: files
                .iter()
                .map(|(path, text)| (PathBuf::from(path), (*text).to_string()))
                .collect(),
        }
    }
}

impl Sources for Memory {
    fn read(&self, path: &Path) -> Option<String> {
        self.files.get(path).cloned()
    }
}
