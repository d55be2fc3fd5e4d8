//! Which module a path names, as rustc's name resolution would find it inside one crate:
//! `crate::`, `self::`, `super::`, child modules, and names brought in by `use` (renamed,
//! re-exported, or through a glob). A path into another crate resolves to nothing.

use super::tree::{Binding, ModuleId, Tree, ROOT};

/// How far re-exports are followed (`a` re-exports from `b`, which re-exports from `c`...).
const MAX_HOPS: usize = 16;

/// Where a path leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// The deepest module on the path: the module named, or the one defining the item named.
    pub module: ModuleId,
    /// The path names the module itself (not an item in it).
    pub is_module: bool,
}

impl Tree {
    /// The module `path`, written in module `from`, leads to.
    pub fn resolve(&self, from: ModuleId, path: &[String]) -> Option<Resolved> {
        self.resolve_hops(from, path, 0)
    }

    fn resolve_hops(&self, from: ModuleId, path: &[String], hops: usize) -> Option<Resolved> {
        if hops > MAX_HOPS {
            return None;
        }
        let (first, rest) = path.split_first()?;
        let mut at = match first.as_str() {
            "crate" => ROOT,
            "self" => from,
            "super" => self.modules[from].parent?,
            name => match self.modules[from].children.get(name) {
                Some(&child) => child,
                None => {
                    let found = self.binding(from, name, hops + 1)?;
                    if !found.is_module {
                        return Some(found);
                    }
                    found.module
                }
            },
        };
        for name in rest {
            let module = &self.modules[at];
            if name == "super" {
                at = module.parent?;
            } else if name == "self" {
            } else if let Some(&child) = module.children.get(name.as_str()) {
                at = child;
            } else if module.items.contains(name.as_str()) {
                return Some(Resolved {
                    module: at,
                    is_module: false,
                });
            } else {
                match self.binding(at, name, hops + 1) {
                    Some(found) if found.is_module => at = found.module,
                    Some(found) => return Some(found),
                    // Defined here in a way the tree does not list (a macro's output, an
                    // enum variant through a glob...): the path still goes through `at`.
                    None => {
                        return Some(Resolved {
                            module: at,
                            is_module: false,
                        })
                    }
                }
            }
        }
        Some(Resolved {
            module: at,
            is_module: true,
        })
    }

    /// What `name`, brought into `module` by a `use`, resolves to.
    fn binding(&self, module: ModuleId, name: &str, hops: usize) -> Option<Resolved> {
        let imports = &self.modules[module].imports;
        let named = imports
            .iter()
            .find(|i| matches!(&i.binding, Binding::Name(n) if n == name));
        if let Some(import) = named {
            return self.resolve_hops(module, &import.path, hops);
        }
        imports
            .iter()
            .filter(|i| i.binding == Binding::Glob)
            .filter_map(|glob| self.resolve_hops(module, &glob.path, hops))
            .filter(|source| source.is_module && source.module != module)
            .find_map(|source| {
                let m = &self.modules[source.module];
                if let Some(&child) = m.children.get(name) {
                    Some(Resolved {
                        module: child,
                        is_module: true,
                    })
                } else if m.items.contains(name) {
                    Some(Resolved {
                        module: source.module,
                        is_module: false,
                    })
                } else {
                    self.binding(source.module, name, hops + 1)
                }
            })
    }
}
