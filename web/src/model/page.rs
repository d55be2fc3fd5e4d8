//! A page's route and names.

/// A page, reached by its hash route (`#/<slug>`) so that each tab can open one directly. Each
/// page's folder defines its own as `PAGE`; two are the same page when their slugs are equal.
#[derive(Debug, Clone, Copy, Eq)]
pub(crate) struct Page {
    slug: &'static str,
    title: &'static str,
    client_suffix: &'static str,
}

impl PartialEq for Page {
    fn eq(&self, other: &Self) -> bool {
        self.slug == other.slug
    }
}

impl Page {
    /// `client_suffix` is appended to the identity for the default client id, so that pages in
    /// two tabs with one identity do not take over each other's session.
    pub(crate) const fn new(
        slug: &'static str,
        title: &'static str,
        client_suffix: &'static str,
    ) -> Page {
        Page {
            slug,
            title,
            client_suffix,
        }
    }

    pub(crate) fn slug(self) -> &'static str {
        self.slug
    }

    pub(crate) fn hash(self) -> String {
        format!("#/{}", self.slug)
    }

    pub(crate) fn title(self) -> &'static str {
        self.title
    }

    pub(crate) fn client_suffix(self) -> &'static str {
        self.client_suffix
    }

    /// The page of `hash` among `pages` (`#/console`, `#console`, `#/console?x`); anything
    /// unknown → the first page.
    pub(crate) fn from_hash(hash: &str, pages: &[Page]) -> Option<Page> {
        let name = hash.trim_start_matches('#').trim_start_matches('/');
        let name = name.split(['/', '?']).next().unwrap_or("");
        pages
            .iter()
            .find(|p| p.slug == name)
            .or_else(|| pages.first())
            .copied()
    }
}
