//! Client text on its way to a log line or a terminal, made harmless.
//!
//! A user name typed at login, a device name, a record's field name or a
//! grid code from an import file is text the server did not write. Printed
//! raw, a newline in it forges a second log line, an escape sequence
//! drives the admin's terminal, and a bidirectional override makes a line
//! read differently from what it holds. So wherever such text reaches the
//! tracing log or an admin command's output it goes through [`Escaped`]:
//! control characters (C0, DEL, C1) and the invisible characters that
//! reorder or hide text (bidi embeddings, overrides and isolates, zero-width
//! characters, line and paragraph separators, the byte-order mark) are
//! written as `\n`, `\r`, `\t` or `\u{…}`; everything else, Chinese
//! included, is left alone. Backslashes are left as they are: the threat is
//! a character that does something, not text that looks like an escape.
//!
//! The server's log formatter ([`log_fields`]) runs every field of every
//! event and span through the same rule, so a field added later cannot
//! forget it; the admin commands wrap what they print in [`Escaped`].
//! Device names holding such characters are refused at login
//! ([`is_unsafe`]), so new ones never need it.

use std::fmt::{self, Write};

use tracing_subscriber::field::MakeExt;

/// Whether `c` must not reach a log or a terminal as it is.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' // zero-width space, joiners, LRM, RLM
            | '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2069}' // word joiner, invisible operators, bidi isolates
            | '\u{FEFF}' // byte-order mark, zero-width no-break space
        )
}

/// Text displayed with its unsafe characters ([`is_unsafe`]) escaped.
///
/// ```
/// use gridwork_server::escape::Escaped;
/// assert_eq!(Escaped("王芳\n[INFO] forged").to_string(), "王芳\\n[INFO] forged");
/// assert_eq!(Escaped("\u{1b}[2J").to_string(), "\\u{1b}[2J");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Escaped<T>(pub T);

impl<T: AsRef<str>> fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.as_ref();
        if !text.chars().any(is_unsafe) {
            // Padding (`{:<16}`) applies to the text as given.
            return f.pad(text);
        }
        let mut out = String::with_capacity(text.len() + 8);
        for c in text.chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if is_unsafe(c) => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        f.pad(&out)
    }
}

/// The field formatter of the server's log: every field and message of
/// every event and span written through [`Escaped`], `name=value`
/// separated by spaces, as `tracing_subscriber`'s default does.
pub fn log_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + 'static {
    tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
        let text = format!("{value:?}");
        if field.name() == "message" {
            write!(w, "{}", Escaped(&text))
        } else {
            write!(w, "{}={}", field.name(), Escaped(&text))
        }
    })
    .delimited(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_invisible_characters_are_escaped_and_the_rest_kept() {
        let cases = [
            ("wangfang", "wangfang"),
            ("王芳的平板", "王芳的平板"),
            ("a\nb\r\tc", "a\\nb\\r\\tc"),
            ("\u{1b}[31mred", "\\u{1b}[31mred"),
            ("\u{7f}\u{9b}", "\\u{7f}\\u{9b}"),
            ("abc\u{202e}fdp.exe", "abc\\u{202e}fdp.exe"),
            ("x\u{2028}y\u{feff}", "x\\u{2028}y\\u{feff}"),
            ("C:\\data", "C:\\data"),
        ];
        for (raw, shown) in cases {
            assert_eq!(Escaped(raw).to_string(), shown, "{raw:?}");
        }
        assert_eq!(format!("[{:<6}]", Escaped("ab")), "[ab    ]");
        assert_eq!(format!("[{:<6}]", Escaped("a\nb")), "[a\\nb  ]");
    }

    #[test]
    fn the_log_formatter_escapes_every_field() {
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(log_fields())
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let user = "mallory\n2026-01-01T00:00:00Z  INFO admin signed in";
            let span = tracing::info_span!("request", path = %"/a\u{1b}[2J");
            let _entered = span.enter();
            tracing::warn!(user = %user, name = "x\ty", "login {}", "refused\r");
        });
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("user=mallory\\n2026"), "{text}");
        assert!(text.contains("path=/a\\u{1b}[2J"), "{text}");
        assert!(text.contains("login refused\\r"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
    }
}
