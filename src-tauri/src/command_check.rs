//! The one list of commands (`command_list.rs`) names each command's
//! arguments and result for the front end's `Commands` map; nothing in
//! the compiler ties those to the command function's parameters, since
//! Tauri's macro reads the function and the list only gives its name. This
//! test does: it reads each command's function in its module's source and
//! checks the parameters the front end sends (all but Tauri's own: the
//! state, the app handle, the window, the raw request) are the listed
//! arguments, by name, order and type, and that the result is the listed
//! one. A command that reads its raw request (`add_photo`) lists a
//! `RawBody` and is checked for that.

use std::path::Path;

/// `(module, name, [(argument, type)], result)` of every command, as
/// written in the list.
type Signature = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

macro_rules! signatures {
    ($($module:ident::$name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        &[$((
            stringify!($module),
            stringify!($name),
            &[$((stringify!($arg), stringify!($ty))),*],
            stringify!($ret),
        )),*]
    };
}

const LISTED: &[Signature] = with_commands!(signatures);

/// The listed type and the function's, when the front end's type is not
/// the Rust one: a record as JSON.
const SAME: &[(&str, &str)] = &[("RecordJson", "serde_json::Value")];

/// Types Tauri fills in itself; the front end sends none of them.
const TAURI_OWN: &[&str] = &[
    "State<",
    "AppHandle<",
    "Window<",
    "WebviewWindow<",
    "Request<",
];

fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The text between the bracket at `open` and its match.
fn bracketed(text: &str, open: usize, (left, right): (char, char)) -> &str {
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        if c == left {
            depth += 1;
        } else if c == right {
            depth -= 1;
            if depth == 0 {
                return &text[open + 1..open + i];
            }
        }
    }
    panic!("unbalanced {left}{right}");
}

/// Splits at the commas outside any brackets.
fn top_level(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        parts.last_mut().expect("a part").push(c);
    }
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The parameters (`name:Type`, squashed) and the result type of the
/// command function `name` in `source`.
fn function(source: &str, name: &str) -> (Vec<(String, String)>, String) {
    let at = [format!("pub fn {name}"), format!("pub async fn {name}")]
        .iter()
        .find_map(|head| {
            source
                .match_indices(head.as_str())
                .map(|(i, _)| i)
                .find(|&i| {
                    let next = source[i + head.len()..].chars().next();
                    matches!(next, Some('(' | '<')) && source[..i].trim_end().ends_with(']')
                })
        })
        .unwrap_or_else(|| panic!("no command fn {name}"));
    let mut rest = at + source[at..].find(name).expect("the name") + name.len();
    if source[rest..].starts_with('<') {
        rest += bracketed(source, rest, ('<', '>')).len() + 2;
    }
    let params = bracketed(source, rest, ('(', ')'));
    let after = &source[rest + params.len() + 2..];
    let body = after.find('{').expect("a body");
    let ret = after[..body]
        .trim()
        .strip_prefix("->")
        .unwrap_or("()")
        .trim();
    let ret = squash(ret);
    let ret = match ret.strip_prefix("Result<") {
        Some(inner) => squash(&top_level(&inner[..inner.len() - 1])[0]),
        None => ret,
    };
    let params = top_level(params)
        .into_iter()
        .map(|p| {
            let (n, t) = p.split_once(':').expect("name: Type");
            let n = n.trim();
            let n = n.strip_prefix("mut ").unwrap_or(n).trim();
            (n.to_string(), squash(t))
        })
        .collect();
    (params, ret)
}

fn same(listed: &str, actual: &str) -> bool {
    let listed = squash(listed);
    listed == actual || SAME.iter().any(|(l, a)| listed == *l && actual == *a)
}

#[test]
fn every_listed_command_takes_and_returns_what_the_list_says() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = Vec::new();
    for (module, name, args, ret) in LISTED {
        let source = std::fs::read_to_string(src.join(format!("{module}.rs")))
            .unwrap_or_else(|e| panic!("{module}.rs: {e}"));
        let (params, actual_ret) = function(&source, name);
        let raw = params.iter().any(|(_, t)| t.starts_with("Request<"));
        let sent: Vec<&(String, String)> = params
            .iter()
            .filter(|(_, t)| !TAURI_OWN.iter().any(|own| t.starts_with(own)))
            .collect();
        if raw {
            if !args.iter().any(|(_, t)| *t == "RawBody") {
                wrong.push(format!("{name} reads its raw request: list a RawBody"));
            }
        } else {
            let names_match = sent.len() == args.len()
                && sent
                    .iter()
                    .zip(args.iter())
                    .all(|((n, t), (an, at))| n == an && same(at, t));
            if !names_match {
                wrong.push(format!("{name}: listed {args:?}, the fn takes {sent:?}"));
            }
        }
        if !same(ret, &actual_ret) {
            wrong.push(format!(
                "{name}: listed -> {ret}, the fn returns {actual_ret}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "command_list.rs is out of step:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_reader_finds_parameters_generics_and_results() {
    let source = r#"
        #[tauri::command]
        pub async fn go<R: Runtime>(app: AppHandle<R>, mut a: Vec<u8>, b: Option<(i64, String)>) -> Result<Vec<X>, CommandError> { }
        #[tauri::command]
        pub fn plain(x: u32) -> Y { }
    "#;
    let (params, ret) = function(source, "go");
    assert_eq!(
        params,
        [
            ("app".to_string(), "AppHandle<R>".to_string()),
            ("a".to_string(), "Vec<u8>".to_string()),
            ("b".to_string(), "Option<(i64,String)>".to_string()),
        ]
    );
    assert_eq!(ret, "Vec<X>");
    assert_eq!(function(source, "plain").1, "Y");
}
