//! Import cycles between sibling modules.
//!
//! The rule: a module may use its parent's items (`super::`) and its own submodules; what must
//! run one way is the use between *sibling subtrees*. Every use from module `m` of module `t`
//! (neither inside the other) becomes an edge between the two children of their lowest common
//! ancestor that contain `m` and `t`: `session::restore` using `persist::Held` is the edge
//! `session -> persist`. A cycle is a closed path of such edges among the children of one module.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::tree::{ModuleId, Tree};

/// Where one use behind an edge is written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Site {
    /// The file holding the use (made relative to the workspace root in the audit's findings).
    pub file: PathBuf,
    /// Its line, 1-based.
    pub line: usize,
}

/// One cycle: `modules[0] -> modules[1] -> .. -> modules[0]`, starting at the smallest name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// Module paths in the crate (`cli::connect`).
    pub modules: Vec<String>,
    /// `sites[i]`: one use behind the edge `modules[i] -> modules[i + 1]` (wrapping round).
    pub sites: Vec<Site>,
}

impl Cycle {
    /// `a -> b -> a`.
    pub fn path(&self) -> String {
        let mut names = self.modules.clone();
        names.extend(self.modules.first().cloned());
        names.join(" -> ")
    }
}

/// Edges between siblings: `(from, to)` -> the first use found behind it.
type Edges = BTreeMap<(ModuleId, ModuleId), Site>;

/// At most this many cycles are listed per crate (the rest would say nothing new).
const MAX_CYCLES: usize = 1_000;

/// Every elementary cycle between sibling modules of `tree`, sorted by their text.
pub fn find(tree: &Tree) -> Vec<Cycle> {
    let edges = sibling_edges(tree);
    let mut by_parent: BTreeMap<Option<ModuleId>, Vec<ModuleId>> = BTreeMap::new();
    for &(from, _) in edges.keys() {
        by_parent
            .entry(tree.modules[from].parent)
            .or_default()
            .push(from);
    }
    let mut cycles = Vec::new();
    for mut nodes in by_parent.into_values() {
        nodes.sort_by_key(|&m| tree.name_of(m));
        nodes.dedup();
        for (i, &start) in nodes.iter().enumerate() {
            let allowed = &nodes[i..];
            let mut stack = vec![start];
            walk(tree, &edges, allowed, &mut stack, &mut cycles);
            if cycles.len() >= MAX_CYCLES {
                break;
            }
        }
    }
    let mut cycles: Vec<Cycle> = cycles;
    cycles.sort_by_key(Cycle::path);
    cycles
}

/// Depth-first search for cycles back to `stack[0]` through nodes of `allowed` (the start and
/// the nodes after it in name order, so each cycle is found once, from its smallest name).
fn walk(
    tree: &Tree,
    edges: &Edges,
    allowed: &[ModuleId],
    stack: &mut Vec<ModuleId>,
    out: &mut Vec<Cycle>,
) {
    let Some(&here) = stack.last() else { return };
    let start = stack[0];
    for (&(_, next), _) in edges.range((here, 0)..=(here, usize::MAX)) {
        if out.len() >= MAX_CYCLES {
            return;
        }
        if next == start {
            let modules: Vec<ModuleId> = stack.clone();
            let sites = modules
                .iter()
                .zip(modules.iter().skip(1).chain([&start]))
                .filter_map(|(&a, &b)| edges.get(&(a, b)).cloned())
                .collect();
            out.push(Cycle {
                modules: modules.iter().map(|&m| tree.name_of(m)).collect(),
                sites,
            });
        } else if allowed.contains(&next) && !stack.contains(&next) {
            stack.push(next);
            walk(tree, edges, allowed, stack, out);
            stack.pop();
        }
    }
}

/// Every use in non-test code, collapsed to the edge between siblings it implies.
fn sibling_edges(tree: &Tree) -> Edges {
    let mut edges = Edges::new();
    for (from, module) in tree.modules.iter().enumerate() {
        if module.test_only {
            continue;
        }
        let paths = module
            .imports
            .iter()
            .map(|i| (&i.path, i.line))
            .chain(module.references.iter().map(|r| (&r.path, r.line)));
        for (path, line) in paths {
            let Some(target) = tree.resolve(from, path) else {
                continue;
            };
            let Some((a, b)) = siblings(tree, from, target.module) else {
                continue;
            };
            let site = Site {
                file: module.file.clone(),
                line,
            };
            edges
                .entry((a, b))
                .and_modify(|s| *s = std::cmp::min(s.clone(), site.clone()))
                .or_insert(site);
        }
    }
    edges
}

/// The children of the lowest common ancestor of `a` and `b` that hold `a` and `b`; `None` when
/// one is inside the other (or they are the same).
fn siblings(tree: &Tree, a: ModuleId, b: ModuleId) -> Option<(ModuleId, ModuleId)> {
    let line_a = ancestry(tree, a);
    let line_b = ancestry(tree, b);
    let common = line_a
        .iter()
        .zip(&line_b)
        .take_while(|(x, y)| x == y)
        .count();
    Some((*line_a.get(common)?, *line_b.get(common)?))
}

/// Root first, `m` last.
fn ancestry(tree: &Tree, m: ModuleId) -> Vec<ModuleId> {
    let mut line = vec![m];
    while let Some(parent) = line.last().and_then(|&x| tree.modules[x].parent) {
        line.push(parent);
    }
    line.reverse();
    line
}
