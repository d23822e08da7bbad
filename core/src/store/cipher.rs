//! The store encrypted at rest: SQLCipher keyed with the device's data
//! key ([`crate::vault`]), and the one-time migration of a store an
//! earlier Gridwork wrote in clear.
//!
//! The key is given in SQLCipher's raw form (`x'…'`), so SQLCipher runs
//! no key derivation of its own. Every page of the file, its write-ahead
//! log included, is encrypted and authenticated; the photos are BLOBs in
//! it, so they are too. Search is unchanged: FTS5 runs on the decrypted
//! pages.
//!
//! What encryption costs: SQLCipher decrypts and authenticates a page
//! each time it reads one from the file, and nothing else. The key is
//! raw (no key derivation at open), memory security is off (SQLCipher's
//! default since 4.5: no wiping of every freed buffer), temporary tables
//! stay in memory (the build's `SQLITE_TEMP_STORE=2`), and each store
//! keeps one connection open for its whole life. So the cost follows the
//! page-cache misses, and the cache is made large enough to keep a
//! worker's lists decrypted in memory (`CACHE_KIB` in the `schema`
//! module, set on every connection, plain or encrypted, so the bench's
//! plain baseline differs by the encryption alone). The bench measures
//! both side by side (`cargo run --release -p gridwork-bench -- store`).
//!
//! Migration: a file that starts with SQLite's plain header is copied
//! into an encrypted twin beside it (`sqlcipher_export`, after its log is
//! folded into it), the twin is synced and renamed over the original. A
//! crash before the rename leaves the plain store whole (the half-written
//! twin is deleted at the next open); after it, the encrypted one. Nothing
//! is lost either way.

use std::path::{Path, PathBuf};

use automerge::ActorId;
use rusqlite::Connection;
use tracing::instrument;

use super::{Store, StoreError, schema};
use crate::vault::DataKey;

/// The first bytes of a SQLite file in clear.
const PLAIN_HEADER: &[u8] = b"SQLite format 3\0";

impl Store {
    /// Opens (or creates) the store at `path` encrypted with `key`. A
    /// store written in clear by an earlier version is encrypted in place
    /// first (see the `cipher` module). A wrong key is refused with
    /// [`StoreError::WrongKey`] and the file is left as it was.
    #[instrument(skip_all, err)]
    pub fn open_encrypted(
        path: impl AsRef<Path>,
        actor: ActorId,
        key: &DataKey,
    ) -> Result<Store, StoreError> {
        let path = path.as_ref();
        let twin = twin_of(path);
        if twin.exists() {
            // A migration that did not finish: the original is whole.
            std::fs::remove_file(&twin)
                .map_err(|e| StoreError::Corrupt(format!("{}: {e}", twin.display())))?;
        }
        if is_plain(path)? {
            encrypt_in_place(path, &twin, key)?;
        }
        let mut conn = keyed(path, key)?;
        schema::prepare(&mut conn, true)?;
        Store::finish_open(conn, actor)
    }
}

impl Store {
    /// Whether the file at `path` is a store written in clear (by an
    /// earlier version, or a plain [`Store::open`]); false when absent or
    /// encrypted.
    pub fn is_plain_file(path: impl AsRef<Path>) -> Result<bool, StoreError> {
        is_plain(path.as_ref())
    }
}

/// A connection to `path` with `key` set, checked by reading the schema
/// (SQLCipher only notices a wrong key at the first read).
fn keyed(path: &Path, key: &DataKey) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    set_key(&conn, key)?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(conn),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(StoreError::WrongKey)
        }
        Err(e) => Err(e.into()),
    }
}

/// `PRAGMA key` in the raw key form.
fn set_key(conn: &Connection, key: &DataKey) -> Result<(), StoreError> {
    // A wrong key would otherwise print "hmac check failed" to stderr.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    let sql = zeroize::Zeroizing::new(format!("PRAGMA key = \"{}\";", *key.sqlcipher_key()));
    conn.execute_batch(&sql)?;
    Ok(())
}

fn twin_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".encrypting");
    name.into()
}

/// Whether `path` is a store in clear (false when it does not exist).
fn is_plain(path: &Path) -> Result<bool, StoreError> {
    use std::io::Read;
    let mut header = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut file) => match file.read_exact(&mut header) {
            Ok(()) => Ok(header == PLAIN_HEADER),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(StoreError::Corrupt(format!("{}: {e}", path.display()))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::Corrupt(format!("{}: {e}", path.display()))),
    }
}

/// Copies the plain store at `path` into an encrypted `twin` and renames
/// the twin over it.
fn encrypt_in_place(path: &Path, twin: &Path, key: &DataKey) -> Result<(), StoreError> {
    tracing::info!("encrypting a store written in clear by an earlier version");
    {
        let conn = Connection::open(path)?;
        // Fold the log into the file: the export reads the whole store, and
        // no log of the plain file may stay beside the encrypted one.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let raw_key = key.sqlcipher_key();
        conn.execute(
            "ATTACH DATABASE ?1 AS encrypted KEY ?2",
            [&*twin.to_string_lossy(), raw_key.as_str()],
        )?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        // The export copies tables, not the header's schema version.
        conn.pragma_update(Some("encrypted"), "user_version", version)?;
        conn.execute_batch("DETACH DATABASE encrypted")?;
        conn.pragma_update(None, "journal_mode", "DELETE")?;
    }
    std::fs::File::open(twin)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::Corrupt(format!("{}: {e}", twin.display())))?;
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(StoreError::Corrupt(format!("{}: {e}", path.display())));
            }
            _ => {}
        }
    }
    std::fs::rename(twin, path)
        .map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display())))?;
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", dir.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Author;
    use crate::model::{Address, Household, HouseholdUse, Meta, RecordKind};
    use crate::store::ListQuery;

    const NAME: &str = "欧阳婉清";
    const PHONE: &str = "13912345678";
    /// A resident half typed into a form: only ever in a draft.
    const DRAFT_NAME: &str = "司马草稿";
    const DRAFT_ID_NUMBER: &str = "44010619850607123X";
    /// A photo's first bytes: its JPEG marker and header. (The bare
    /// 3-byte marker turns up by chance about once in 16 MiB of random
    /// bytes, which is what an encrypted store is.)
    const JPEG_MARKER: &[u8] = b"\xFF\xD8\xFF\xE0 a photo";

    fn actor() -> ActorId {
        ActorId::from(&[3u8; 16][..])
    }

    fn household() -> Household {
        Household {
            meta: Meta::new("440305001001", "wangfang", 1_795_000_000_000),
            address: Address {
                estate: "阳光花园".into(),
                building: "3".into(),
                room: "801".into(),
                ..Address::default()
            },
            point: None,
            usage: HouseholdUse::OwnerOccupied,
            owner_name: NAME.into(),
            owner_phone: Some(PHONE.into()),
            owner_id_number: None,
            door_plate_photo: None,
            flags: Default::default(),
            last_visit_at: None,
            review: Vec::new(),
        }
    }

    /// What of the test's values stands in clear in `dir`.
    fn in_clear(dir: &Path) -> Vec<&'static str> {
        crate::vault::found_in_folder(
            dir,
            &[
                ("name", NAME.as_bytes()),
                ("phone", PHONE.as_bytes()),
                ("draft name", DRAFT_NAME.as_bytes()),
                ("draft ID number", DRAFT_ID_NUMBER.as_bytes()),
                ("photo", JPEG_MARKER),
                ("header", PLAIN_HEADER),
            ],
        )
        .unwrap()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn all_rows(store: &Store) -> Vec<crate::model::Projection> {
        store
            .list(&ListQuery {
                include_deleted: true,
                limit: Some(10_000),
                ..ListQuery::default()
            })
            .unwrap()
    }

    #[test]
    fn the_encrypted_store_opens_with_its_key_only_and_shows_nothing_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.sqlite");
        let key = DataKey::generate();
        let jpeg: Vec<u8> = [JPEG_MARKER, b" of the door plate"].concat();
        {
            let mut store = Store::open_encrypted(&path, actor(), &key).unwrap();
            store
                .insert(
                    household(),
                    &Author::new("wangfang", 1_795_000_000_000),
                    jiff::civil::date(2026, 11, 22),
                )
                .unwrap();
            store
                .put_downloaded_photo(&crate::media::sha256_hex(&jpeg), &jpeg)
                .unwrap();
            // A resident form left half typed (#11: drafts were in the web
            // view's storage, in clear).
            let draft = serde_json::json!({ "name": DRAFT_NAME, "id_number": DRAFT_ID_NUMBER });
            store.save_draft("resident.new.1", &draft, 1).unwrap();
            assert_eq!(store.draft("resident.new.1").unwrap().unwrap().value, draft);
            // Search still works on the encrypted pages.
            let hits = store.search(NAME, &ListQuery::default()).unwrap();
            assert_eq!(hits.len(), 1);
            // The log (still open) is encrypted too.
            assert_eq!(in_clear(dir.path()), Vec::<&str>::new());
        }
        assert_eq!(in_clear(dir.path()), Vec::<&str>::new());

        let store = Store::open_encrypted(&path, actor(), &key).unwrap();
        assert_eq!(store.search(NAME, &ListQuery::default()).unwrap().len(), 1);
        let kept = store.draft("resident.new.1").unwrap().unwrap();
        assert_eq!(kept.value["id_number"], DRAFT_ID_NUMBER);
        drop(store);
        let wrong = Store::open_encrypted(&path, actor(), &DataKey::generate()).unwrap_err();
        assert!(matches!(wrong, StoreError::WrongKey), "{wrong:?}");
        // Without a key the file is no database at all.
        assert!(Store::open(&path, actor()).is_err());
        // Neither attempt changed it.
        let store = Store::open_encrypted(&path, actor(), &key).unwrap();
        assert_eq!(all_rows(&store).len(), 1);

        // The search above finds what a store in clear holds: the same
        // draft in a plain store stands in its bytes.
        let plain = tempfile::tempdir().unwrap();
        let mut store = Store::open(plain.path().join("device.sqlite"), actor()).unwrap();
        let draft = serde_json::json!({ "name": DRAFT_NAME, "id_number": DRAFT_ID_NUMBER });
        store.save_draft("resident.new.1", &draft, 1).unwrap();
        drop(store);
        let found = in_clear(plain.path());
        assert!(found.contains(&"draft name"), "{found:?}");
        assert!(found.contains(&"draft ID number"), "{found:?}");
    }

    #[test]
    fn stores_written_in_clear_by_earlier_versions_are_encrypted_with_nothing_lost() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut checked = 0;
        for entry in std::fs::read_dir(&fixtures).unwrap() {
            let fixture = entry.unwrap().path().join("device.sqlite");
            if !fixture.exists() {
                continue;
            }
            let dir = tempfile::tempdir().unwrap();
            let plain = dir.path().join("plain.sqlite");
            let path = dir.path().join("device.sqlite");
            std::fs::copy(&fixture, &plain).unwrap();
            std::fs::copy(&fixture, &path).unwrap();
            let expected = all_rows(&Store::open(&plain, actor()).unwrap());
            let expected_outbox = Store::open(&plain, actor()).unwrap().outbox(1000).unwrap();
            assert!(!expected.is_empty(), "{}", fixture.display());

            // A migration killed before its rename left a half-written twin.
            std::fs::write(twin_of(&path), b"half an export").unwrap();
            let key = DataKey::generate();
            let store = Store::open_encrypted(&path, actor(), &key).unwrap();
            assert_eq!(all_rows(&store), expected, "{}", fixture.display());
            assert_eq!(store.outbox(1000).unwrap(), expected_outbox);
            // Full-text search came across: every title finds its record.
            for row in expected
                .iter()
                .filter(|p| !p.deleted && p.title.chars().count() >= 3)
            {
                let hits = store.search(&row.title, &ListQuery::default()).unwrap();
                assert!(hits.iter().any(|h| h.id == row.id), "{}", row.title);
            }
            let kinds: Vec<RecordKind> = expected.iter().map(|p| p.kind).collect();
            assert!(kinds.contains(&RecordKind::Household));
            drop(store);
            assert!(!twin_of(&path).exists());
            assert!(!is_plain(&path).unwrap(), "{}", fixture.display());
            let head = std::fs::read(&path).unwrap();
            assert!(!contains(&head, PLAIN_HEADER));
            // Reopened: already encrypted, the same rows.
            let store = Store::open_encrypted(&path, actor(), &key).unwrap();
            assert_eq!(all_rows(&store), expected);
            checked += 1;
        }
        assert!(checked >= 2, "the committed fixtures were found");
    }
}
