//! Gridwork's benchmarks. Each suite prints one figure per line as
//! `name: value unit`, so runs can be compared and quoted.
//!
//! ```text
//! cargo run --release -p gridwork-bench -- store
//! cargo run --release -p gridwork-bench -- sync [--backend sqlite|postgres] [--link 2g|3g|lan]
//! cargo run --release -p gridwork-bench -- console
//! cargo run --release -p gridwork-bench -- patrol   # also at the end of `store`
//! cargo run --release -p gridwork-bench -- district [--backend sqlite|postgres] [--records N] [--data DIR]
//! cargo run --release -p gridwork-bench -- dictionary [--write core/src/sync/push.dict]
//! ```
//!
//! Options follow their suite. `sync` runs on SQLite unless told
//! otherwise, and plays a village's link (`--link`, the `2g` profile
//! unless told otherwise) beside the `lan` baseline; `district` runs on both backends when PostgreSQL is
//! installed (a throwaway server of its own, see `postgres.rs`), else on
//! SQLite. `district --data DIR` keeps the loaded SQLite server in `DIR`
//! and reuses it in later runs (a million records take most of an hour
//! to load); on PostgreSQL it is copied in with `copy-to-postgres`.
//!
//! **Backends in figure names.** A figure measured on a backend carries
//! it as a suffix in brackets, `name[backend]`:
//! `server_ready_s[postgres]: 1.2 s`, so both backends' figures stand side
//! by side and sort together. `district` suffixes every figure
//! (`[sqlite]` or `[postgres]`); `sync` suffixes `[postgres]` only, its
//! SQLite names staying as earlier runs quoted them.
#![allow(clippy::print_stdout)]

mod console;
mod dictionary;
mod district;
mod postgres;
mod server;
mod store;
mod sync;

use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use gridwork_tests::proxy::Link;

/// Where a suite's server keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    fn parse(s: &str) -> Result<Backend> {
        match s {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" => Ok(Backend::Postgres),
            other => bail!("unknown backend {other:?} (sqlite or postgres)"),
        }
    }
}

/// One suite to run, with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub suite: String,
    /// `--backend`, if given.
    pub backend: Option<Backend>,
    /// `--records`, if given.
    pub records: Option<usize>,
    /// `--link`, if given: a profile of `gridwork_tests::proxy::Link`.
    pub link: Option<String>,
    /// `--data`, if given: a server data directory kept between runs.
    pub data: Option<std::path::PathBuf>,
    /// `--write`, if given: where `dictionary` saves the dictionary it trains.
    pub write: Option<std::path::PathBuf>,
}

const SUITES: &str = "store, sync, console, patrol, district, dictionary";

/// The command line as suites, each with the options that follow it.
fn parse_args(args: &[String]) -> Result<Vec<Run>> {
    let mut runs: Vec<Run> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .with_context(|| format!("{flag} needs a value"))
                .cloned()
        };
        match arg.as_str() {
            "--backend" | "--records" | "--link" | "--data" | "--write" => {
                let flag = arg.as_str();
                let run = runs
                    .last_mut()
                    .with_context(|| format!("{flag} follows a suite"))?;
                let v = value(flag)?;
                if flag == "--backend" {
                    run.backend = Some(Backend::parse(&v)?);
                } else if flag == "--link" {
                    if Link::profile(&v).is_none() {
                        bail!("unknown link {v:?} ({})", Link::PROFILES.join(", "));
                    }
                    run.link = Some(v);
                } else if flag == "--data" {
                    run.data = Some(v.into());
                } else if flag == "--write" {
                    run.write = Some(v.into());
                } else {
                    run.records = Some(
                        v.replace(['_', ','], "")
                            .parse()
                            .with_context(|| format!("--records {v:?}"))?,
                    );
                }
            }
            flag if flag.starts_with("--") => bail!("unknown option {flag}"),
            suite => runs.push(Run {
                suite: suite.to_string(),
                backend: None,
                records: None,
                link: None,
                data: None,
                write: None,
            }),
        }
    }
    Ok(runs)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs = parse_args(&args)?;
    if runs.is_empty() {
        bail!(
            "usage: gridwork-bench <suite> [--backend sqlite|postgres] [--records N] [--link 2g|3g|lan] [--data DIR]...  (suites: {SUITES})"
        );
    }
    for run in runs {
        let only = |what: &str| -> Result<()> {
            if run.backend.is_some()
                || run.records.is_some()
                || run.link.is_some()
                || run.data.is_some()
                || run.write.is_some()
            {
                bail!("{} takes no options ({what})", run.suite);
            }
            Ok(())
        };
        match run.suite.as_str() {
            "store" => {
                only("store")?;
                store::run()?
            }
            "sync" => {
                if run.records.is_some() || run.data.is_some() || run.write.is_some() {
                    bail!("sync takes no --records, --data or --write");
                }
                sync::run(
                    run.backend.unwrap_or(Backend::Sqlite),
                    run.link.as_deref().unwrap_or("2g"),
                )?
            }
            "console" => {
                only("console")?;
                console::run()?
            }
            "patrol" => {
                only("patrol")?;
                store::patrol_document_sizes()?
            }
            "district" => {
                if run.link.is_some() || run.write.is_some() {
                    bail!("district takes no --link or --write");
                }
                district::run(run.backend, run.records, run.data.as_deref())?
            }
            "dictionary" => {
                if run.backend.is_some()
                    || run.records.is_some()
                    || run.link.is_some()
                    || run.data.is_some()
                {
                    bail!("dictionary takes only --write");
                }
                dictionary::run(run.write.as_deref())?
            }
            other => bail!("unknown suite {other:?} (suites: {SUITES})"),
        }
    }
    Ok(())
}

/// The suffix [`figure`] gives every name (`[postgres]`), or none.
static SUFFIX: Mutex<String> = Mutex::new(String::new());

/// From now on, figures are named `name[backend]` (`None`: plain names).
pub fn name_figures_for(backend: Option<Backend>) {
    let suffix = backend.map(|b| format!("[{}]", b.as_str()));
    *SUFFIX.lock().unwrap_or_else(|e| e.into_inner()) = suffix.unwrap_or_default();
}

/// Prints one figure.
pub fn figure(name: &str, value: f64, unit: &str) {
    let suffix = SUFFIX.lock().unwrap_or_else(|e| e.into_inner()).clone();
    println!("{}", figure_line(&format!("{name}{suffix}"), value, unit));
}

/// One figure's line: whole numbers without decimals, others with three.
fn figure_line(name: &str, value: f64, unit: &str) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{name}: {value:.0} {unit}")
    } else {
        format!("{name}: {value:.3} {unit}")
    }
}

/// The 95th percentile of durations, in milliseconds.
pub fn p95_ms(samples: &mut [std::time::Duration]) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64) * 0.95).ceil() as usize;
    samples[index.saturating_sub(1).min(samples.len() - 1)].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn options_follow_their_suite() {
        let runs = parse_args(&args(
            "store district --backend postgres --records 1_000_000 --data /tmp/d sync --backend sqlite --link 3g dictionary --write /tmp/p.dict",
        ))
        .unwrap();
        assert_eq!(
            runs,
            [
                Run {
                    suite: "store".into(),
                    backend: None,
                    records: None,
                    link: None,
                    data: None,
                    write: None
                },
                Run {
                    suite: "district".into(),
                    backend: Some(Backend::Postgres),
                    records: Some(1_000_000),
                    link: None,
                    data: Some("/tmp/d".into()),
                    write: None
                },
                Run {
                    suite: "sync".into(),
                    backend: Some(Backend::Sqlite),
                    records: None,
                    link: Some("3g".into()),
                    data: None,
                    write: None
                },
                Run {
                    suite: "dictionary".into(),
                    backend: None,
                    records: None,
                    link: None,
                    data: None,
                    write: Some("/tmp/p.dict".into())
                },
            ]
        );
        assert!(parse_args(&args("--backend sqlite district")).is_err());
        assert!(parse_args(&args("district --backend mysql")).is_err());
        assert!(parse_args(&args("district --records")).is_err());
        assert!(parse_args(&args("district --records lots")).is_err());
        assert!(parse_args(&args("district --fast")).is_err());
        assert!(parse_args(&args("sync --link 4g")).is_err());
    }

    #[test]
    fn figures_print_whole_numbers_plainly() {
        assert_eq!(figure_line("a[sqlite]", 3.0, "s"), "a[sqlite]: 3 s");
        assert_eq!(figure_line("b", 0.12345, "ms"), "b: 0.123 ms");
    }

    #[test]
    fn p95_is_the_sample_below_which_95_percent_lie() {
        let mut samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        samples.reverse();
        assert_eq!(p95_ms(&mut samples), 95.0);
        assert_eq!(p95_ms(&mut [Duration::from_millis(7)]), 7.0);
    }
}
