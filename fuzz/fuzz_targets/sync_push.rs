#![no_main]
//! See `gridwork_fuzz::sync_push`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| gridwork_fuzz::sync_push(data));
