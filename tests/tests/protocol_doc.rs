//! `docs/protocol.md` names every code the device protocol can carry.
//!
//! The codes are read from the sources, not listed here, so a code added
//! to the server or to core's sync fails this test until the document
//! explains it: the string literals of every `fn code` (the error enums'
//! stable codes), the constants of every `mod codes` and every
//! `REFUSED_*` constant, and the literals passed straight to `refuse(` or
//! written as `code: "…"`. Test modules are left out. The other way
//! round, every code in a table of the document's section 11 must still
//! exist in the sources, so a removed code leaves the document too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The sources of the device protocol: core's documents and sync, and the
/// server's errors, device API, sync and access rules (not the console's).
const SOURCES: &[&str] = &[
    "core/src/doc.rs",
    "core/src/sync",
    "sync-server/src/error.rs",
    "sync-server/src/blobs.rs",
    "sync-server/src/access.rs",
    "sync-server/src/api/refusals.rs",
    "sync-server/src/api/v1",
    "sync-server/src/sync",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .expect("a source folder")
            .map(|e| e.expect("a folder entry").path())
            .collect();
        entries.sort();
        for entry in entries {
            rust_files(&entry, out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// A code: lower-case words joined by underscores.
fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The string literals in `text`.
fn literals(text: &str) -> Vec<&str> {
    text.split('"')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s)
        .collect()
}

/// The text from `start` (at an opening brace or before one) to its
/// matching closing brace.
fn braced(text: &str, start: usize) -> &str {
    let Some(open) = text[start..].find('{').map(|i| start + i) else {
        return "";
    };
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[open..open + i];
                }
            }
            _ => {}
        }
    }
    &text[open..]
}

/// The literal right after `at` (whitespace skipped), if one starts there.
fn literal_after(text: &str, at: usize) -> Option<&str> {
    let rest = text[at..].trim_start();
    let rest = rest.strip_prefix('"')?;
    rest.split('"').next()
}

/// Every code one source file defines.
fn codes_in(source: &str, out: &mut BTreeSet<String>) {
    // Tests use made-up codes.
    let source = source.split("#[cfg(test)]").next().unwrap_or_default();
    let mut add = |s: &str| {
        if is_code(s) {
            out.insert(s.to_string());
        }
    };
    for (at, _) in source.match_indices("fn code(") {
        literals(braced(source, at)).into_iter().for_each(&mut add);
    }
    for (at, _) in source.match_indices("mod codes") {
        literals(braced(source, at)).into_iter().for_each(&mut add);
    }
    for line in source.lines() {
        let line = line.trim();
        if let Some(rest) = line
            .strip_prefix("pub const REFUSED_")
            .or_else(|| line.strip_prefix("const REFUSED_"))
        {
            literals(rest).into_iter().for_each(&mut add);
        }
    }
    for pattern in ["refuse(", "code: "] {
        for (at, _) in source.match_indices(pattern) {
            if let Some(s) = literal_after(source, at + pattern.len()) {
                add(s);
            }
        }
    }
}

fn source_codes() -> BTreeSet<String> {
    let root = root();
    let mut files = Vec::new();
    for source in SOURCES {
        rust_files(&root.join(source), &mut files);
    }
    let mut codes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a source file");
        codes_in(&text, &mut codes);
    }
    codes
}

fn protocol_doc() -> String {
    std::fs::read_to_string(root().join("docs/protocol.md")).expect("docs/protocol.md")
}

/// The codes in the first column of section 11's tables.
fn documented_codes(doc: &str) -> BTreeSet<String> {
    let section = doc
        .split("## 11.")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("docs/protocol.md has a section 11");
    section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn protocol_doc_lists_every_code() {
    let codes = source_codes();
    // The scan itself works: codes of each kind are found.
    for known in [
        "bad_magic",
        "unauthenticated",
        "outside_scope",
        "actor_mismatch",
        "record_created_twice",
        "doc_wrong_kind",
        "blob_forbidden",
        "method_not_allowed",
        "http_error",
    ] {
        assert!(codes.contains(known), "the scan missed {known}: {codes:?}");
    }
    let doc = protocol_doc();
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| !doc.contains(&format!("`{c}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/protocol.md does not explain these codes (write each as `code`, section 11): {missing:?}"
    );
}

#[test]
fn protocol_doc_lists_no_code_that_is_gone() {
    let codes = source_codes();
    let documented = documented_codes(&protocol_doc());
    assert!(documented.len() > 40, "{documented:?}");
    let gone: Vec<&String> = documented.difference(&codes).collect();
    assert!(
        gone.is_empty(),
        "docs/protocol.md's section 11 lists codes the sources no longer have: {gone:?}"
    );
}

/// The keys of the `rejections: { … }` table in one of the UI's message
/// files.
fn rejection_messages(file: &str) -> BTreeSet<String> {
    table_keys(file, "rejections: {")
}

/// The keys of the table that starts with `opening` in one of the UI's
/// message files.
fn table_keys(file: &str, opening: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join(file)).expect("a message file");
    let at = text
        .find(opening)
        .unwrap_or_else(|| panic!("{file} has no `{opening}`"));
    braced(&text, at)
        .lines()
        .filter_map(|line| line.trim().split_once(':'))
        .map(|(key, _)| key.trim().to_string())
        .filter(|key| is_code(key))
        .collect()
}

/// The tablet says why the server refused a record in the worker's own
/// words: every rejection code core defines (the server sends no other)
/// has a sentence in both of the UI's languages (the type check holds the
/// same through `satisfies Record<RejectionCode, …>`), and section 11 of
/// the protocol document explains it.
#[test]
fn every_rejection_code_has_a_message_in_both_languages() {
    use gridwork_core::sync::wire::RejectionCode;
    let codes: BTreeSet<String> = RejectionCode::ALL
        .iter()
        .map(|c| c.code().to_string())
        .collect();
    assert!(
        codes.contains("invalid_record") && codes.contains("actor_mismatch"),
        "{codes:?}"
    );
    let documented = documented_codes(&protocol_doc());
    for file in ["ui/src/i18n/zh-CN.ts", "ui/src/i18n/en.ts"] {
        let messages = rejection_messages(file);
        let missing: Vec<_> = codes.difference(&messages).collect();
        assert!(
            missing.is_empty(),
            "{file} has no rejection message for {missing:?}"
        );
        assert!(messages.contains("other"), "{file}: a line for newer codes");
    }
    let undocumented: Vec<_> = codes.difference(&documented).collect();
    assert!(undocumented.is_empty(), "section 11 lacks {undocumented:?}");
}

/// The tablet says what the server did about a stored change in the
/// worker's own language: every notice code core defines has a line in
/// both message files (the type check holds the same through
/// `satisfies Record<NoticeCode, …>`; this holds it for a reader of the
/// files, and for the protocol document's codes).
#[test]
fn every_notice_code_has_a_message_in_both_languages() {
    use gridwork_core::sync::wire::NoticeCode;
    let codes: BTreeSet<String> = NoticeCode::ALL
        .iter()
        .map(|c| c.code().to_string())
        .collect();
    assert!(codes.contains("transition_refused"), "{codes:?}");
    let documented = documented_codes(&protocol_doc());
    for file in ["ui/src/i18n/zh-CN.ts", "ui/src/i18n/en.ts"] {
        let messages = table_keys(file, "notices: {");
        let missing: Vec<_> = codes.difference(&messages).collect();
        assert!(
            missing.is_empty(),
            "{file} has no notice message for {missing:?}"
        );
        assert!(messages.contains("other"), "{file}: a line for newer codes");
    }
    let undocumented: Vec<_> = codes.difference(&documented).collect();
    assert!(undocumented.is_empty(), "section 11 lacks {undocumented:?}");
}

#[test]
fn the_scan_finds_each_way_a_code_is_written() {
    let source = r#"
        impl E { pub fn code(&self) -> &'static str { match self { E::A => "alpha_one", E::B(e) => e.code() } } }
        pub mod codes { pub const X: &str = "from_codes"; }
        pub const REFUSED_Y: &str = "refused_const";
        const LATEST_WINS: &str = "not_a_code_but_a_field";
        fn f() { refuse(
            "passed_literal", m); Rejection { code: "struct_field".into() }; }
        #[cfg(test)]
        mod tests { fn code(&self) -> &str { "test_only" } }
    "#;
    let mut codes = BTreeSet::new();
    codes_in(source, &mut codes);
    let want: BTreeSet<String> = [
        "alpha_one",
        "from_codes",
        "refused_const",
        "passed_literal",
        "struct_field",
    ]
    .map(String::from)
    .into();
    assert_eq!(codes, want);
}
