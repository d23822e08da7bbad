//! TypeScript declarations of the types the UIs receive, generated from the
//! Rust types with [`ts_rs`].
//!
//! Why ts-rs and not tauri-specta: the same types reach two front ends, the
//! tablet app over Tauri IPC and the supervision console over HTTP (axum),
//! and ts-rs is a stable release that derives declarations for both without
//! tying the HTTP side to Tauri; tauri-specta 2 (and specta 2, which it
//! needs) are still release candidates whose API changes between them. ts-rs
//! writes no command wrappers; the app's list of commands
//! (`src-tauri/src/command_list.rs`) renders a `Commands` map of names to
//! argument and result types instead, and `ui/src/backend.ts` builds its
//! methods from it.
//!
//! Three files, each type declared once: core's types (the records, the
//! workflow, what both UIs receive) in `ui/src/bindings/model.ts`
//! ([`model`], rendered by this crate's test), the app's commands in
//! `ui/src/bindings/app.ts` and the console API's answers in
//! `ui/src/bindings/console.ts`. [`Bindings`] gathers the declarations of
//! some root types and of every type they reach, sorted by name so the
//! output is stable; [`Bindings::render_with`] leaves out what the model
//! file declares and imports it from there instead, and refuses a core
//! type the model file lacks (add it to [`model`]'s roots). The crates that
//! own the roots compare the committed file with a fresh rendering in a
//! unit test (see `src-tauri/src/bindings.rs`), which is how CI knows the
//! files are current; generation never runs when the app or the server
//! starts.

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};

use ts_rs::{Config, TS, TypeVisitor};

/// A set of TypeScript declarations, rendered as one module.
#[allow(missing_debug_implementations)]
pub struct Bindings {
    cfg: Config,
    seen: HashSet<TypeId>,
    /// Name → (declaration, Rust path of the type it declares).
    decls: BTreeMap<String, (String, &'static str)>,
    /// Plain TypeScript appended after the declarations (constants).
    tail: Vec<String>,
}

impl Default for Bindings {
    fn default() -> Self {
        Self::new()
    }
}

impl Bindings {
    /// An empty set. 64-bit integers become `number`: the values that cross
    /// (Unix milliseconds, counts, sizes) stay far below 2^53.
    pub fn new() -> Self {
        Self {
            cfg: Config::new().with_large_int("number"),
            seen: HashSet::new(),
            decls: BTreeMap::new(),
            tail: Vec::new(),
        }
    }

    /// Adds `T`'s declaration and those of every type it reaches.
    pub fn add<T: TS + ?Sized + 'static>(&mut self) -> &mut Self {
        if !self.seen.insert(TypeId::of::<T>()) {
            return self;
        }
        if T::output_path().is_some() {
            let mut decl = T::docs().unwrap_or_default();
            decl.push_str("export ");
            decl.push_str(&T::decl(&self.cfg));
            decl.push('\n');
            self.decls
                .insert(T::ident(&self.cfg), (decl, std::any::type_name::<T>()));
        }
        struct Deps<'a>(&'a mut Bindings);
        impl TypeVisitor for Deps<'_> {
            fn visit<D: TS + 'static + ?Sized>(&mut self) {
                if D::output_path().is_some() {
                    self.0.add::<D>();
                }
            }
        }
        T::visit_dependencies(&mut Deps(self));
        // `Vec<Conflict>` reaches `Conflict` as a generic, not a dependency.
        T::visit_generics(&mut Deps(self));
        self
    }

    /// Adds a hand-written declaration (e.g. a list of codes as a union).
    pub fn add_decl(&mut self, name: &str, decl: String) -> &mut Self {
        self.decls.insert(name.to_string(), (decl, ""));
        self
    }

    /// The TypeScript name of `T` (`Array<Projection>`, `string | null`),
    /// adding the declarations it needs.
    pub fn name_of<T: TS + ?Sized + 'static>(&mut self) -> String {
        self.add::<T>();
        T::name(&self.cfg)
    }

    /// Appends plain TypeScript after the declarations (a constant the Rust
    /// side defines, such as a header name).
    pub fn add_tail(&mut self, code: String) -> &mut Self {
        self.tail.push(code);
        self
    }

    /// A string constant, `export const NAME = 'value'`, with its doc.
    pub fn add_const(&mut self, doc: &str, name: &str, value: &str) -> &mut Self {
        self.add_tail(format!("/** {doc} */\nexport const {name} = {value:?}\n"))
    }

    /// The module: a header saying how to regenerate it, then every
    /// declaration in name order.
    pub fn render(&self, regenerate: &str) -> String {
        let mut out = header(regenerate);
        self.push_body(&mut out, |_| true);
        out
    }

    /// The module as [`Bindings::render`] writes it, except that every
    /// declaration `model` holds word for word is imported from `from`
    /// instead of declared again.
    ///
    /// # Errors
    /// When a type of this crate (`gridwork_core::…`) is reached but
    /// `model` does not declare it: the two UIs would each get a copy.
    pub fn render_with(
        &self,
        regenerate: &str,
        model: &Bindings,
        from: &str,
    ) -> Result<String, String> {
        let shared = |name: &str, decl: &str| model.decls.get(name).is_some_and(|(d, _)| d == decl);
        let mut imported = Vec::new();
        let mut missing = Vec::new();
        for (name, (decl, rust)) in &self.decls {
            if shared(name, decl) {
                imported.push(name.as_str());
            } else if rust.starts_with("gridwork_core::") {
                missing.push(*rust);
            }
        }
        if !missing.is_empty() {
            return Err(format!(
                "{} not in gridwork_core::typescript::model(): add them there, so both UIs import one declaration",
                missing.join(", ")
            ));
        }
        let mut body = String::new();
        self.push_body(&mut body, |(name, (decl, _))| !shared(name, decl));
        // Only what this module names itself (in code, not in a doc
        // comment): the rest the model file reaches on its own.
        let code = without_comments(&body);
        imported.retain(|name| names(&code, name));
        let mut out = header(regenerate);
        if !imported.is_empty() {
            out.push_str(&format!(
                "\nimport type {{ {} }} from '{from}'\n",
                imported.join(", ")
            ));
        }
        out.push_str(&body);
        Ok(out)
    }

    fn push_body(
        &self,
        out: &mut String,
        keep: impl Fn((&String, &(String, &'static str))) -> bool,
    ) {
        for entry in self.decls.iter().filter(|e| keep(*e)) {
            out.push('\n');
            out.push_str(&entry.1.0);
        }
        for code in &self.tail {
            out.push('\n');
            out.push_str(code);
        }
    }
}

/// `ts` without its `/* … */` and `// …` comments (the generated files
/// have no string holding either).
fn without_comments(ts: &str) -> String {
    let mut out = String::with_capacity(ts.len());
    let mut rest = ts;
    while let Some(at) = rest.find('/') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |end| &after[end + 2..]);
        } else if tail.starts_with("//") {
            rest = tail.find('\n').map_or("", |end| &tail[end..]);
        } else {
            out.push('/');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Whether `code` names the identifier `name` (not as part of a longer one).
fn names(code: &str, name: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + name.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

fn header(regenerate: &str) -> String {
    format!(
        "// Generated from the Rust types by ts-rs: do not edit.\n\
         // Regenerate with `{regenerate}`.\n"
    )
}

/// Where the model file lives, relative to this crate.
pub const MODEL_PATH: &str = "../ui/src/bindings/model.ts";

/// Core's types as the UIs receive them: `ui/src/bindings/model.ts`, which
/// the app's and the console's files import from.
pub fn model() -> Bindings {
    use crate::doc::Conflict;
    use crate::fieldwork::forms::CareTagOption;
    use crate::fieldwork::incidents::IncidentView;
    use crate::fieldwork::map::MapFeature;
    use crate::fieldwork::patrols::{PatrolEdit, PatrolView};
    use crate::fieldwork::tasks::TaskRow;
    use crate::fieldwork::visits::DueVisit;
    use crate::model::grid::Grid;
    use crate::model::{AnyRecord, Meta, PhotoRef, Projection, RecordKind};
    use crate::privacy::MaskedView;
    use crate::problem::Param;
    use crate::store::{Draft, Protection};
    use crate::sync::api::LoginUser;
    use crate::sync::progress::SyncProgress;
    use crate::sync::wire::{NoticeCode, RejectionCode};
    use crate::validate::Code;

    let mut b = Bindings::new();
    b.add::<AnyRecord>()
        .add::<Meta>()
        .add::<Projection>()
        .add::<RecordKind>()
        .add::<PhotoRef>()
        .add::<Conflict>()
        .add::<IncidentView>()
        .add::<MapFeature>()
        .add::<PatrolView>()
        .add::<PatrolEdit>()
        .add::<TaskRow>()
        .add::<DueVisit>()
        .add::<CareTagOption>()
        .add::<MaskedView>()
        .add::<Protection>()
        .add::<Draft>()
        .add::<LoginUser>()
        .add::<Grid>()
        .add::<Code>()
        .add::<Param>()
        .add::<NoticeCode>()
        .add::<RejectionCode>()
        .add::<SyncProgress>()
        .add::<serde_json::Value>();
    b
}

/// Compares `rendered` with the committed file at `path`: with
/// `GRIDWORK_WRITE_BINDINGS=1` it writes the file instead. The message says
/// how to bring a stale file up to date.
///
/// # Errors
/// If the file differs from `rendered` (or cannot be read or written).
pub fn check_or_write(path: &std::path::Path, rendered: &str) -> Result<(), String> {
    if std::env::var_os("GRIDWORK_WRITE_BINDINGS").is_some_and(|v| v == "1") {
        return std::fs::write(path, rendered).map_err(|e| format!("{}: {e}", path.display()));
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed == rendered {
        Ok(())
    } else {
        Err(format!(
            "{} is not what the Rust types generate: run `scripts/bindings` and commit the result",
            path.display()
        ))
    }
}

#[cfg(test)]
mod bindings {
    use std::path::Path;

    #[test]
    fn the_committed_typescript_bindings_are_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(super::MODEL_PATH);
        if let Err(e) = super::check_or_write(&path, &super::model().render("scripts/bindings")) {
            panic!("{e}");
        }
    }
}
