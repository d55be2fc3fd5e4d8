//! The long-file rule: how many lines a file has before its first `#[cfg(test)]` item.

use syn::File;

use super::attrs;

/// Lines of `text` before the first top-level `#[cfg(test)]` item of `syntax` (its parse): the
/// item starts at its first attribute, doc comments included. A file without one counts whole.
pub fn lines_before_tests(text: &str, syntax: &File) -> usize {
    let first_test_line = syntax.items.iter().find_map(|item| {
        let attrs = attrs::of_item(item);
        if attrs::is_test_only(attrs) {
            attrs.first().map(|a| a.pound_token.span.start().line)
        } else {
            None
        }
    });
    match first_test_line {
        Some(line) => line.saturating_sub(1),
        None => text.lines().count(),
    }
}
