//! Names the bridge and its clients must agree on: Murano product ids (which become part of a
//! host name) and bridge route names (a URL path segment, `/mqtt/<route>/<product>`).
//!
//! Product id: `^[a-z0-9]{1,32}$`. It is spliced into a DNS label (`mqtt-<id>.hosted.exosite.io`,
//! `<id>.m2.exosite.io`), so it must be a valid label on its own and with the `mqtt-` prefix:
//! letters, digits and hyphens, not starting or ending with a hyphen, at most 63 octets
//! (RFC 1035 §2.3.1, §2.3.4; RFC 1123 §2.1 allows a leading digit). Murano ids are lowercase
//! letters and digits (the seed's `x2lmj5npsktbuik9`), so the rule is stricter than DNS: no
//! hyphen (nothing to check at the ends), lowercase only (one spelling per id, so a route, an
//! SNI name and a certificate name compare byte for byte), and 32 at most (well inside 63 - 5).
//! Stricter still than the old copies: the web app allowed `_` and `-`, the CLI upper case.
//!
//! Route name: `^[a-z0-9_-]{1,32}$`. Routes name configuration entries and sit in a URL path,
//! never in a host name, so `_` and `-` are allowed anywhere; nothing needs escaping in a path.

/// Longest product id accepted.
pub const MAX_PRODUCT_ID_LEN: usize = 32;

/// Longest route name accepted.
pub const MAX_ROUTE_NAME_LEN: usize = 32;

/// Why a product id was refused. The caller's (or the URL's) fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProductIdError {
    /// The product id is empty.
    #[error("the product id is empty")]
    Empty,
    /// The product id is longer than [`MAX_PRODUCT_ID_LEN`] bytes.
    #[error("a product id has at most 32 characters, not {len}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The product id holds something other than `a-z` and `0-9`.
    #[error("a product id may only contain a-z and 0-9, not {found:?}")]
    InvalidChar {
        /// The first character refused.
        found: char,
    },
}

/// Why a route name was refused. The configuration's (or the URL's) fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteNameError {
    /// The route name is empty.
    #[error("the route name is empty")]
    Empty,
    /// The route name is longer than [`MAX_ROUTE_NAME_LEN`] bytes.
    #[error("a route name has at most 32 characters, not {len}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The route name holds something other than `a-z`, `0-9`, `_` and `-`.
    #[error("a route name may only contain a-z, 0-9, '_' and '-', not {found:?}")]
    InvalidChar {
        /// The first character refused.
        found: char,
    },
}

/// Checks a Murano product id: `^[a-z0-9]{1,32}$` (see the module documentation for why).
pub fn validate_product_id(id: &str) -> Result<(), ProductIdError> {
    if id.is_empty() {
        return Err(ProductIdError::Empty);
    }
    if let Some(found) = id
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
    {
        return Err(ProductIdError::InvalidChar { found });
    }
    if id.len() > MAX_PRODUCT_ID_LEN {
        return Err(ProductIdError::TooLong { len: id.len() });
    }
    Ok(())
}

/// Checks a bridge route name: `^[a-z0-9_-]{1,32}$`.
pub fn validate_route_name(name: &str) -> Result<(), RouteNameError> {
    if name.is_empty() {
        return Err(RouteNameError::Empty);
    }
    if let Some(found) = name
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'))
    {
        return Err(RouteNameError::InvalidChar { found });
    }
    if name.len() > MAX_ROUTE_NAME_LEN {
        return Err(RouteNameError::TooLong { len: name.len() });
    }
    Ok(())
}

/// The legacy Murano MQTT host of a product (seed 000): `mqtt-<id>.hosted.exosite.io`.
pub fn legacy_murano_host(product_id: &str) -> Result<String, ProductIdError> {
    validate_product_id(product_id)?;
    Ok(format!("mqtt-{product_id}.hosted.exosite.io"))
}

/// The current Murano MQTT host of a product: `<id>.m2.exosite.io`.
pub fn murano_host(product_id: &str) -> Result<String, ProductIdError> {
    validate_product_id(product_id)?;
    Ok(format!("{product_id}.m2.exosite.io"))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A DNS label as RFC 1035 §2.3.1 (with RFC 1123 §2.1's leading digit) and §2.3.4 define it.
    fn is_dns_label(label: &str) -> bool {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    }

    #[test]
    fn the_seed_product_id_is_accepted_and_makes_both_hosts() {
        assert_eq!(validate_product_id("x2lmj5npsktbuik9"), Ok(()));
        assert_eq!(
            legacy_murano_host("x2lmj5npsktbuik9").as_deref(),
            Ok("mqtt-x2lmj5npsktbuik9.hosted.exosite.io")
        );
        assert_eq!(
            murano_host("x2lmj5npsktbuik9").as_deref(),
            Ok("x2lmj5npsktbuik9.m2.exosite.io")
        );
    }

    #[test]
    fn product_ids_refuse_what_is_not_one_lowercase_label() {
        assert_eq!(validate_product_id(""), Err(ProductIdError::Empty));
        assert_eq!(
            validate_product_id(&"a".repeat(33)),
            Err(ProductIdError::TooLong { len: 33 })
        );
        assert_eq!(validate_product_id(&"9".repeat(32)), Ok(()));
        for (id, found) in [
            ("X2", 'X'),
            ("a-b", '-'),
            ("a_b", '_'),
            ("a.b", '.'),
            ("evil.com/", '.'),
            ("a b", ' '),
            ("é", 'é'),
        ] {
            assert_eq!(
                validate_product_id(id),
                Err(ProductIdError::InvalidChar { found }),
                "{id}"
            );
        }
        assert!(legacy_murano_host("a.b").is_err());
    }

    // RFC 1035 §2.3.1, §2.3.4 and RFC 1123 §2.1: whatever the rule accepts is a DNS label, alone
    // and behind the legacy `mqtt-` prefix.
    #[test]
    fn every_accepted_product_id_is_a_dns_label_in_both_hosts() {
        for id in [
            "0",
            "a",
            "0abc",
            &"z".repeat(MAX_PRODUCT_ID_LEN),
            "x2lmj5npsktbuik9",
        ] {
            assert_eq!(validate_product_id(id), Ok(()), "{id}");
            assert!(is_dns_label(id), "{id}");
            assert!(is_dns_label(&format!("mqtt-{id}")), "{id}");
        }
    }

    #[test]
    fn route_names_are_path_segments() {
        for name in ["murano", "local", "m2_eu-west", "0", &"r".repeat(32)] {
            assert_eq!(validate_route_name(name), Ok(()), "{name}");
        }
        assert_eq!(validate_route_name(""), Err(RouteNameError::Empty));
        assert_eq!(
            validate_route_name(&"r".repeat(33)),
            Err(RouteNameError::TooLong { len: 33 })
        );
        for (name, found) in [("a/b", '/'), ("Murano", 'M'), ("a.b", '.'), ("a?b", '?')] {
            assert_eq!(
                validate_route_name(name),
                Err(RouteNameError::InvalidChar { found }),
                "{name}"
            );
        }
    }
}
