//! The app's data folder after a real sync of the demo grid, and after the
//! lost-device wipe: a real `gridwork-server` process with demo data, the
//! app's own state (`AppState`: sign-in, PIN, sealed session, encrypted
//! store) and core's sync client, with photos taken and uploaded.

use std::path::{Path, PathBuf};

use gridwork_core::doc::Author;
use gridwork_core::media::synthetic_photo;
use gridwork_core::model::{Household, PhotoRole, RecordKind, Resident, Role};
use gridwork_core::privacy::Protection;
use gridwork_core::store::{ListQuery, RevealEntry, Store, StoreError};
use gridwork_core::sync::blobs::sync_photos;
use gridwork_core::sync::client::{Progress, SyncClient};
use gridwork_core::sync::http::login;
use gridwork_core::vault::DataKey;
use gridwork_demo::{Demo, DemoConfig, generate};
use gridwork_tests::{PASSWORD, Server};

use crate::errors::ErrorCode;
use crate::lock::{set_pin_in, unlock_in};
use crate::state::{AppState, STORE_FILE, SavedSession, lock};

/// The demo the dashboard tests load too (made once per server binary).
const SEED: u64 = 11;
const RECORDS: usize = 1_500;
const PIN: &str = "135792";
/// A resident half typed into a form, in a draft only: no record holds
/// them (#11: drafts were in the web view's storage, in clear).
const DRAFT_NAME: &str = "司马草稿";
const DRAFT_ID_NUMBER: &str = "44010619850607123X";
const DRAFT_PHONE: &str = "13987654321";
const WRONG_PIN: &str = "246813";

/// A grid worker of the demo and a resident of their grid with a name,
/// an ID number and a phone.
fn cast(demo: &Demo) -> (&gridwork_core::model::User, &Resident) {
    demo.users
        .iter()
        .filter(|u| u.role == Role::GridWorker)
        .find_map(|u| {
            let r = demo
                .residents
                .iter()
                .find(|r| r.meta.grid == u.grid && r.id_number.is_some() && r.phone.is_some())?;
            Some((u, r))
        })
        .expect("a worker with a resident who has an ID number and a phone")
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Copies the folder `from` (recursively) into `to`.
fn copy_folder(from: &Path, to: &Path) {
    for file in files(from) {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, target).unwrap();
    }
}

/// Which of `needles` stand anywhere in the raw bytes of any file under
/// `dir`, with the file.
fn found_in_clear(dir: &Path, needles: &[(&str, Vec<u8>)]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files(dir) {
        let bytes = std::fs::read(&file).unwrap();
        for (name, needle) in needles {
            if bytes.windows(needle.len()).any(|w| w == needle.as_slice()) {
                found.push(format!("{name} in {}", file.display()));
            }
        }
    }
    found
}

/// Runs one whole sync on the session's store.
fn sync(state: &AppState) -> Progress {
    let mut session = state.session().take().expect("signed in");
    let progress = tauri::async_runtime::block_on(SyncClient::default().sync(
        &mut session.store,
        &session.transport,
        |_| {},
    ))
    .expect("the sync runs");
    *state.session() = Some(session);
    progress
}

/// Takes a camera photo into the store and puts it on `household`.
fn photo_on(state: &AppState, household: uuid::Uuid, by: &str, seed: u64) -> String {
    state
        .with_session(|s| {
            let photo = s
                .store
                .add_photo(
                    &synthetic_photo(1200, 900, seed),
                    PhotoRole::DoorPlate,
                    None,
                )
                .unwrap();
            let sha = photo.sha256.clone();
            s.store
                .update::<Household>(household, &Author::new(by, 1_000), today(), |h| {
                    h.door_plate_photo = Some(photo)
                })
                .unwrap();
            Ok(sha)
        })
        .unwrap()
}

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 12, 5)
}

#[test]
fn after_a_real_sync_of_the_demo_grid_the_data_folder_gives_nothing_away_and_the_wipe_leaves_nothing()
 {
    let server = Server::start_with_demo(SEED, RECORDS).unwrap();
    let demo = generate(&DemoConfig::with_total_records(SEED, RECORDS));
    let (worker, resident) = cast(&demo);
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("gridwork");

    // The app's first sign-in and PIN, then a real sync of the grid.
    let state = AppState::open(data.clone()).unwrap();
    let login = tauri::async_runtime::block_on(login(
        &server.url(),
        &worker.id,
        PASSWORD,
        "数据目录测试平板",
    ))
    .unwrap();
    let token = login.token.clone();
    state
        .sign_in(SavedSession {
            server_url: server.url(),
            trust: Default::default(),
            login,
        })
        .unwrap();
    set_pin_in(&state, PIN.into()).unwrap();
    let first = sync(&state);
    assert!(first.changes_received > 20, "{first:?}");

    // The synced store holds the resident in full: the search below can
    // only pass because the files are encrypted.
    let (stored, household) = state
        .with_session(|s| {
            let r = s.store.get::<Resident>(resident.meta.id).unwrap();
            let h = s
                .store
                .list(&ListQuery {
                    kind: Some(RecordKind::Household),
                    ..ListQuery::default()
                })
                .unwrap()[0]
                .id;
            Ok((r, h))
        })
        .unwrap();
    let stored = stored.expect("the resident came down");
    assert_eq!(stored.id_number, resident.id_number);
    assert_eq!(stored.phone, resident.phone);

    // A photo taken and uploaded, and one taken and not sent yet.
    let uploaded = photo_on(&state, household, &worker.id, 1);
    sync(&state);
    let photos = {
        let mut session = state.session().take().unwrap();
        let sent = tauri::async_runtime::block_on(sync_photos(&mut session.store, &session.blobs))
            .unwrap();
        *state.session() = Some(session);
        sent
    };
    assert!(photos.sent >= 1, "{photos:?}");
    let unsent = photo_on(&state, household, &worker.id, 2);
    // A reveal in the access log, not uploaded yet.
    state
        .with_session(|s| {
            let entry = RevealEntry::new(
                &worker.id,
                RecordKind::Resident,
                resident.meta.id,
                "id_number",
                Protection::S,
                1_000,
            );
            s.store.record_reveal(&entry).unwrap();
            Ok(())
        })
        .unwrap();
    // A resident form left half typed, as the app keeps it on every
    // keystroke.
    let draft = serde_json::json!({
        "name": DRAFT_NAME,
        "id_number": DRAFT_ID_NUMBER,
        "phone": DRAFT_PHONE,
    });
    state
        .with_session(|s| {
            s.store
                .save_draft(&format!("resident.new.{household}"), &draft, 1_000)
                .unwrap();
            Ok(())
        })
        .unwrap();
    let photo_heads: Vec<(String, Vec<u8>)> = state
        .with_session(|s| {
            Ok([&uploaded, &unsent]
                .iter()
                .map(|sha| {
                    let bytes = s.store.photo_bytes(sha).unwrap().expect("stored");
                    assert_eq!(&bytes[..3], b"\xFF\xD8\xFF", "a JPEG");
                    // The marker and the header after it: the bare 3
                    // bytes turn up by chance about once in 16 MiB of
                    // random bytes, which is what encrypted pages are.
                    (format!("photo {sha}"), bytes[..16].to_vec())
                })
                .collect())
        })
        .unwrap();
    let names = || -> Vec<String> {
        let mut names: Vec<String> = files(&data)
            .iter()
            .map(|f| f.strip_prefix(&data).unwrap().display().to_string())
            .collect();
        names.sort();
        names
    };
    let written = names();
    assert!(
        written.contains(&"keys.json".to_string())
            && written.contains(&"session.sealed".to_string())
            && written.contains(&STORE_FILE.to_string()),
        "{written:?}"
    );

    // Copy the folder as a thief would, the app still running.
    let copy = tempfile::tempdir().unwrap();
    copy_folder(&data, copy.path());
    let mut needles: Vec<(&str, Vec<u8>)> = vec![
        ("resident name", resident.name.as_bytes().to_vec()),
        (
            "ID number",
            resident.id_number.clone().unwrap().into_bytes(),
        ),
        ("phone", resident.phone.clone().unwrap().into_bytes()),
        ("device token", token.as_bytes().to_vec()),
        ("draft name", DRAFT_NAME.as_bytes().to_vec()),
        ("draft ID number", DRAFT_ID_NUMBER.as_bytes().to_vec()),
        ("draft phone", DRAFT_PHONE.as_bytes().to_vec()),
        ("SQLite header", b"SQLite format 3".to_vec()),
    ];
    for (name, head) in &photo_heads {
        needles.push((name.as_str(), head.clone()));
    }
    assert_eq!(found_in_clear(copy.path(), &needles), Vec::<String>::new());

    // The copy opens with the PIN's key only.
    let path = copy.path().join(STORE_FILE);
    assert!(Store::open(&path, automerge::ActorId::random()).is_err());
    assert!(matches!(
        Store::open_encrypted(&path, automerge::ActorId::random(), &DataKey::generate()),
        Err(StoreError::WrongKey)
    ));
    let thief = AppState::open(copy.path().to_path_buf()).unwrap();
    assert!(thief.session().is_none(), "nothing opens before the PIN");
    let wrong = unlock_in(&thief, WRONG_PIN.into()).unwrap_err();
    assert_eq!(wrong.code, ErrorCode::PinWrong);
    assert!(thief.session().is_none(), "a wrong PIN opens nothing");
    assert!(lock(&thief.keys).key().is_none());
    unlock_in(&thief, PIN.into()).unwrap();
    let again = thief
        .with_session(|s| Ok(s.store.get::<Resident>(resident.meta.id).unwrap()))
        .unwrap();
    assert_eq!(again.map(|r| r.name), Some(resident.name.clone()));
    let kept = thief
        .with_session(|s| Ok(s.store.drafts("resident").unwrap()))
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].value, draft);
    drop(thief);

    // Lost: the next sync sends the outbox and the app erases itself.
    // Links made before show what the wipe wrote over the small files.
    let links = tempfile::tempdir().unwrap();
    for small in ["keys.json", "session.sealed"] {
        std::fs::hard_link(data.join(small), links.path().join(small)).unwrap();
    }
    server
        .admin(&[
            "mark-lost",
            &state
                .with_session(|s| Ok(s.saved.login.device_id.clone()))
                .unwrap(),
        ])
        .unwrap();
    let last = sync(&state);
    assert!(last.wipe, "{last:?}");
    let error = tauri::async_runtime::block_on(super::erase_in(&state));
    assert_eq!(error.code, ErrorCode::DeviceWiped);
    assert_eq!(
        names(),
        Vec::<String>::new(),
        "every file the app wrote is gone"
    );
    assert!(data.is_dir(), "the folder stays for the next setup");
    for small in ["keys.json", "session.sealed"] {
        let left = std::fs::read(links.path().join(small)).unwrap();
        assert!(left.iter().all(|b| *b == 0), "{small} was overwritten");
    }
    assert!(state.session().is_none());
    assert!(lock(&state.keys).key().is_none(), "the data key is dropped");
    let out = server.admin(&["list-devices"]).unwrap();
    assert!(out.contains("wiped "), "{out}");
}
