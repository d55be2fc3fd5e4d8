//! Topic names and filters (MQTT 3.1.1 section 4.7): validation and matching.

use crate::text::{display_from_text, push_num, Text};

/// Why a topic name or filter was refused. The caller's fault: fix the string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopicError {
    /// A topic name or filter must be at least one character long ([MQTT-4.7.3-1]).
    Empty,
    /// Longer than a UTF-8 string's two-byte length prefix allows (MQTT 3.1.1 §1.5.3).
    /// Holds the length in bytes.
    TooLong(usize),
    /// Contains U+0000 ([MQTT-4.7.3-2]).
    ContainsNul,
    /// A topic name (as opposed to a filter) contains `+` or `#` ([MQTT-4.7.1-1]).
    WildcardInName,
    /// A filter has `#` other than as its whole last level, e.g. `a/b#` or `a/#/b`
    /// ([MQTT-4.7.1-2]).
    MisplacedMultiLevelWildcard,
    /// A filter has `+` sharing a level with other characters, e.g. `a/b+` ([MQTT-4.7.1-3]).
    MisplacedSingleLevelWildcard,
}

impl Text for TopicError {
    fn write_text(&self, out: &mut String) {
        match self {
            TopicError::Empty => out.push_str("topic must not be empty"),
            TopicError::TooLong(len) => {
                out.push_str("topic is ");
                push_num(out, *len as u64);
                out.push_str(" bytes long; MQTT allows at most 65535");
            }
            TopicError::ContainsNul => out.push_str("topic must not contain the NUL character"),
            TopicError::WildcardInName => {
                out.push_str("wildcards '+' and '#' are not allowed in a topic name");
            }
            TopicError::MisplacedMultiLevelWildcard => {
                out.push_str("'#' must be the last level of a filter, alone");
            }
            TopicError::MisplacedSingleLevelWildcard => {
                out.push_str("'+' must occupy a whole level of a filter");
            }
        }
    }
}

display_from_text!(TopicError);

impl std::error::Error for TopicError {}

const MAX_TOPIC_BYTES: usize = 65_535;

fn validate_common(topic: &str) -> Result<(), TopicError> {
    if topic.is_empty() {
        return Err(TopicError::Empty);
    }
    if topic.len() > MAX_TOPIC_BYTES {
        return Err(TopicError::TooLong(topic.len()));
    }
    // Byte scans: the characters looked for are ASCII, which never occurs inside a multi-byte
    // UTF-8 sequence (a char pattern decodes every character, on every publish).
    if topic.as_bytes().contains(&0) {
        return Err(TopicError::ContainsNul);
    }
    Ok(())
}

/// Checks a topic name, as used in PUBLISH: no wildcards.
pub fn validate_name(topic: &str) -> Result<(), TopicError> {
    validate_common(topic)?;
    if topic.bytes().any(|b| b == b'+' || b == b'#') {
        return Err(TopicError::WildcardInName);
    }
    Ok(())
}

/// Checks a topic filter, as used in SUBSCRIBE and UNSUBSCRIBE.
pub fn validate_filter(filter: &str) -> Result<(), TopicError> {
    validate_common(filter)?;
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        if level.contains('#') && (level != "#" || levels.peek().is_some()) {
            return Err(TopicError::MisplacedMultiLevelWildcard);
        }
        if level.contains('+') && level != "+" {
            return Err(TopicError::MisplacedSingleLevelWildcard);
        }
    }
    Ok(())
}

/// Whether a (valid) topic `name` matches a (valid) `filter`.
///
/// Follows section 4.7: `+` matches one level (possibly empty), `#` matches the parent level and
/// everything below, and wildcards in the first level never match topics starting with `$`.
pub fn matches(filter: &str, name: &str) -> bool {
    if name.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut filter_levels = filter.split('/');
    let mut name_levels = name.split('/');
    loop {
        match (filter_levels.next(), name_levels.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(f), Some(n)) if f == n => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn names_refuse_wildcards_and_nul() {
        assert_eq!(validate_name("007/temperature"), Ok(()));
        assert_eq!(validate_name("a/+"), Err(TopicError::WildcardInName));
        assert_eq!(validate_name("a/#"), Err(TopicError::WildcardInName));
        assert_eq!(validate_name(""), Err(TopicError::Empty));
        assert_eq!(validate_name("a\0b"), Err(TopicError::ContainsNul));
        assert_eq!(
            validate_name(&"x".repeat(65_536)),
            Err(TopicError::TooLong(65_536))
        );
        assert_eq!(validate_name("/"), Ok(()));
    }

    #[test]
    fn filters_follow_the_wildcard_rules() {
        for ok in [
            "#",
            "+",
            "a/#",
            "+/+",
            "a/+/b",
            "/+",
            "$provision/007",
            "007/#",
            "+/#",
        ] {
            assert_eq!(validate_filter(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            validate_filter("a/#/b"),
            Err(TopicError::MisplacedMultiLevelWildcard)
        );
        assert_eq!(
            validate_filter("a#"),
            Err(TopicError::MisplacedMultiLevelWildcard)
        );
        assert_eq!(
            validate_filter("a+/b"),
            Err(TopicError::MisplacedSingleLevelWildcard)
        );
    }

    #[test]
    fn matching_follows_section_4_7() {
        assert!(matches("007/#", "007/temperature"));
        assert!(matches("007/#", "007"));
        assert!(matches("sport/+", "sport/"));
        assert!(matches("+/+", "/finance"));
        assert!(!matches("sport/+", "sport"));
        assert!(!matches("007/#", "008/temperature"));
        assert!(!matches("#", "$SYS/broker"));
        assert!(!matches("+/x", "$provision/x"));
        assert!(matches("$provision/+", "$provision/x"));
        assert!(matches("a/b", "a/b"));
        assert!(!matches("a/b", "a/b/c"));
    }
}
