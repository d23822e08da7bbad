//! A test that keeps the crate's top-level modules free of cycles.
//!
//! The modules are layered (`storage` at the bottom, `auth` and `index`
//! over it, `access` over those, `blob_grants`, `admin`, `sync`, `console`
//! and `api` over them); a `use crate::x` that points back up a layer ties
//! two modules so neither can be read or changed alone. This reads the
//! sources (`crate::x` paths outside comments and test code) and fails
//! naming the cycle and the files that make it. Test code may reach across
//! freely: it is not part of the layering.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level module → modules it names → files that name them.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source the layering counts: no comment lines, nothing from the
/// first `#[cfg(test)]` on.
fn counted(src: &str) -> String {
    let code: Vec<&str> = src
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect();
    let code = code.join("\n");
    match code.find("#[cfg(test)]") {
        Some(at) => code[..at].to_string(),
        None => code,
    }
}

/// The first segment of each `crate::` path in `code`, including each
/// member of a `crate::{a, b::c}` group.
fn named_modules(code: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.push(ident(&group[start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(ident(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(rest));
        }
    }
    out
}

fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let top = |p: &Path| -> (String, String) {
        let rel = p.strip_prefix(src).expect("under src");
        let first = rel.components().next().expect("a component");
        let name = first.as_os_str().to_string_lossy();
        (
            name.trim_end_matches(".rs").to_string(),
            rel.to_string_lossy().into_owned(),
        )
    };
    let modules: BTreeSet<String> = files.iter().map(|p| top(p).0).collect();
    let mut graph = Graph::new();
    for path in &files {
        let (module, rel) = top(path);
        let is_test_file = path
            .components()
            .any(|c| c.as_os_str() == "tests" || c.as_os_str() == "tests.rs");
        if matches!(module.as_str(), "lib" | "main" | "module_graph") || is_test_file {
            continue;
        }
        let src = std::fs::read_to_string(path).expect("read source");
        for named in named_modules(&counted(&src)) {
            if named != module && modules.contains(&named) && named != "lib" {
                graph
                    .entry(module.clone())
                    .or_default()
                    .entry(named)
                    .or_default()
                    .insert(rel.clone());
            }
        }
    }
    graph
}

/// One cycle in `graph`, as the modules along it, if there is any.
fn a_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        graph: &Graph,
        at: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(from) = path.iter().position(|m| m == at) {
            let mut cycle = path[from..].to_vec();
            cycle.push(at.to_string());
            return Some(cycle);
        }
        if done.contains(at) {
            return None;
        }
        path.push(at.to_string());
        for next in graph.get(at).into_iter().flat_map(|n| n.keys()) {
            if let Some(cycle) = visit(graph, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(at.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(graph, m, &mut Vec::new(), &mut done))
}

#[test]
fn the_top_level_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph(&src);
    assert!(
        graph.contains_key("access"),
        "the graph was read: {graph:?}"
    );
    if let Some(cycle) = a_cycle(&graph) {
        let edges: Vec<String> = cycle
            .windows(2)
            .map(|w| format!("{} → {} in {:?}", w[0], w[1], graph[&w[0]][&w[1]]))
            .collect();
        panic!("module cycle {}:\n{}", cycle.join(" → "), edges.join("\n"));
    }
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let mut graph = Graph::new();
    let edge = |g: &mut Graph, a: &str, b: &str| {
        g.entry(a.into())
            .or_default()
            .entry(b.into())
            .or_default()
            .insert(format!("{a}.rs"));
    };
    edge(&mut graph, "access", "auth");
    edge(&mut graph, "admin", "blob_grants");
    assert_eq!(a_cycle(&graph), None);
    edge(&mut graph, "blob_grants", "access");
    edge(&mut graph, "access", "admin");
    let cycle = a_cycle(&graph).expect("a cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4, "{cycle:?}");
}

#[test]
fn grouped_and_plain_paths_are_both_read() {
    let code = "use crate::{access::{self, Channel}, auth::Session};\nlet x = crate::storage::f();";
    assert_eq!(named_modules(code), ["access", "auth", "storage"]);
    assert_eq!(
        named_modules(&counted(
            "// crate::console\nuse crate::index;\n#[cfg(test)]\nuse crate::admin;"
        )),
        ["index"]
    );
}
