//! What leaves the console as a file, and the access log that records it.
//!
//! An export (a ledger or the dashboard) and a reveal (a record's page in
//! clear, [`super::page::reveal`]) are written to the access log before
//! their bytes leave; nothing is answered if the log cannot be written.
//! What goes out in clear is what was asked, as far as the role may
//! ([`reveal_for`], over [`access::reveal_allowed`]).

use gridwork_core::calendar::shanghai_date;
use uuid::Uuid;

use super::ledger::{Format, Reveal, Table};
use crate::access;
use crate::auth::ConsoleUser;
use crate::storage::{AccessEntry, Storage, StorageError};

/// What goes out in clear: what was asked, as far as the role allows.
pub fn reveal_for(who: &ConsoleUser, asked: bool) -> Reveal {
    if asked {
        access::reveal_allowed(who.session.user.role)
    } else {
        Reveal::MASKED
    }
}

/// One line of the access log, before it is stamped with who and when.
#[derive(Debug, Clone)]
pub struct Logged<'a> {
    /// `export` or `reveal`.
    pub action: &'a str,
    /// The list, `dashboard`, or the revealed record's kind.
    pub target: &'a str,
    /// The filter, as JSON.
    pub filter: String,
    pub format: Option<Format>,
    pub record_ids: Vec<Uuid>,
    pub row_count: usize,
    pub reveal: Reveal,
}

impl Logged<'_> {
    /// The entry: `who` (the user and the console enrolment) at `now`,
    /// by the server's clock.
    pub fn entry(self, who: &ConsoleUser, now: jiff::Timestamp) -> AccessEntry {
        AccessEntry {
            seq: 0,
            at: now.as_millisecond(),
            user_id: who.session.user.id.clone(),
            device_id: who.session.device_id.clone(),
            action: self.action.into(),
            target: self.target.into(),
            filter: self.filter,
            format: self.format.map(|f| f.as_str().into()),
            record_ids: self.record_ids,
            row_count: self.row_count,
            revealed: self.reveal.label().into(),
        }
    }
}

/// A file ready to send, already logged.
#[derive(Debug)]
pub struct Exported {
    pub bytes: Vec<u8>,
    pub format: Format,
    /// `{title of the first table}-{date in Shanghai}.{format}`.
    pub file_name: String,
}

/// Why an export was not made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the file cannot be written: {0}")]
    Write(String),
    /// The access log could not be written, so nothing is sent.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What to export.
#[derive(Debug)]
pub struct Export<'a> {
    /// The list, or `dashboard`.
    pub target: &'a str,
    /// The filter it was made with, as JSON.
    pub filter: String,
    pub format: Format,
    /// What is in clear ([`reveal_for`]).
    pub reveal: Reveal,
    pub tables: Vec<Table>,
}

/// Writes the export's tables, logs it as `who`'s at `now` (the records
/// the rows came from: for GeoJSON only rows with a point or an area go
/// in), and hands back the file.
pub fn export(
    storage: &dyn Storage,
    who: &ConsoleUser,
    export: Export<'_>,
    now: jiff::Timestamp,
) -> Result<Exported, ExportError> {
    let Export {
        target,
        filter,
        format,
        reveal,
        tables,
    } = export;
    let (bytes, row_count) = format.write(&tables).map_err(ExportError::Write)?;
    let record_ids = tables
        .iter()
        .flat_map(|t| t.rows.iter())
        .filter(|r| format != Format::GeoJson || r.point.is_some() || r.area.is_some())
        .map(|r| r.id)
        .filter(|id| !id.is_nil())
        .collect();
    let logged = Logged {
        action: "export",
        target,
        filter,
        format: Some(format),
        record_ids,
        row_count,
        reveal,
    };
    storage.append_access(&logged.entry(who, now))?;
    let stem = tables.first().map_or("台账", |t| t.title.as_str());
    Ok(Exported {
        bytes,
        format,
        file_name: format!(
            "{stem}-{}.{}",
            shanghai_date(now).strftime("%Y%m%d"),
            format.as_str()
        ),
    })
}
