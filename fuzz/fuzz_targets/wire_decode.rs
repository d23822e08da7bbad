#![no_main]
//! See `gridwork_fuzz::wire_decode`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| gridwork_fuzz::wire_decode(data));
