//! Host and SNI names with an optional `{product}` placeholder (a template route's product id,
//! taken from the URL and validated by the router before it is put in).

use rustls::pki_types::ServerName;

use super::TemplateError;

const PLACEHOLDER: &str = "{product}";

/// A host or SNI name, possibly with one `{product}` placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    text: String,
}

impl Template {
    /// Parses and checks that the name (with a sample product) is a valid DNS name or IP.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let rest = text.replace(PLACEHOLDER, "");
        if rest.contains('{') || rest.contains('}') {
            return Err(TemplateError::UnknownPlaceholder(text.to_string()));
        }
        if text.matches(PLACEHOLDER).count() > 1 {
            return Err(TemplateError::RepeatedPlaceholder(text.to_string()));
        }
        let sample = text.replace(PLACEHOLDER, "p0");
        if ServerName::try_from(sample.as_str()).is_err() {
            return Err(TemplateError::NotAName(text.to_string()));
        }
        Ok(Template {
            text: text.to_string(),
        })
    }

    /// True when the name contains `{product}`.
    pub fn is_template(&self) -> bool {
        self.text.contains(PLACEHOLDER)
    }

    /// The name with `{product}` replaced (the product must be validated first).
    pub fn render(&self, product: Option<&str>) -> String {
        match product {
            Some(p) => self.text.replace(PLACEHOLDER, p),
            None => self.text.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_checked() {
        let t = Template::parse("mqtt-{product}.hosted.exosite.io").unwrap();
        assert!(t.is_template());
        assert_eq!(t.render(Some("abc")), "mqtt-abc.hosted.exosite.io");
        assert!(!Template::parse("127.0.0.1").unwrap().is_template());
        assert_eq!(
            Template::parse("x-{tenant}.example"),
            Err(TemplateError::UnknownPlaceholder(
                "x-{tenant}.example".into()
            ))
        );
        assert_eq!(
            Template::parse("{product}.{product}.example"),
            Err(TemplateError::RepeatedPlaceholder(
                "{product}.{product}.example".into()
            ))
        );
        assert_eq!(
            Template::parse("a b"),
            Err(TemplateError::NotAName("a b".into()))
        );
        let e = Template::parse("x-{tenant}.example").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"x-{tenant}.example\": the only placeholder allowed is {product}"
        );
    }
}
