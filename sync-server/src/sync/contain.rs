//! Automerge on bytes a device sent, with a panic inside it answered as
//! a refusal of the document.
//!
//! **Why.** Automerge 0.12 panics on some malformed input instead of
//! returning an error. The `sync_push` fuzz target (issue #10, item 19)
//! found one: a change whose object-id counter does not fit 32 bits makes
//! `Change::from_bytes` unwrap a failed conversion (automerge's
//! `types.rs`, `OpId::new`). In a request's blocking task that panic was
//! answered 500 with a backtrace in the log, for a body any device can
//! send; with `panic = "abort"` it would have ended the server. So every
//! Automerge call the push and repair paths make on a device's bytes runs
//! inside [`contained`], which catches an unwinding panic, logs it at
//! `warn` and returns it as an error; the caller refuses that document
//! (`malformed_change`) or that repair message (`bad_request`) like any
//! other it cannot read. Nothing is stored from a call that panicked: a
//! push writes only after every document is checked, and repair stores
//! nothing. This holds only while the release profile unwinds on panic
//! (Cargo's default; the workspace sets no `panic = "abort"`).
//!
//! **Fuzzing.** libFuzzer's panic hook aborts at every panic, caught or
//! not. The fuzz targets (`fuzz/`) let a panic through only while
//! [`containing`] is true, so what the server contains is a refusal there
//! too, and anything else still stops the run.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f` on a device's bytes; `Err` with the panic's message if it
/// panicked. `what` names the call in the log.
pub fn contained<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    result.map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        tracing::warn!(%what, %message, "automerge panicked on a device's bytes; refused");
        message
    })
}

/// Whether this thread is inside [`contained`] (for a panic hook that
/// must tell a contained panic from any other).
pub fn containing() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_an_error_and_the_depth_unwinds() {
        let caught = contained("a test", || -> u8 { panic!("boom {}", 1) });
        let nested = contained("outer", || {
            assert!(containing());
            contained("inner", || -> u8 { panic!("inner") }).is_err()
        });
        assert_eq!(caught, Err("boom 1".to_string()));
        assert_eq!(nested, Ok(true));
        assert!(!containing());
        assert_eq!(contained("fine", || 7), Ok(7));
    }

    /// The fuzz target's finding, the smallest form of it: one change
    /// (73 bytes) making a map and putting into it, with the object
    /// counter of the put rewritten to 2^32.
    const COUNTER_OVER_U32: &str = "856f4a8304c07d5401430010010101010101010101010101010101010101000000080104020815053401420356035701700200017f0000017f80808080107e016d016b027e00017e0014010200";

    #[test]
    fn automerge_on_a_change_with_an_object_counter_over_u32_is_contained() {
        let bytes: Vec<u8> = (0..COUNTER_OVER_U32.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&COUNTER_OVER_U32[i..i + 2], 16).unwrap())
            .collect();
        let parsed = contained("Change::from_bytes", || {
            automerge::Change::from_bytes(bytes)
        });
        // A panic today; an error once automerge returns one. Never a
        // change.
        assert!(!matches!(parsed, Ok(Ok(_))), "{parsed:?}");
    }
}
