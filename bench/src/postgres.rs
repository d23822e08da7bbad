//! A throwaway PostgreSQL server for the suites that measure the server on
//! PostgreSQL, started as scripts/test-postgres starts one: Debian's
//! newest installed version, as the `postgres` user (PostgreSQL refuses
//! to run as root), on a port of its own (`GRIDWORK_BENCH_PG_PORT`,
//! default 55451), its files in a temporary directory; stopped and
//! removed on drop. Unlike the tests' server it keeps `fsync` on: these
//! are figures for a real deployment.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, ensure};

/// The default port, away from scripts/test-postgres's 55432.
const DEFAULT_PORT: u16 = 55451;

/// A running PostgreSQL server; stopped on drop.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

/// The newest `/usr/lib/postgresql/*/bin`, if PostgreSQL is installed.
pub fn installed() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

impl Postgres {
    /// Makes a cluster in a temporary directory and starts it.
    pub fn start() -> Result<Postgres> {
        let bin =
            installed().context("PostgreSQL is not installed (apt-get install postgresql)")?;
        let port = match std::env::var("GRIDWORK_BENCH_PG_PORT") {
            Ok(p) => p.parse().context("GRIDWORK_BENCH_PG_PORT")?,
            Err(_) => DEFAULT_PORT,
        };
        let dir = tempfile::tempdir()?;
        let pg = Postgres { bin, dir, port };
        if as_root()? {
            run(Command::new("chown").arg("postgres").arg(pg.dir.path()))?;
        }
        let data = pg.dir.path().join("data");
        pg.as_postgres(
            Command::new(pg.bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]),
        )?;
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=400",
            pg.port,
            pg.dir.path().display()
        );
        pg.as_postgres(
            Command::new(pg.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-o")
                .arg(options)
                .arg("-l")
                .arg(pg.dir.path().join("log"))
                .args(["-w", "start"]),
        )?;
        Ok(pg)
    }

    /// Makes a new, empty database and gives its URL.
    pub fn create_database(&self, name: &str) -> Result<String> {
        run(Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
            .arg(self.port.to_string())
            .arg(name))?;
        Ok(url(self.port, name))
    }

    /// Runs `command` as the `postgres` user when the bench runs as root,
    /// else as it is.
    fn as_postgres(&self, command: &mut Command) -> Result<()> {
        if !as_root()? {
            return run(command);
        }
        let line = std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|a| shell_quote(&a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ");
        run(Command::new("su")
            .args(["postgres", "-s", "/bin/sh", "-c"])
            .arg(line))
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.as_postgres(
            Command::new(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "stop"]),
        );
    }
}

/// A database's URL on the local server at `port`.
fn url(port: u16, name: &str) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/{name}")
}

fn as_root() -> Result<bool> {
    let out = Command::new("id").arg("-u").output()?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn run(command: &mut Command) -> Result<()> {
    let out = command
        .output()
        .with_context(|| format!("running {:?}", command.get_program()))?;
    ensure!(
        out.status.success(),
        "{:?} failed: {}{}",
        command.get_program(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// `s` quoted for `sh -c`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_word_survives_the_shell() {
        assert_eq!(shell_quote("plain"), "'plain'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", shell_quote("a b'c $HOME")))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a b'c $HOME");
    }

    #[test]
    fn urls_name_the_port_and_database() {
        assert_eq!(
            url(55451, "district"),
            "postgres://postgres@127.0.0.1:55451/district"
        );
        if let Some(bin) = installed() {
            assert!(bin.join("pg_ctl").exists());
        }
    }
}
