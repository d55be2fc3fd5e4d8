//! Serving the built web app from one folder: no traversal, no hidden files, no symlink escape.

use std::path::{Path, PathBuf};

/// Largest file served (the web app's wasm is a few hundred KiB).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The outcome of a static lookup.
#[derive(Debug, PartialEq, Eq)]
pub enum StaticResult {
    /// The file's bytes and content type.
    Found {
        /// Body.
        body: Vec<u8>,
        /// Content type.
        content_type: &'static str,
    },
    /// No such file (HTTP 404).
    NotFound,
    /// The path is not acceptable: `..`, hidden segment, bad escape (HTTP 400).
    BadPath,
}

/// Content type by file extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "txt" => "text/plain; charset=utf-8",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = *bytes.get(i)?;
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Maps a request path (query allowed) to a relative file path, or `None` if unsafe.
pub fn safe_relative(path: &str) -> Option<PathBuf> {
    let path = path.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path)?;
    if !decoded.starts_with('/') || decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    let mut rel = PathBuf::new();
    for seg in decoded.split('/').filter(|s| !s.is_empty()) {
        if seg.starts_with('.') || seg.contains(':') {
            return None;
        }
        rel.push(seg);
    }
    if decoded.ends_with('/') || rel.as_os_str().is_empty() {
        rel.push("index.html");
    }
    Some(rel)
}

/// Looks a request path up under `root` (blocking: call from `spawn_blocking`).
pub fn lookup(root: &Path, path: &str) -> StaticResult {
    let Some(rel) = safe_relative(path) else {
        return StaticResult::BadPath;
    };
    let Ok(root) = root.canonicalize() else {
        return StaticResult::NotFound;
    };
    let mut full = root.join(&rel);
    if full.is_dir() {
        full.push("index.html");
    }
    let Ok(full) = full.canonicalize() else {
        return StaticResult::NotFound;
    };
    if !full.starts_with(&root) {
        return StaticResult::BadPath;
    }
    match std::fs::metadata(&full) {
        Ok(m) if m.is_file() && m.len() <= MAX_FILE_BYTES => {}
        _ => return StaticResult::NotFound,
    }
    match std::fs::read(&full) {
        Ok(body) => StaticResult::Found {
            body,
            content_type: content_type(&full),
        },
        Err(_) => StaticResult::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_safe() {
        assert_eq!(safe_relative("/").unwrap(), PathBuf::from("index.html"));
        assert_eq!(
            safe_relative("/a/b.js?x=1").unwrap(),
            PathBuf::from("a/b.js")
        );
        assert_eq!(
            safe_relative("/sub/").unwrap(),
            PathBuf::from("sub/index.html")
        );
        for bad in [
            "/../etc/passwd",
            "/a/../../x",
            "/%2e%2e/x",
            "/.git/config",
            "/a\\..\\b",
            "/%00",
            "/%zz",
            "relative",
        ] {
            assert!(safe_relative(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn serves_files_with_types() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join("index.html"), "<html>").unwrap();
        std::fs::write(dir.join("app.wasm"), [0, 97, 115, 109]).unwrap();
        match lookup(dir, "/") {
            StaticResult::Found { content_type, .. } => {
                assert_eq!(content_type, "text/html; charset=utf-8");
            }
            other => panic!("{other:?}"),
        }
        match lookup(dir, "/app.wasm") {
            StaticResult::Found { content_type, body } => {
                assert_eq!(content_type, "application/wasm");
                assert_eq!(body.len(), 4);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(lookup(dir, "/missing.js"), StaticResult::NotFound);
        assert_eq!(lookup(dir, "/../x"), StaticResult::BadPath);
    }
}
