//! The pages, reached by hash routes so that each tab can open one directly.

/// The pages, reached by hash routes so that each tab can open one directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Page {
    #[default]
    Activate,
    Console,
    Echo,
    Device,
    Platform,
}

impl Page {
    pub const ALL: [Page; 5] = [
        Page::Activate,
        Page::Console,
        Page::Echo,
        Page::Device,
        Page::Platform,
    ];

    /// `#/console` → Console; anything unknown → Activate.
    pub fn from_hash(hash: &str) -> Page {
        let name = hash.trim_start_matches('#').trim_start_matches('/');
        let name = name.split(['/', '?']).next().unwrap_or("");
        Page::ALL
            .into_iter()
            .find(|p| p.slug() == name)
            .unwrap_or_default()
    }

    pub fn slug(self) -> &'static str {
        match self {
            Page::Activate => "activate",
            Page::Console => "console",
            Page::Echo => "echo",
            Page::Device => "device",
            Page::Platform => "platform",
        }
    }

    pub fn hash(self) -> String {
        format!("#/{}", self.slug())
    }

    pub fn title(self) -> &'static str {
        match self {
            Page::Activate => "Activate",
            Page::Console => "Console",
            Page::Echo => "Echo host",
            Page::Device => "Device",
            Page::Platform => "Platform",
        }
    }

    /// The default client id suffix, so that pages in two tabs with one identity do not take
    /// over each other's session.
    pub fn client_suffix(self) -> &'static str {
        match self {
            Page::Activate | Page::Console => "",
            Page::Echo => "-echo-host",
            Page::Device => "-device",
            Page::Platform => "-platform",
        }
    }
}

/// What the tab's connection is for.
pub type Purpose = Page;
