#![no_main]
//! See `gridwork_fuzz::grid_import`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| gridwork_fuzz::grid_import(data));
