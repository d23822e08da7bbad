//! Gridwork's benchmarks. Each suite prints one figure per line as
//! `name: value unit`, so runs can be compared and quoted.
//!
//! ```text
//! cargo run --release -p gridwork-bench -- store
//! cargo run --release -p gridwork-bench -- sync
//! cargo run --release -p gridwork-bench -- console
//! cargo run --release -p gridwork-bench -- patrol   # also at the end of `store`
//! ```
#![allow(clippy::print_stdout)]

mod console;
mod store;
mod sync;

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let suites: Vec<String> = std::env::args().skip(1).collect();
    if suites.is_empty() {
        bail!("usage: gridwork-bench <suite>...  (suites: store, sync, console, patrol)");
    }
    for suite in suites {
        match suite.as_str() {
            "store" => store::run()?,
            "sync" => sync::run()?,
            "console" => console::run()?,
            "patrol" => store::patrol_document_sizes()?,
            other => bail!("unknown suite {other:?} (suites: store, sync, console, patrol)"),
        }
    }
    Ok(())
}

/// Prints one figure.
pub fn figure(name: &str, value: f64, unit: &str) {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        println!("{name}: {value:.0} {unit}");
    } else {
        println!("{name}: {value:.3} {unit}");
    }
}

/// The 95th percentile of durations, in milliseconds.
pub fn p95_ms(samples: &mut [std::time::Duration]) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64) * 0.95).ceil() as usize;
    samples[index.saturating_sub(1).min(samples.len() - 1)].as_secs_f64() * 1000.0
}
