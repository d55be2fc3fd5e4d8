//! House rules (issue 27), over every crate of the workspace (the members of the root
//! `Cargo.toml`, each library and binary root):
//!
//! - **No import cycle between modules.** A module may use its parent (`super::`) and its own
//!   submodules; a use between two sibling subtrees counts as an edge between the siblings that
//!   hold them, and no closed path of such edges may exist (`tests/src/house/cycles.rs`). Test
//!   code (`#[cfg(test)]`) is left out.
//! - **No source file over 600 lines before its `#[cfg(test)]` part**: every `.rs` file under a
//!   member's `src/`, counted up to its first top-level `#[cfg(test)]` item. Test targets
//!   (`tests/`, `benches/` of a member, and files declared by `#[cfg(test)] mod name;`) are
//!   test code and do not count; the harness crate `tests` is a member, so its `src/` does.
//!
//! Today's violations are allowed below; each list only shrinks: a violation not listed fails,
//! and so does an entry that no longer matches anything (remove it). Run with `--nocapture` to
//! see every entry and where it is.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::sync::OnceLock;

use tests::house::audit::{self, Findings, MAX_LINES};
use tests::house::ratchet::Ratchet;

/// Cycles present when the check was written (`crate: a -> b -> a`), and what they are.
/// A stale entry fails: remove an entry when its cycle is gone.
const ALLOWED_CYCLES: &[(&str, &str)] = &[];

/// Files over 600 lines before their tests when the check was written, and what they are.
const ALLOWED_LONG_FILES: &[(&str, &str)] = &[];

/// The packages the workspace is made of (issue 27 names them); each must be read.
const PACKAGES: &[&str] = &[
    "mqtt-core",
    "mqtt-flows",
    "mqtt-tls",
    "mqtt-tabs",
    "client-wasm",
    "mqttws",
    "ws-bridge",
    "web",
    "demo",
    "tests",
    "bench",
];

fn findings() -> &'static Findings {
    static FINDINGS: OnceLock<Findings> = OnceLock::new();
    FINDINGS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or(Path::new(".."));
        match audit::audit(root) {
            Ok(found) => found,
            Err(e) => panic!("the house rules cannot read the workspace: {e}"),
        }
    })
}

fn note(list: &[(&str, &'static str)], key: &str) -> &'static str {
    list.iter()
        .find(|(k, _)| *k == key)
        .map_or("NOT ALLOWED", |(_, note)| note)
}

#[test]
fn every_workspace_package_is_read() {
    let found = findings();
    println!("crate roots read: {}", found.crates.join(", "));
    for package in PACKAGES {
        assert!(
            found
                .crates
                .iter()
                .any(|c| c == package || c.starts_with(&format!("{package} bin "))),
            "package {package} was not read (crates: {:?})",
            found.crates
        );
    }
}

#[test]
fn no_import_cycle_between_sibling_modules() {
    let found = findings();
    let keys = found.cycle_keys();
    let mut report = String::new();
    for (key, (_, cycle)) in keys.iter().zip(&found.cycles) {
        report.push_str(&format!("{key}\n    [{}]\n", note(ALLOWED_CYCLES, key)));
        let hops = cycle
            .modules
            .iter()
            .zip(cycle.modules.iter().skip(1).chain(cycle.modules.first()));
        for ((from, to), site) in hops.zip(&cycle.sites) {
            report.push_str(&format!(
                "    {from} -> {to}: {}:{}\n",
                site.file.display(),
                site.line
            ));
        }
    }
    println!(
        "{} import cycle(s) between sibling modules:\n{report}",
        keys.len()
    );
    let ratchet = Ratchet::compare(
        keys.iter().map(String::as_str),
        ALLOWED_CYCLES.iter().map(|(k, _)| *k),
    );
    assert!(
        ratchet.holds(),
        "import cycles: new (break them: a module must not use, directly or through others, a \
         module that uses it): {:#?}\nstale allow-list entries (the cycle is gone: remove them \
         from ALLOWED_CYCLES): {:#?}",
        ratchet.new,
        ratchet.stale
    );
}

#[test]
fn no_source_file_over_600_lines_before_its_tests() {
    let found = findings();
    let long = found.long_files();
    println!(
        "{} of {} source files over {MAX_LINES} lines before their #[cfg(test)] part:",
        long.len(),
        found.files.len()
    );
    for (path, lines) in &long {
        println!(
            "{path}: {lines} lines\n    [{}]",
            note(ALLOWED_LONG_FILES, path)
        );
    }
    let ratchet = Ratchet::compare(
        long.iter().map(|(path, _)| *path),
        ALLOWED_LONG_FILES.iter().map(|(k, _)| *k),
    );
    assert!(
        ratchet.holds(),
        "files over {MAX_LINES} lines before their tests: new (split them): {:#?}\nstale \
         allow-list entries (the file is short enough or gone: remove them from \
         ALLOWED_LONG_FILES): {:#?}",
        ratchet.new,
        ratchet.stale
    );
}
