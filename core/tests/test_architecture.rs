//! The layers of `core/src` stay one-way: each top-level module (a file or a folder of
//! `src/`) may use only the modules of the layers below it, never one above. Read from
//! the `crate::` paths of every source file (comments left out), so a new dependency
//! that points up fails here, with the file that made it. `docs/architecture.md` says
//! what each layer is for.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may use the modules listed before it.
const LAYERS: &[&str] = &[
    "error",      // the error type every layer returns
    "runtime",    // the process's tokio runtime, rebuilt after a fork
    "command",    // the command table
    "settings",   // configuration, TLS, cache and guard settings
    "observe",    // counters and connection events
    "wire",       // RESP reader, pipelines in chunks, SCAN cursor, glob
    "policy",     // admission, guard, timeouts, retries, the direct-path decision
    "cache",      // the client-side cache
    "connection", // multiplexed, direct and pooled connections
    "cluster",    // cluster routing, slot table, per-node caches
    "sentinel",   // which node a Sentinel-watched service is served by now
    "client",     // the engines: async, sync, batched, leases, scans
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The source without comments (`//` to the end of the line, `/* … */`).
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first path segment after each `crate::`, including each item of `crate::{a, b}`
/// (which may span lines), with its line number.
fn crate_refs(code: &str) -> Vec<(usize, String)> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::") {
        let at = from + at;
        from = at + "crate::".len();
        if code[..at].ends_with('$') {
            continue; // `$crate::` in a macro names items, not modules
        }
        let line = code[..at].matches('\n').count() + 1;
        let rest = &code[from..];
        let Some(group) = rest.strip_prefix('{') else {
            found.push((line, ident(rest)));
            continue;
        };
        // `crate::{a::{b, c}, d}`: the first segment of each item at depth 1.
        let mut depth = 1;
        let mut item_start = 0;
        for (i, ch) in group.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' | ',' if depth == 1 => {
                    found.push((line, ident(&group[item_start..i])));
                    item_start = i + 1;
                    if ch == '}' {
                        break;
                    }
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules of `src/`: its files (but `lib.rs`) and its folders.
fn top_level_modules() -> BTreeSet<String> {
    std::fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_string();
            (p.is_dir() || (p.extension().is_some_and(|e| e == "rs") && name != "lib"))
                .then_some(name)
        })
        .collect()
}

#[test]
fn every_module_has_a_layer() {
    let listed: BTreeSet<String> = LAYERS.iter().map(|s| s.to_string()).collect();
    let present = top_level_modules();
    let unplaced: Vec<_> = present.difference(&listed).collect();
    assert!(
        unplaced.is_empty(),
        "top-level modules with no layer: {unplaced:?}; add them to LAYERS in \
         tests/test_architecture.rs and docs/architecture.md"
    );
    let gone: Vec<_> = listed.difference(&present).collect();
    assert!(
        gone.is_empty(),
        "LAYERS names modules that do not exist: {gone:?}"
    );
}

#[test]
fn no_layer_uses_a_higher_one() {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut wrong = Vec::new();
    let mut edges = 0;
    for file in &files {
        let rel = file.strip_prefix(src()).unwrap();
        let top = match rel.components().count() {
            1 => rel.file_stem().unwrap().to_str().unwrap().to_string(),
            _ => rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_str()
                .unwrap()
                .to_string(),
        };
        let Some(own) = rank(&top) else {
            continue; // lib.rs: the root lists and re-exports every layer
        };
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        for (line, used) in crate_refs(&code) {
            let Some(theirs) = rank(&used) else {
                continue; // an item re-exported at the root (`crate::Error`), not a module
            };
            edges += 1;
            if theirs > own {
                wrong.push(format!(
                    "{}:{line}: {top} (layer {own}) uses {used} (layer {theirs})",
                    rel.display()
                ));
            }
        }
    }
    assert!(
        edges > 50,
        "the test read too few crate:: paths ({edges}): is it still reading src/?"
    );
    assert!(
        wrong.is_empty(),
        "a lower layer uses a higher one:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_reader_finds_paths_and_skips_comments() {
    let code = code_of("use crate::{\n    wire::{self, Pipeline},\n    policy,\n};\n// crate::client\n/* crate::cluster */ let x = crate::cache::Cache::new(c); $crate::Command");
    let names: Vec<String> = crate_refs(&code).into_iter().map(|(_, n)| n).collect();
    assert!(names.contains(&"wire".to_string()), "{names:?}");
    assert!(names.contains(&"policy".to_string()), "{names:?}");
    assert!(names.contains(&"cache".to_string()), "{names:?}");
    assert!(!names.contains(&"client".to_string()), "{names:?}");
    assert!(!names.contains(&"cluster".to_string()), "{names:?}");
    assert!(!names.contains(&"Command".to_string()), "{names:?}");
}
