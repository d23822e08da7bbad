//! Erasing the device's data folder: the lost-device wipe (see
//! `gridwork-server`'s `devices` module for the flow).
//!
//! [`wipe`] deletes every file under the data folder, in two passes: first
//! the small files (up to [`OVERWRITE_MAX_BYTES`]: the session with its
//! token, the wrapped data-key files of the encrypted store, settings),
//! each overwritten with zeros and flushed to disk before it is deleted;
//! then everything else (the store, its journal, photos, exports),
//! deleted. Then the folders below it; the data folder itself stays, empty,
//! for the app's next setup.
//!
//! **With the store encrypted this is a crypto-erase**: the data key
//! exists only wrapped, in the small key files of the first pass, so once
//! they are gone the store and every sealed file are unreadable, even
//! from a copy of the flash made before the large files' blocks were
//! reused. Overwriting the large files too would add little on flash
//! storage (the controller writes elsewhere) and would make the wipe slow,
//! so they are only deleted. Without encryption the records can survive in
//! freed blocks until they are reused; the wipe is then only as good as
//! deleting files is.
//!
//! The caller closes everything that holds a file open first (the store,
//! a photo store's connection): a file is deleted all the same on Unix,
//! but an open SQLite connection could write its journal again.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::StoreError;

/// Files up to this size are overwritten before they are deleted.
pub const OVERWRITE_MAX_BYTES: u64 = 1 << 20;

/// What [`wipe`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wiped {
    /// Files overwritten, then deleted.
    pub overwritten: usize,
    /// Larger files deleted.
    pub deleted: usize,
}

/// Erases everything in `data_dir` (see the module doc). A missing folder
/// is no error. Stops at the first file it cannot delete, naming it: the
/// caller must not report a wipe that did not happen.
pub fn wipe(data_dir: &Path) -> Result<Wiped, StoreError> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    match collect(data_dir, &mut files, &mut dirs) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Wiped::default()),
        other => other.map_err(|e| erase_error(data_dir, e))?,
    }
    let mut wiped = Wiped::default();
    let (small, large): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|(_, len)| *len <= OVERWRITE_MAX_BYTES);
    for (path, len) in small {
        overwrite(&path, len).map_err(|e| erase_error(&path, e))?;
        remove(&path)?;
        wiped.overwritten += 1;
    }
    for (path, _) in large {
        remove(&path)?;
        wiped.deleted += 1;
    }
    // Deepest first.
    for dir in dirs.iter().rev() {
        std::fs::remove_dir(dir).map_err(|e| erase_error(dir, e))?;
    }
    Ok(wiped)
}

fn erase_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Erase(format!("{}: {e}", path.display()))
}

/// Every file below `dir` with its length (a symbolic link counts as a
/// file of length 0: it is removed, never followed), and every folder
/// below it, parents before children.
fn collect(
    dir: &Path,
    files: &mut Vec<(PathBuf, u64)>,
    dirs: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            dirs.push(path.clone());
            collect(&path, files, dirs)?;
        } else if kind.is_symlink() {
            files.push((path, 0));
        } else {
            files.push((path, entry.metadata()?.len()));
        }
    }
    Ok(())
}

fn overwrite(path: &Path, len: u64) -> std::io::Result<()> {
    if len == 0 || std::fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.write_all(&vec![0u8; len as usize])?;
    file.sync_all()
}

fn remove(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(erase_error(path, e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_goes_and_small_ones_are_overwritten_first() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("session.json"), b"{\"token\":\"secret\"}").unwrap();
        std::fs::write(root.join("device.sqlite"), vec![7u8; 2 << 20]).unwrap();
        std::fs::create_dir_all(root.join("keys/old")).unwrap();
        std::fs::write(root.join("keys/old/data.key"), [1u8; 64]).unwrap();
        std::fs::write(root.join("empty"), b"").unwrap();
        // A hard link outside shares the key file's bytes: it shows what
        // the wipe wrote over them.
        let keep = tempfile::tempdir().unwrap();
        std::fs::hard_link(root.join("keys/old/data.key"), keep.path().join("key")).unwrap();

        let wiped = wipe(root).unwrap();
        assert_eq!(
            wiped,
            Wiped {
                overwritten: 3,
                deleted: 1
            }
        );
        assert_eq!(std::fs::read_dir(root).unwrap().count(), 0, "empty");
        assert_eq!(std::fs::read(keep.path().join("key")).unwrap(), [0u8; 64]);
        assert!(root.is_dir(), "the folder itself stays");
        assert_eq!(wipe(&root.join("gone")).unwrap(), Wiped::default());
    }
}
