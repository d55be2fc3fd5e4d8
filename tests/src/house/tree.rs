//! The module tree of one crate, read from its root file: `mod` declarations (files, `#[path]`,
//! inline blocks), and what each module names: its `use` declarations and the other paths in
//! its code (expressions, types, patterns, macro arguments) that may lead into the crate.
//!
//! Items under `#[cfg(test)]` (test modules, test-only functions and imports) are left out:
//! a test that builds its fixtures from a sibling module does not make the code it tests
//! depend on that sibling.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::{self, Visit};
use syn::{ImplItem, Item, ItemUse, TraitItem, UseTree};

use super::attrs;
use super::length;
use super::source::Sources;

/// Index of a module in [`Tree::modules`].
pub type ModuleId = usize;

/// The crate root's id.
pub const ROOT: ModuleId = 0;

/// One crate's modules.
pub struct Tree {
    /// Root first; a module's parent comes before it.
    pub modules: Vec<Module>,
    /// Every file the tree was read from.
    pub files: Vec<LoadedFile>,
}

/// One module (a file or an inline `mod name { .. }`).
pub struct Module {
    /// Its name in its parent (`""` for the root).
    pub name: String,
    /// The enclosing module (`None` for the root).
    pub parent: Option<ModuleId>,
    /// Its submodules, by name.
    pub children: BTreeMap<String, ModuleId>,
    /// The file its body is in (for an inline module, the file holding the block).
    pub file: PathBuf,
    /// Declared under `#[cfg(test)]` (itself or an ancestor).
    pub test_only: bool,
    /// Names of the items it defines (not modules, not imports).
    pub items: BTreeSet<String>,
    /// Its `use` declarations, one entry per path, outside `#[cfg(test)]`.
    pub imports: Vec<Import>,
    /// The paths its code names outside `use`, outside `#[cfg(test)]`.
    pub references: Vec<Reference>,
}

/// One path of a `use` declaration (`use a::{b, c as d}` is two).
pub struct Import {
    /// The path as written, without a trailing `self` (`use a::b::{self}` imports `a::b`).
    pub path: Vec<String>,
    /// The name it brings in.
    pub binding: Binding,
    /// Line of the `use` keyword, 1-based.
    pub line: usize,
}

/// The name a `use` path brings into its module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// The last segment, or the `as` name (`use a::b as c` binds `c`).
    Name(String),
    /// `use a::*`.
    Glob,
    /// `use a::Trait as _`.
    Anonymous,
}

/// A path of two or more segments in code (`crate::a::f()`, `super::B`, `event::Event`).
pub struct Reference {
    /// Its segments, in order (`["crate", "a", "f"]`).
    pub path: Vec<String>,
    /// Line of its first segment, 1-based.
    pub line: usize,
}

/// A file read while building the tree.
pub struct LoadedFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The whole file is test code (declared by a `#[cfg(test)] mod name;`).
    pub test_only: bool,
    /// Lines before its first `#[cfg(test)]` item ([`length::lines_before_tests`]).
    pub lines_before_tests: usize,
}

/// Why a tree could not be built.
#[derive(Debug)]
pub enum LoadError {
    /// A `mod name;` whose file is not there.
    MissingFile {
        /// The file holding the declaration.
        declared_in: PathBuf,
        /// The declared module's name.
        module: String,
        /// The candidate paths, none of which could be read.
        tried: Vec<PathBuf>,
    },
    /// A file that does not parse.
    Parse {
        /// The file.
        file: PathBuf,
        /// Line of the first error, 1-based.
        line: usize,
        /// `syn`'s message.
        message: String,
    },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::MissingFile {
                declared_in,
                module,
                tried,
            } => write!(
                f,
                "{}: `mod {module};` but none of {tried:?} exists",
                declared_in.display()
            ),
            LoadError::Parse {
                file,
                line,
                message,
            } => write!(f, "{}:{line}: does not parse: {message}", file.display()),
        }
    }
}

/// Where the items of a block being read go, and where its `mod name;` files are.
struct Place<'a> {
    module: ModuleId,
    file: &'a Path,
    /// Directory of the files of this block's `mod name;` declarations.
    child_dir: PathBuf,
    /// Directory a `#[path]` in this block is relative to.
    path_base: PathBuf,
    test_only: bool,
}

impl Tree {
    /// Reads the crate whose root file (`src/lib.rs`, `src/main.rs`, ...) is `root`.
    pub fn load(root: &Path, sources: &dyn Sources) -> Result<Tree, LoadError> {
        let mut tree = Tree {
            modules: vec![Module::new(String::new(), None, root, false)],
            files: Vec::new(),
        };
        let dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
        tree.load_file(ROOT, root, dir, false, sources)?;
        Ok(tree)
    }

    /// `a::b::c` for module `c` (`crate` for the root).
    pub fn name_of(&self, id: ModuleId) -> String {
        let mut names = Vec::new();
        let mut at = Some(id);
        while let Some(m) = at {
            if m != ROOT {
                names.push(self.modules[m].name.as_str());
            }
            at = self.modules[m].parent;
        }
        if names.is_empty() {
            return "crate".into();
        }
        names.reverse();
        names.join("::")
    }

    /// The module named by `a::b` from the root, if there is one (for tests and reports).
    pub fn find(&self, path: &str) -> Option<ModuleId> {
        path.split("::").try_fold(ROOT, |at, name| {
            self.modules[at].children.get(name).copied()
        })
    }

    fn load_file(
        &mut self,
        module: ModuleId,
        file: &Path,
        child_dir: PathBuf,
        test_only: bool,
        sources: &dyn Sources,
    ) -> Result<(), LoadError> {
        let Some(text) = sources.read(file) else {
            return Err(LoadError::MissingFile {
                declared_in: file.to_path_buf(),
                module: self.modules[module].name.clone(),
                tried: vec![file.to_path_buf()],
            });
        };
        let syntax = syn::parse_file(&text).map_err(|e| LoadError::Parse {
            file: file.to_path_buf(),
            line: e.span().start().line,
            message: e.to_string(),
        })?;
        self.files.push(LoadedFile {
            path: file.to_path_buf(),
            test_only,
            lines_before_tests: length::lines_before_tests(&text, &syntax),
        });
        let path_base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let place = Place {
            module,
            file,
            child_dir,
            path_base,
            test_only,
        };
        self.load_items(&place, &syntax.items, sources)
    }

    fn load_items(
        &mut self,
        place: &Place<'_>,
        items: &[Item],
        sources: &dyn Sources,
    ) -> Result<(), LoadError> {
        for item in items {
            let test_only = place.test_only || attrs::is_test_only(attrs::of_item(item));
            match item {
                Item::Mod(decl) => {
                    let name = decl.ident.to_string();
                    let child = self.add_module(&name, place.module, place.file, test_only);
                    let child_dir = place.child_dir.join(&name);
                    match &decl.content {
                        Some((_, inner)) => {
                            let inline = Place {
                                module: child,
                                file: place.file,
                                path_base: child_dir.clone(),
                                child_dir,
                                test_only,
                            };
                            self.load_items(&inline, inner, sources)?;
                        }
                        None => {
                            let (file, dir) =
                                module_file(place, &name, &decl.attrs, child_dir, sources)?;
                            self.modules[child].file = file.clone();
                            self.load_file(child, &file, dir, test_only, sources)?;
                        }
                    }
                }
                _ if test_only => {}
                Item::Use(decl) => self.add_imports(place.module, decl),
                _ => {
                    let module = &mut self.modules[place.module];
                    if let Some(name) = defined_name(item) {
                        module.items.insert(name);
                    }
                    References {
                        out: &mut module.references,
                    }
                    .visit_item(item);
                }
            }
        }
        Ok(())
    }

    fn add_module(
        &mut self,
        name: &str,
        parent: ModuleId,
        file: &Path,
        test_only: bool,
    ) -> ModuleId {
        let id = self.modules.len();
        self.modules
            .push(Module::new(name.to_string(), Some(parent), file, test_only));
        self.modules[parent].children.insert(name.to_string(), id);
        id
    }

    fn add_imports(&mut self, module: ModuleId, decl: &ItemUse) {
        if decl.leading_colon.is_some() {
            return; // `use ::name::..`: another crate
        }
        let line = decl.use_token.span.start().line;
        let mut paths = Vec::new();
        flatten(&decl.tree, &mut Vec::new(), &mut paths);
        for (path, binding) in paths {
            self.modules[module].imports.push(Import {
                path,
                binding,
                line,
            });
        }
    }
}

impl Module {
    fn new(name: String, parent: Option<ModuleId>, file: &Path, test_only: bool) -> Module {
        Module {
            name,
            parent,
            children: BTreeMap::new(),
            file: file.to_path_buf(),
            test_only,
            items: BTreeSet::new(),
            imports: Vec::new(),
            references: Vec::new(),
        }
    }
}

/// The file of `mod name;` and the directory of its own `mod` files: `#[path]`, else
/// `name.rs` or `name/mod.rs` in the block's directory.
fn module_file(
    place: &Place<'_>,
    name: &str,
    attrs: &[syn::Attribute],
    child_dir: PathBuf,
    sources: &dyn Sources,
) -> Result<(PathBuf, PathBuf), LoadError> {
    if let Some(path) = attrs::path_attr(attrs) {
        // A file named by `#[path]` keeps its own `mod` files beside it, as a `mod.rs` does.
        let file = place.path_base.join(path);
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        return Ok((file, dir));
    }
    let tried = vec![
        place.child_dir.join(format!("{name}.rs")),
        child_dir.join("mod.rs"),
    ];
    match tried.iter().find(|f| sources.read(f).is_some()) {
        Some(file) => Ok((file.clone(), child_dir)),
        None => Err(LoadError::MissingFile {
            declared_in: place.file.to_path_buf(),
            module: name.to_string(),
            tried,
        }),
    }
}

/// The paths of a `use` tree, each with the name it binds.
fn flatten(tree: &UseTree, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, Binding)>) {
    let mut leaf = |ident: &syn::Ident, binding: Option<String>| {
        let name = ident.to_string();
        let mut path = prefix.clone();
        if name != "self" {
            path.push(name);
        }
        let binding = match binding.or_else(|| path.last().cloned()) {
            Some(b) if b == "_" => Binding::Anonymous,
            Some(b) => Binding::Name(b),
            None => Binding::Anonymous,
        };
        out.push((path, binding));
    };
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) => leaf(&n.ident, None),
        UseTree::Rename(r) => leaf(&r.ident, Some(r.rename.to_string())),
        UseTree::Glob(_) => out.push((prefix.clone(), Binding::Glob)),
        UseTree::Group(g) => {
            for tree in &g.items {
                flatten(tree, prefix, out);
            }
        }
    }
}

/// The name an item defines in its module's namespace (modules and imports aside).
fn defined_name(item: &Item) -> Option<String> {
    let ident = match item {
        Item::Const(i) => &i.ident,
        Item::Enum(i) => &i.ident,
        Item::Fn(i) => &i.sig.ident,
        Item::Static(i) => &i.ident,
        Item::Struct(i) => &i.ident,
        Item::Trait(i) => &i.ident,
        Item::TraitAlias(i) => &i.ident,
        Item::Type(i) => &i.ident,
        Item::Union(i) => &i.ident,
        Item::Macro(i) => i.ident.as_ref()?,
        _ => return None,
    };
    let name = ident.to_string();
    (name != "_").then_some(name)
}

/// Collects the paths of two or more segments in an item's code.
struct References<'a> {
    out: &'a mut Vec<Reference>,
}

impl References<'_> {
    fn push(&mut self, path: Vec<String>, line: usize) {
        if path.len() >= 2 {
            self.out.push(Reference { path, line });
        }
    }

    /// `a::b` runs in a macro's tokens (the arguments of `format!`, `matches!`, `vec!`, ...).
    fn scan_tokens(&mut self, tokens: proc_macro2::TokenStream) {
        use proc_macro2::{Spacing, TokenTree};
        let mut run: Vec<String> = Vec::new();
        let mut line = 0;
        let mut after_colons = false;
        let mut pending_colon = false;
        for token in tokens {
            match token {
                TokenTree::Ident(ident) => {
                    if !after_colons {
                        self.push(std::mem::take(&mut run), line);
                        line = ident.span().start().line;
                    }
                    run.push(ident.to_string());
                    after_colons = false;
                    pending_colon = false;
                }
                TokenTree::Punct(p) if p.as_char() == ':' && !run.is_empty() => {
                    if pending_colon {
                        after_colons = true;
                        pending_colon = false;
                    } else if p.spacing() == Spacing::Joint {
                        pending_colon = true;
                    } else {
                        self.push(std::mem::take(&mut run), line);
                    }
                }
                TokenTree::Group(group) => {
                    self.push(std::mem::take(&mut run), line);
                    after_colons = false;
                    pending_colon = false;
                    self.scan_tokens(group.stream());
                }
                _ => {
                    self.push(std::mem::take(&mut run), line);
                    after_colons = false;
                    pending_colon = false;
                }
            }
        }
        self.push(run, line);
    }
}

impl<'ast> Visit<'ast> for References<'_> {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            if let Some(first) = path.segments.first() {
                let names = path.segments.iter().map(|s| s.ident.to_string()).collect();
                self.push(names, first.ident.span().start().line);
            }
        }
        visit::visit_path(self, path);
    }

    /// `pub(in crate::a)` names who may see an item, not what it uses.
    fn visit_vis_restricted(&mut self, _: &'ast syn::VisRestricted) {}

    fn visit_item(&mut self, item: &'ast Item) {
        if attrs::is_test_only(attrs::of_item(item)) {
            return;
        }
        match item {
            // A `use` inside a function body names what the body uses.
            Item::Use(decl) if decl.leading_colon.is_none() => {
                let mut paths = Vec::new();
                flatten(&decl.tree, &mut Vec::new(), &mut paths);
                let line = decl.use_token.span.start().line;
                for (path, _) in paths {
                    self.push(path, line);
                }
            }
            Item::Use(_) | Item::Mod(_) => {}
            _ => visit::visit_item(self, item),
        }
    }

    fn visit_impl_item(&mut self, item: &'ast ImplItem) {
        let attrs = match item {
            ImplItem::Const(i) => &i.attrs[..],
            ImplItem::Fn(i) => &i.attrs,
            ImplItem::Type(i) => &i.attrs,
            ImplItem::Macro(i) => &i.attrs,
            _ => &[],
        };
        if !attrs::is_test_only(attrs) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_trait_item(&mut self, item: &'ast TraitItem) {
        let attrs = match item {
            TraitItem::Const(i) => &i.attrs[..],
            TraitItem::Fn(i) => &i.attrs,
            TraitItem::Type(i) => &i.attrs,
            TraitItem::Macro(i) => &i.attrs,
            _ => &[],
        };
        if !attrs::is_test_only(attrs) {
            visit::visit_trait_item(self, item);
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        self.scan_tokens(mac.tokens.clone());
    }
}
