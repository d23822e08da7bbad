//! `gridwork-server`: the sync server and its admin commands. Glue over the
//! `gridwork_server` library: parse flags, read settings, call, print.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use gridwork_core::model::{Role, User};
use gridwork_server::config::{Overrides, Settings};
use gridwork_server::devices::DeviceState;
use gridwork_server::escape::{Escaped, log_fields};
use gridwork_server::storage::{self, Storage};
use gridwork_server::{AppState, admin};

/// jemalloc rather than glibc's malloc: glibc keeps what each thread freed
/// in that thread's arena, and a server on PostgreSQL held 223 MiB after a
/// district's dashboard, ledger pages and export (the bench's `district`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Gridwork's sync server: users, grid scoping and batched sync of record
/// documents, with an embedded SQLite database in a data directory.
///
/// Settings come in layers: defaults, then a TOML file (--config, or
/// gridwork.toml in the data directory), then GRIDWORK_* environment
/// variables (GRIDWORK_LISTEN, GRIDWORK_DATA_DIR, …), then flags. See
/// `gridwork-server print-config` for every key.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Cli {
    /// A TOML settings file (default: gridwork.toml in the data directory, if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The data directory (database, blobs).
    #[arg(long = "data", global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A tracing filter, e.g. `info` or `gridwork_server=debug`.
    #[arg(long, global = true, value_name = "FILTER")]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API until Ctrl-C or SIGTERM; requests in flight finish.
    Serve {
        /// Address and port to listen on.
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// Serve HTTPS with this PEM certificate chain (with --tls-key).
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
    },
    /// Create the data directory and its database (or migrate an existing one).
    Init,
    /// Import (add or replace) grids from a GeoJSON FeatureCollection.
    ///
    /// Each feature has properties code, name, level (city, district, street,
    /// community, grid, micro_grid), parent (a code in the file or already
    /// imported) and kind (comprehensive or dedicated), and a Polygon or
    /// MultiPolygon geometry (required from grid level down). Codes are
    /// digits, 4 (or 6 ending in 00) / 6 / 9 / 12 / 15 / 18 of them from
    /// city to micro-grid, each beginning with its parent's; boundaries
    /// valid polygons of at most 10,000 vertices. Nothing is stored if any
    /// feature is refused; the message names it and says why.
    ImportGrids {
        /// The GeoJSON file.
        file: PathBuf,
    },
    /// Add a user with a role and a grid subtree.
    AddUser {
        /// Login id, e.g. wangfang.
        #[arg(long)]
        id: String,
        /// Full name (姓名).
        #[arg(long)]
        name: String,
        /// grid_worker, grid_leader, community_supervisor, street_supervisor, department_handler or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Code of the grid whose subtree the user sees.
        #[arg(long)]
        grid: String,
        /// For department handlers: the department.
        #[arg(long)]
        department: Option<String>,
        /// Mobile number.
        #[arg(long, default_value = "")]
        phone: String,
        /// The password (else GRIDWORK_PASSWORD, else read from standard input).
        #[arg(long, env = "GRIDWORK_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Set a new password for a user.
    ResetPassword {
        /// The user's login id.
        user: String,
        /// The password (else GRIDWORK_PASSWORD, else read from standard input).
        #[arg(long, env = "GRIDWORK_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Assign a user another grid subtree (their devices receive the new
    /// grids' records at their next sync).
    SetGrid {
        /// The user's login id.
        user: String,
        /// Code of the grid whose subtree the user sees from now on.
        #[arg(long)]
        grid: String,
    },
    /// Revoke a device: its token stops working at once.
    RevokeDevice {
        /// The device id (see list-devices).
        device: String,
    },
    /// Mark a device lost: at its next sync it pushes its unsent work
    /// (kept, flagged for review), erases its data and reports the wipe.
    MarkLost {
        /// The device id (see list-devices).
        device: String,
    },
    /// List enrolled devices and their state (active, revoked, lost, wiped).
    ListDevices {
        /// Only this user's devices.
        #[arg(long)]
        user: Option<String>,
    },
    /// Print the effective settings as TOML.
    PrintConfig,
    /// Make the console's projection rows again from the stored documents
    /// (after a change of the working calendar, or to repair them).
    RebuildProjections {
        /// Change nothing: list the records whose stored row differs from
        /// the one their document gives, and fail if there are any.
        #[arg(long)]
        check: bool,
    },
    /// Copy this data directory's SQLite database into PostgreSQL, to move
    /// the server there: documents, the change log and every device's
    /// cursor, users, devices and tokens, projections, photo grants, the
    /// access log. Photo blobs stay in the data directory. Stop the server
    /// first; afterwards set database_url and start it again. The target
    /// must be a new, empty database; nothing is written unless all of it
    /// is copied.
    CopyToPostgres {
        /// The target database (postgres://…; else the database_url
        /// setting).
        #[arg(long, value_name = "URL")]
        to: Option<String>,
    },
    /// Load the generated demo: a street of grids (a district of several
    /// streets past about 175,000 records), its staff and their records
    /// (stored as documents by the server's own actor). Running it again
    /// adds nothing twice.
    LoadDemo {
        /// The generator's seed: the same seed gives the same demo.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// About how many records to generate (default: the standard demo,
        /// about 7,000).
        #[arg(long, value_name = "N")]
        records: Option<usize>,
        /// The demo users' password (else GRIDWORK_PASSWORD, else gridwork-demo).
        #[arg(long, env = "GRIDWORK_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
        "expected grid_worker, grid_leader, community_supervisor, street_supervisor, department_handler or admin".to_string()
    })
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line, escaped: the chain of contexts can quote an import
            // file's codes and names, which must not drive the terminal.
            let _ = writeln!(std::io::stderr(), "error: {}", Escaped(format!("{e:#}")));
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let (listen, tls_cert_file, tls_key_file) = match &cli.command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
        } => (*listen, tls_cert.clone(), tls_key.clone()),
        _ => (None, None, None),
    };
    let settings = Settings::load(
        cli.config.as_deref(),
        &Overrides {
            listen,
            data_dir: cli.data_dir.clone(),
            log_level: cli.log_level.clone(),
            tls_cert_file,
            tls_key_file,
        },
    )
    .context("reading settings")?;
    init_tracing(&settings.log_level)?;
    for key in settings.obsolete() {
        tracing::warn!(
            setting = key,
            "a removed setting is ignored: delete it from the file or the environment"
        );
    }

    let out = &mut std::io::stdout().lock();
    match cli.command {
        Command::PrintConfig => write!(out, "{}", settings.to_toml())?,
        Command::Serve { .. } => serve(settings)?,
        Command::Init => {
            open_or_create(&settings).with_context(|| {
                format!(
                    "creating the data directory {}",
                    settings.data_dir.display()
                )
            })?;
            writeln!(out, "data directory ready: {}", settings.data_dir.display())?;
        }
        Command::ImportGrids { file } => {
            let storage = open(&settings)?;
            let storage = storage.as_ref();
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let done = admin::import_grids(storage, &text)
                .with_context(|| format!("importing {}", file.display()))?;
            writeln!(out, "imported {} grids", done.grids)?;
            if done.patrols_relaid > 0 {
                writeln!(
                    out,
                    "patrols laid again on their grid's new boundary: {}",
                    done.patrols_relaid
                )?;
            }
        }
        Command::AddUser {
            id,
            name,
            role,
            grid,
            department,
            phone,
            password,
        } => {
            let storage = open(&settings)?;
            let storage = storage.as_ref();
            let password = password_from(password)?;
            let user = User {
                id: id.clone(),
                name,
                phone,
                role,
                grid,
                department,
            };
            admin::add_user(storage, user, &password).with_context(|| format!("adding {id}"))?;
            writeln!(out, "added user {id}")?;
        }
        Command::ResetPassword { user, password } => {
            let storage = open(&settings)?;
            let storage = storage.as_ref();
            let password = password_from(password)?;
            admin::reset_password(storage, &user, &password)
                .with_context(|| format!("resetting {user}'s password"))?;
            writeln!(out, "password of {user} changed")?;
        }
        Command::SetGrid { user, grid } => {
            let storage = open(&settings)?;
            let storage = storage.as_ref();
            storage
                .set_user_grid(&user, &grid)
                .with_context(|| format!("assigning {user} to grid {grid}"))?;
            writeln!(out, "{user} now sees grid {grid} and below")?;
        }
        Command::RevokeDevice { device } => {
            let storage = open(&settings)?;
            let storage = storage.as_ref();
            let now = jiff::Timestamp::now().as_millisecond();
            if gridwork_server::devices::revoke(storage, &device, now)? {
                writeln!(out, "device {device} revoked")?;
            } else {
                writeln!(out, "device {device} was already revoked")?;
            }
        }
        Command::MarkLost { device } => {
            let storage = open(&settings)?;
            let storage = storage.as_ref();
            let now = jiff::Timestamp::now().as_millisecond();
            if gridwork_server::devices::mark_lost(storage, &device, now)? {
                writeln!(
                    out,
                    "device {device} marked lost: it will be wiped at its next sync"
                )?;
            } else {
                writeln!(out, "device {device} was already marked lost")?;
            }
        }
        Command::LoadDemo {
            seed,
            records,
            password,
        } => {
            let storage = open_or_create(&settings).with_context(|| {
                format!("opening the data directory {}", settings.data_dir.display())
            })?;
            let storage = storage.as_ref();
            let password = password.unwrap_or_else(|| admin::DEMO_PASSWORD.to_string());
            let started = std::time::Instant::now();
            let demo = gridwork_demo::generate(&admin::demo_config(seed, records));
            let summary =
                admin::load_demo(storage, &demo, &password).context("loading the demo")?;
            print_demo_summary(out, &summary, &password, started.elapsed())?;
        }
        Command::RebuildProjections { check } => {
            use gridwork_server::storage::projections;
            let storage = open(&settings)?;
            let calendar = gridwork_core::calendar::WorkCalendar::bundled();
            if check {
                let differ = projections::check(storage.as_ref(), &calendar)
                    .context("checking the projections")?;
                for id in &differ {
                    writeln!(out, "{id}")?;
                }
                writeln!(
                    out,
                    "{} projection rows differ from their documents",
                    differ.len()
                )?;
                anyhow::ensure!(
                    differ.is_empty(),
                    "{} projection rows differ from their documents (the first: {}); run rebuild-projections to repair them",
                    differ.len(),
                    differ[0]
                );
                return Ok(());
            }
            let started = std::time::Instant::now();
            let done = projections::rebuild(storage.as_ref(), &calendar)
                .context("rebuilding the projections")?;
            writeln!(
                out,
                "{} projection rows rebuilt in {:.1} s{}",
                done.rows,
                started.elapsed().as_secs_f64(),
                match done.unreadable {
                    0 => String::new(),
                    n => format!("; {n} documents could not be read (see the log)"),
                }
            )?;
        }
        Command::CopyToPostgres { to } => {
            let url = match (to, &settings.database_url) {
                (Some(url), _) => url,
                (None, Some(url)) => url.expose().to_string(),
                (None, None) => anyhow::bail!(
                    "name the PostgreSQL database: --to postgres://… or the database_url setting"
                ),
            };
            anyhow::ensure!(
                storage::postgres::is_postgres_url(&url),
                "{} is not a postgres:// URL",
                storage::postgres::redact_url(&url)
            );
            let started = std::time::Instant::now();
            let copied =
                storage::to_postgres::copy(&settings.data_dir, &url).with_context(|| {
                    format!(
                        "copying {} into {}",
                        settings.data_dir.display(),
                        storage::postgres::redact_url(&url)
                    )
                })?;
            for (table, rows) in &copied.tables {
                writeln!(out, "{table:<22} {rows:>10} rows")?;
            }
            writeln!(
                out,
                "copied in {:.1} s; photos stay in {}. Set database_url to this database and start the server.",
                started.elapsed().as_secs_f64(),
                settings.data_dir.join("blobs").display()
            )?;
        }
        Command::ListDevices { user } => {
            let storage = open(&settings)?;
            let storage = storage.as_ref();
            writeln!(
                out,
                "{:<36}  {:<16}  {:<24}  {:<20}  status",
                "device", "user", "name", "enrolled"
            )?;
            for d in storage.list_devices(user.as_deref())? {
                let state = DeviceState::of_device(&d);
                let status = match DeviceState::since(&d) {
                    Some(at) => format!("{} {}", state.as_str(), time(at)),
                    None => state.as_str().to_string(),
                };
                // The name is the device's own (sent at login): escaped.
                writeln!(
                    out,
                    "{:<36}  {:<16}  {:<24}  {:<20}  {status}",
                    Escaped(&d.id),
                    Escaped(&d.user_id),
                    Escaped(&d.name),
                    time(d.created_at)
                )?;
            }
        }
    }
    Ok(())
}

fn print_demo_summary(
    out: &mut impl Write,
    summary: &admin::DemoSummary,
    password: &str,
    took: std::time::Duration,
) -> anyhow::Result<()> {
    let kinds = |counts: &std::collections::BTreeMap<String, usize>| {
        counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(out, "grids: {}", summary.grids)?;
    writeln!(
        out,
        "users: {} added, {} already there",
        summary.users_added.len(),
        summary.users_existing.len()
    )?;
    writeln!(
        out,
        "records stored: {} ({})",
        summary.stored_total(),
        kinds(&summary.stored)
    )?;
    if summary.existing_total() > 0 {
        writeln!(
            out,
            "records already there: {} ({})",
            summary.existing_total(),
            kinds(&summary.existing)
        )?;
    }
    for (kind, (n, why)) in &summary.skipped {
        writeln!(
            out,
            "records skipped: {n} {kind} (their documents cannot be read back: {why})"
        )?;
    }
    writeln!(out, "took {:.1} s", took.as_secs_f64())?;
    for (what, user) in [
        ("grid worker", &summary.grid_worker),
        ("supervisor", &summary.supervisor),
    ] {
        if let Some(u) = user {
            writeln!(
                out,
                "demo login, {what}: user {} ({}, grid {}), password {password}",
                Escaped(&u.id),
                Escaped(&u.name),
                Escaped(&u.grid)
            )?;
        }
    }
    Ok(())
}

/// The storage the settings choose, which `init` must have made.
fn open(settings: &Settings) -> anyhow::Result<Arc<dyn Storage>> {
    storage::open_existing(
        &settings.data_dir,
        settings.database_url.as_ref().map(|u| u.expose()),
        settings.database_pool_size,
    )
    .with_context(|| format!("opening the data directory {}", settings.data_dir.display()))
}

/// The storage the settings choose, made or migrated if needed.
fn open_or_create(settings: &Settings) -> Result<Arc<dyn Storage>, storage::StorageError> {
    storage::open(
        &settings.data_dir,
        settings.database_url.as_ref().map(|u| u.expose()),
        settings.database_pool_size,
    )
}

fn time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| ms.to_string())
}

/// The password from the flag or environment, else one line of standard
/// input (prompted for when it is a terminal).
fn password_from(given: Option<String>) -> anyhow::Result<String> {
    if let Some(p) = given {
        return Ok(p);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let mut err = std::io::stderr().lock();
        write!(err, "password: ")?;
        err.flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password given (--password, GRIDWORK_PASSWORD or standard input)");
    }
    Ok(password)
}

fn init_tracing(filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("log_level {filter:?} is not a tracing filter"))?;
    // Every field through `Escaped`: client text never forges a line.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .fmt_fields(log_fields())
        // Colours only for a person watching; a log file gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    Ok(())
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(settings.blocking_threads)
        .build()
        .context("starting the async runtime")?;
    // Read before anything else, so a bad certificate stops the start
    // before the database is opened.
    let tls = match (&settings.tls_cert_file, &settings.tls_key_file) {
        (Some(cert), Some(key)) => Some(gridwork_server::tls::load(cert, key)?),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    // Storage is opened and the data migrations run before the runtime
    // starts: storage calls block, and PostgreSQL's client must not run on
    // an async thread (storage/postgres.rs).
    let storage = open_or_create(&settings)
        .with_context(|| format!("opening the data directory {}", settings.data_dir.display()))?;
    gridwork_server::migrate::run(storage.as_ref()).context("migrating stored documents")?;
    runtime.block_on(async {
        let state = AppState::new(storage, &settings);
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("listening on {}", settings.listen))?;
        // One line on stdout once bound, with the real port (so `--listen
        // 127.0.0.1:0` works and a test or script can read it).
        let addr = listener
            .local_addr()
            .context("reading the listening address")?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on {scheme}://{addr}")?;
            out.flush()?;
        }
        gridwork_server::launch_with(listener, tls, state, shutdown_signal()).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Ctrl-C, or SIGTERM on Unix (what service managers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
