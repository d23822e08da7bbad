#![no_main]
//! See `gridwork_fuzz::hotline_csv`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| gridwork_fuzz::hotline_csv(data));
