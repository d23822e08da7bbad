//! TypeScript declarations of the types the UIs receive, generated from the
//! Rust types with [`ts_rs`].
//!
//! Why ts-rs and not tauri-specta: the same types reach two front ends, the
//! tablet app over Tauri IPC and the supervision console over HTTP (axum),
//! and ts-rs is a stable release that derives declarations for both without
//! tying the HTTP side to Tauri; tauri-specta 2 (and specta 2, which it
//! needs) are still release candidates whose API changes between them. The
//! price is that ts-rs writes no command wrappers: `ui/src/backend.ts` keeps
//! one line per command, typed with the generated declarations.
//!
//! Each UI gets one self-contained file (the app's `ui/src/bindings/app.ts`,
//! the console's `ui/src/bindings/console.ts`): [`Bindings`] gathers the
//! declarations of some root types and of every type they reach, sorted by
//! name so the output is stable. The crates that own the roots compare the
//! committed file with a fresh rendering in a unit test (see
//! `src-tauri/src/bindings.rs`), which is how CI knows the files are
//! current; generation never runs when the app or the server starts.

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};

use ts_rs::{Config, TS, TypeVisitor};

/// A set of TypeScript declarations, rendered as one module.
#[allow(missing_debug_implementations)]
pub struct Bindings {
    cfg: Config,
    seen: HashSet<TypeId>,
    decls: BTreeMap<String, String>,
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
            self.decls.insert(T::ident(&self.cfg), decl);
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
        self
    }

    /// Adds a hand-written declaration (e.g. a list of codes as a union).
    pub fn add_decl(&mut self, name: &str, decl: String) -> &mut Self {
        self.decls.insert(name.to_string(), decl);
        self
    }

    /// The module: a header saying how to regenerate it, then every
    /// declaration in name order.
    pub fn render(&self, regenerate: &str) -> String {
        let mut out = format!(
            "// Generated from the Rust types by ts-rs: do not edit.\n\
             // Regenerate with `{regenerate}`.\n"
        );
        for decl in self.decls.values() {
            out.push('\n');
            out.push_str(decl);
        }
        out
    }
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
