//! What leaves the console as a file, and the access log that records it.
//!
//! An export (a ledger or the dashboard) and a reveal (a record's page in
//! clear, [`super::page::reveal`]) are written to the access log before
//! their bytes leave; nothing is answered if the log cannot be written.
//! What goes out in clear is what was asked, as far as the role may
//! ([`reveal_for`], over [`access::reveal_allowed`]).

use gridwork_core::calendar::shanghai_date;
use uuid::Uuid;

use std::io::{Seek, SeekFrom};

use super::ledger::{FileWriter, Format, Reveal};
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
    /// The written file (a temporary one, gone when closed), read from
    /// its start.
    pub file: std::fs::File,
    /// Its length in bytes.
    pub len: u64,
    pub format: Format,
    /// `{title of the first table}-{date in Shanghai}.{format}`.
    pub file_name: String,
}

/// Why an export was not made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the file cannot be written: {0}")]
    Write(String),
    /// The rows could not be read, or the access log could not be
    /// written, so nothing is sent.
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
    /// How many tables `write` writes.
    pub tables: usize,
}

/// An export's file as it is written (to a temporary file).
pub type ExportWriter = FileWriter<std::fs::File>;

/// Writes the export's file with `write` (tables and their rows, a chunk
/// at a time if it likes: nothing written is kept in memory), logs it as
/// `who`'s at `now` with the records its rows came from (for GeoJSON only
/// rows with a point or an area go in), and hands back the file. When
/// `write` fails or the log cannot be written, the file is dropped unsent.
pub fn export<E: From<ExportError>>(
    storage: &dyn Storage,
    who: &ConsoleUser,
    export: Export<'_>,
    now: jiff::Timestamp,
    write: impl FnOnce(&mut ExportWriter) -> Result<(), E>,
) -> Result<Exported, E> {
    let Export {
        target,
        filter,
        format,
        reveal,
        tables,
    } = export;
    let file = tempfile::tempfile().map_err(|e| ExportError::Write(e.to_string()))?;
    let mut writer = FileWriter::new(format, file, tables).map_err(ExportError::Write)?;
    write(&mut writer)?;
    let written = writer.finish().map_err(ExportError::Write)?;
    let mut file = written.out;
    let len = file
        .seek(SeekFrom::End(0))
        .and_then(|len| file.seek(SeekFrom::Start(0)).map(|_| len))
        .map_err(|e| ExportError::Write(e.to_string()))?;
    let logged = Logged {
        action: "export",
        target,
        filter,
        format: Some(format),
        record_ids: written.record_ids,
        row_count: written.rows,
        reveal,
    };
    storage
        .append_access(&logged.entry(who, now))
        .map_err(ExportError::from)?;
    let stem = written.first_title.as_deref().unwrap_or("台账");
    Ok(Exported {
        file,
        len,
        format,
        file_name: format!(
            "{stem}-{}.{}",
            shanghai_date(now).strftime("%Y%m%d"),
            format.as_str()
        ),
    })
}
