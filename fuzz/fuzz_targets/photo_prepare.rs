#![no_main]
//! See `gridwork_fuzz::photo_prepare`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| gridwork_fuzz::photo_prepare(data));
