//! The analyser on small crates held in memory.

use super::cycles;
use super::length;
use super::ratchet::Ratchet;
use super::source::Memory;
use super::tree::{LoadError, Tree};

fn tree(files: &[(&str, &str)]) -> Tree {
    match Tree::load("src/lib.rs".as_ref(), &Memory::of(files)) {
        Ok(tree) => tree,
        Err(e) => panic!("{e}"),
    }
}

fn cycle_paths(files: &[(&str, &str)]) -> Vec<String> {
    cycles::find(&tree(files))
        .iter()
        .map(cycles::Cycle::path)
        .collect()
}

#[test]
fn two_siblings_using_each_other_are_a_cycle_with_one_site_per_edge() {
    let files = [
        ("src/lib.rs", "mod a;\nmod b;\n"),
        ("src/a.rs", "use crate::b::B;\npub struct A;\n"),
        (
            "src/b.rs",
            "pub struct B;\n\nfn make() -> crate::a::A {\n    crate::a::A\n}\n",
        ),
    ];
    let found = cycles::find(&tree(&files));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path(), "a -> b -> a");
    let sites: Vec<String> = found[0]
        .sites
        .iter()
        .map(|s| format!("{}:{}", s.file.display(), s.line))
        .collect();
    assert_eq!(sites, ["src/a.rs:1", "src/b.rs:3"]);
}

#[test]
fn a_child_using_its_parent_and_a_parent_using_its_child_are_no_cycle() {
    let files = [
        ("src/lib.rs", "mod a;\npub struct Root;\n"),
        (
            "src/a/mod.rs",
            "mod c;\nuse self::c::C;\nuse crate::Root;\npub struct A;\n",
        ),
        (
            "src/a/c.rs",
            "use super::A;\npub struct C;\nfn f() { super::super::Root; }\n",
        ),
    ];
    assert!(cycle_paths(&files).is_empty());
}

#[test]
fn uses_from_submodules_collapse_onto_the_siblings_that_hold_them() {
    let files = [
        ("src/lib.rs", "mod persist;\nmod session;\n"),
        ("src/session/mod.rs", "mod restore;\npub struct Session;\n"),
        (
            "src/session/restore.rs",
            "fn restore(_: &crate::persist::Held) {}\n",
        ),
        (
            "src/persist.rs",
            "use crate::session::Session;\npub struct Held;\n",
        ),
    ];
    let found = cycles::find(&tree(&files));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path(), "persist -> session -> persist");
    assert_eq!(
        found[0].sites[1].file.to_str(),
        Some("src/session/restore.rs")
    );
}

#[test]
fn a_re_export_leads_to_the_module_that_defines_the_item() {
    // `b` names `crate::A`, which the root re-exports from `a`: that is a use of `a`.
    let files = [
        ("src/lib.rs", "mod a;\nmod b;\npub use a::A;\n"),
        ("src/a.rs", "pub struct A;\nfn f() { crate::b::g() }\n"),
        ("src/b.rs", "pub fn g() {}\nfn h(_: crate::A) {}\n"),
    ];
    assert_eq!(cycle_paths(&files), ["a -> b -> a"]);
}

#[test]
fn an_imported_module_name_then_a_path_through_it_counts() {
    let files = [
        ("src/lib.rs", "mod a;\nmod b;\n"),
        ("src/a.rs", "use crate::b;\npub fn f() { b::g(); }\n"),
        (
            "src/b.rs",
            "pub fn g() { let _ = format!(\"{:?}\", crate::a::f()); }\n",
        ),
    ];
    // The second edge is only in a macro's arguments.
    assert_eq!(cycle_paths(&files), ["a -> b -> a"]);
}

#[test]
fn test_code_does_not_make_a_cycle() {
    let files = [
        ("src/lib.rs", "mod a;\nmod b;\n#[cfg(test)]\nmod tests;\n"),
        ("src/a.rs", "use crate::b::B;\npub struct A;\n"),
        (
            "src/b.rs",
            "pub struct B;\n#[cfg(test)]\nfn fixture() -> crate::a::A { crate::a::A }\n\
             #[cfg(test)]\nmod tests {\n    use crate::a::A;\n}\n",
        ),
        ("src/tests.rs", "use crate::a::A;\n"),
    ];
    let tree = tree(&files);
    assert!(cycles::find(&tree).is_empty());
    let tests_file = tree.files.iter().find(|f| f.path.ends_with("tests.rs"));
    assert!(tests_file.is_some_and(|f| f.test_only));
}

#[test]
fn inline_modules_and_three_way_cycles() {
    let files = [(
        "src/lib.rs",
        "mod outer {\n\
             pub mod x { pub fn f() { super::y::g() } }\n\
             pub mod y { pub fn g() { super::z::h() } }\n\
             pub mod z { pub fn h() { crate::outer::x::f() } }\n\
         }\n",
    )];
    assert_eq!(
        cycle_paths(&files),
        ["outer::x -> outer::y -> outer::z -> outer::x"]
    );
}

#[test]
fn glob_imports_and_path_attributes_are_followed() {
    let files = [
        (
            "src/lib.rs",
            "#[path = \"elsewhere/alpha.rs\"]\nmod a;\nmod b;\n",
        ),
        (
            "src/elsewhere/alpha.rs",
            "use crate::b::*;\npub struct A;\n",
        ),
        (
            "src/b.rs",
            "pub struct B;\nimpl From<crate::a::A> for B { fn from(_: crate::a::A) -> B { B } }\n",
        ),
    ];
    assert_eq!(cycle_paths(&files), ["a -> b -> a"]);
}

#[test]
fn paths_into_other_crates_and_visibility_are_not_uses() {
    let files = [
        ("src/lib.rs", "mod a;\nmod b;\n"),
        (
            "src/a.rs",
            "use std::fmt;\npub(in crate::a) struct A;\npub(crate) fn f() -> fmt::Result { Ok(()) }\n",
        ),
        ("src/b.rs", "use crate::a::f;\n"),
    ];
    assert!(cycle_paths(&files).is_empty());
}

#[test]
fn a_missing_module_file_is_an_error() {
    let files = [("src/lib.rs", "mod gone;\n")];
    let result = Tree::load("src/lib.rs".as_ref(), &Memory::of(&files));
    assert!(matches!(result, Err(LoadError::MissingFile { .. })));
}

fn lines(text: &str) -> usize {
    match syn::parse_file(text) {
        Ok(syntax) => length::lines_before_tests(text, &syntax),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_file_counts_up_to_its_first_test_item() {
    let code = "fn a() {}\n".repeat(700);
    assert_eq!(lines(&code), 700, "no tests: the whole file");
    let with_tests = format!("{code}#[cfg(test)]\nmod tests {{\n    fn t() {{}}\n}}\n");
    assert_eq!(lines(&with_tests), 700);
    let documented = format!("{code}/// The tests.\n#[cfg(test)]\nmod tests {{}}\n");
    assert_eq!(
        lines(&documented),
        700,
        "the doc comment belongs to the test item"
    );
    let short = "fn a() {}\n#[cfg(all(test, feature = \"x\"))]\nmod tests {}\nfn b() {}\n";
    assert_eq!(lines(short), 1);
    let not_test = "fn a() {}\n#[cfg(not(test))]\nfn b() {}\n";
    assert_eq!(lines(not_test), 3);
}

#[test]
fn the_ratchet_reports_new_and_stale_entries() {
    let found = ["a", "b"];
    assert!(Ratchet::compare(found, ["a", "b"]).holds());
    let r = Ratchet::compare(found, ["a", "c"]);
    assert_eq!(r.new, ["b"]);
    assert_eq!(r.stale, ["c"]);
}
