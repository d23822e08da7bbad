//! The PIN lock: choosing a PIN, unlocking, changing it, and the idle
//! lock. The keys, the PIN's rules and the throttle are core's
//! (`gridwork_core::vault`); this is glue and the lock's state.
//!
//! - At the first sign-in a data key is made
//!   ([`crate::keys::key_for_sign_in`]); the
//!   store is created encrypted with it and the session sealed with it.
//!   The UI then asks for a PIN (`set_pin`), which wraps the key into
//!   `keys.json`. A device an earlier version signed in keeps its plain
//!   store until then; `set_pin` writes the key file first and then
//!   encrypts the store in place and seals the session, so a crash between
//!   the two is finished by the next unlock.
//! - A start with a PIN set is locked: nothing is open until `unlock`
//!   unwraps the key and opens the sealed session.
//! - The idle lock (`lock`, called by the UI after its idle timeout) keeps
//!   the key and the store open, so sync and the patrol's GPS track go on
//!   underneath; every command but the track's answers `locked` until the
//!   PIN is typed again (checked and throttled like at start).
//! - After too many wrong PINs the PIN's wrap is gone: a fresh password
//!   login is needed. Its answer carries the server's recovery secret,
//!   which unwraps the same data key (core's `vault::sign_in`): the store,
//!   the outbox and the photos are kept and the worker chooses a new PIN.
//!   A device enrolled before the server kept secrets starts from an empty
//!   store instead; the PIN screen after that sign-in says which it was
//!   (`PinView::recovered`, `PinView::data_lost`).
//! - Where the platform has a keystore (`crate::keystore`, held in
//!   `Keys::keystore` from the start of the app), the PIN's wrap also
//!   needs a device secret kept there: a copy of the data folder does not
//!   open with the PIN. A keystore that was reset is met like a lock-out
//!   (`PinView::keystore_lost`): a password login recovers the same data.
//!   `PinView::keystore` tells the About screen which keystore, or none.
//! - The throttle's time comes from `Keys::clock` (core's `vault::Clock`),
//!   which tests move by hand.

use gridwork_core::vault::pin::Pin;
use gridwork_core::vault::sign_in::SignInKey;
use std::sync::Arc;

use gridwork_core::vault::{DataKey, KeyFile, Keystore, VaultError};
use serde::Serialize;
use tauri::State;

use crate::errors::{CommandError, ErrorCode};
use crate::state::{AppState, lock, open_session, read_plain_saved, read_saved, write_saved};

/// The lock's state for the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PinView {
    /// A PIN is set on this device.
    pub set: bool,
    /// The app is open: no PIN is asked for now.
    pub unlocked: bool,
    /// Wrong PINs in a row.
    pub failures: u32,
    /// Milliseconds until the next try is allowed.
    #[ts(type = "number")]
    pub wait_ms: i64,
    /// Too many wrong PINs: sign in to the server again.
    pub locked_out: bool,
    /// Wrong PINs left before the lock-out.
    pub tries_left: u32,
    /// The last sign-in got the data key back after a lock-out: the data
    /// is kept; a new PIN is chosen.
    pub recovered: bool,
    /// The last sign-in could not get the data key back (an enrolment made
    /// before the server kept recovery secrets, or one it no longer hands
    /// on): the data from before is gone.
    pub data_lost: bool,
    /// The platform keystore the app uses (`secret-service`,
    /// `apple-keychain`, `windows-credential-manager`): a PIN chosen or
    /// typed here wraps the data key with its device secret too, so a copy
    /// of the data folder does not open with the PIN alone. `None`: there
    /// is none here, and the PIN alone protects the data (a copy of the
    /// folder can be tried PIN by PIN offline).
    pub keystore: Option<String>,
    /// The lock-out came from the keystore losing the device secret (it
    /// was reset), not from wrong PINs; a sign-in keeps the data.
    pub keystore_lost: bool,
}

/// The platform keystore, if the app has one (not held locked: the
/// keystore's calls can take a moment).
fn keystore(state: &AppState) -> Option<Arc<dyn Keystore>> {
    lock(&state.keys).keystore.clone()
}

/// The throttle's time now.
fn now_ms(state: &AppState) -> i64 {
    lock(&state.keys).clock.now_ms()
}

pub(crate) fn view(state: &AppState) -> Result<PinView, CommandError> {
    let file = KeyFile::load(&state.data_dir).map_err(CommandError::vault)?;
    let now = now_ms(state);
    let keys = lock(&state.keys);
    let status = file.map(|f| f.status(now));
    let set = status.as_ref().is_some_and(|s| s.set);
    Ok(PinView {
        set,
        unlocked: !set || (keys.key().is_some() && !keys.idle_locked()),
        failures: status.as_ref().map_or(0, |s| s.failures),
        wait_ms: status.as_ref().map_or(0, |s| s.wait_ms),
        locked_out: status.as_ref().is_some_and(|s| s.locked_out),
        tries_left: status.as_ref().map_or(0, |s| s.tries_left),
        recovered: !set && keys.after_sign_in == Some(SignInKey::Recovered),
        data_lost: !set && keys.after_sign_in == Some(SignInKey::Replaced),
        keystore: keys.keystore().map(|k| k.kind().to_string()),
        keystore_lost: status.as_ref().is_some_and(|s| s.keystore_lost),
    })
}

/// Whether a PIN is set and whether the app is unlocked.
#[tauri::command]
pub fn pin_status(state: State<'_, AppState>) -> Result<PinView, CommandError> {
    view(&state)
}

/// Chooses the first PIN (after the first sign-in, or after a lock-out
/// and a fresh sign-in). A device an earlier version signed in gets its
/// store encrypted and its session sealed now.
#[tauri::command]
pub fn set_pin(state: State<'_, AppState>, pin: String) -> Result<PinView, CommandError> {
    set_pin_in(&state, pin)
}

pub(crate) fn set_pin_in(state: &AppState, pin: String) -> Result<PinView, CommandError> {
    let pin = Pin::choose(&pin, None).map_err(|e| CommandError::vault(e.into()))?;
    let mut file = match KeyFile::load(&state.data_dir).map_err(CommandError::vault)? {
        Some(file) if file.status(now_ms(state)).set => {
            return Err(CommandError::code(ErrorCode::PinAlreadySet));
        }
        Some(file) => file,
        None => KeyFile::new(&state.data_dir),
    };
    let (held, kdf) = {
        let keys = lock(&state.keys);
        (keys.key().cloned(), keys.kdf)
    };
    let keystore = keystore(state);
    let keystore = keystore.as_deref();
    match held {
        Some(key) => file
            .set_pin(&key, &pin, kdf, keystore)
            .map_err(CommandError::vault)?,
        None => {
            // An earlier version's plain session: the key file first, so a
            // crash before the store is encrypted is finished by unlock.
            if read_plain_saved(&state.data_dir).is_none() {
                return Err(CommandError::not_signed_in());
            }
            let key = DataKey::generate();
            file.set_pin(&key, &pin, kdf, keystore)
                .map_err(CommandError::vault)?;
            open_with_key(state, key)?;
        }
    }
    view(state)
}

/// Opens the session sealed with `key` (or an earlier version's plain
/// one, which is sealed now: its store is encrypted as it opens) and
/// holds the key.
fn open_with_key(state: &AppState, key: DataKey) -> Result<(), CommandError> {
    let mut guard = state.session();
    *guard = None;
    let saved = read_saved(&state.data_dir, &key).or_else(|| read_plain_saved(&state.data_dir));
    if let Some(saved) = saved {
        write_saved(&state.data_dir, &saved, &key)?;
        *guard = Some(open_session(&state.data_dir, saved, Some(&key))?);
    }
    lock(&state.keys).hold(key);
    Ok(())
}

/// Unlocks with the PIN: at start, opens the sealed session; after the
/// idle lock, lifts it. A wrong PIN is counted and throttled.
#[tauri::command]
pub fn unlock(state: State<'_, AppState>, pin: String) -> Result<PinView, CommandError> {
    unlock_in(&state, pin)
}

pub(crate) fn unlock_in(state: &AppState, pin: String) -> Result<PinView, CommandError> {
    let pin = Pin::parse(&pin).map_err(|e| CommandError::vault(e.into()))?;
    let mut file = KeyFile::load(&state.data_dir)
        .map_err(CommandError::vault)?
        .ok_or_else(|| CommandError::vault(VaultError::NoPin))?;
    let key = file
        .unlock(&pin, now_ms(state), keystore(state).as_deref())
        .map_err(CommandError::vault)?;
    let open = state.session().is_some() && lock(&state.keys).key().is_some();
    if open {
        lock(&state.keys).hold(key);
    } else {
        open_with_key(state, key)?;
    }
    view(state)
}

/// Changes the PIN: the old one is checked (and throttled) like an
/// unlock; the same data key is wrapped by the new one.
#[tauri::command]
pub fn change_pin(
    state: State<'_, AppState>,
    old_pin: String,
    new_pin: String,
) -> Result<PinView, CommandError> {
    change_pin_in(&state, old_pin, new_pin)
}

fn change_pin_in(
    state: &AppState,
    old_pin: String,
    new_pin: String,
) -> Result<PinView, CommandError> {
    let new_pin = Pin::choose(&new_pin, None).map_err(|e| CommandError::vault(e.into()))?;
    let old_pin = Pin::parse(&old_pin).map_err(|e| CommandError::vault(e.into()))?;
    let mut file = KeyFile::load(&state.data_dir)
        .map_err(CommandError::vault)?
        .ok_or_else(|| CommandError::vault(VaultError::NoPin))?;
    let keystore = keystore(state);
    let key = file
        .unlock(&old_pin, now_ms(state), keystore.as_deref())
        .map_err(CommandError::vault)?;
    let kdf = lock(&state.keys).kdf;
    file.set_pin(&key, &new_pin, kdf, keystore.as_deref())
        .map_err(CommandError::vault)?;
    view(state)
}

/// Locks the app (the UI's idle timeout). Sync and the patrol's track go
/// on; nothing else answers until `unlock`. Without a PIN it does nothing.
#[tauri::command]
pub fn lock_app(state: State<'_, AppState>) -> Result<PinView, CommandError> {
    lock_app_in(&state)
}

fn lock_app_in(state: &AppState) -> Result<PinView, CommandError> {
    let current = view(state)?;
    if current.set {
        let mut keys = lock(&state.keys);
        if keys.key().is_some() {
            keys.idle_locked = true;
        }
    }
    view(state)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    use gridwork_core::doc::Author;
    use gridwork_core::fieldwork::forms::blank_household;
    use gridwork_core::media::sha256_hex;
    use gridwork_core::model::{Household, RecordKind, Role};
    use gridwork_core::store::{ListQuery, Store};
    use gridwork_core::sync::http::{Login, LoginUser};
    use gridwork_core::sync::trust::Trust;

    use super::*;
    use crate::state::SavedSession;

    const NAME: &str = "欧阳婉清";
    const PHONE: &str = "13912345678";
    const ID_NUMBER: &str = "11010519491231002X";
    const TOKEN: &str = "token-9f8e7d6c5b4a";
    const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0 door plate";

    pub(crate) fn saved() -> SavedSession {
        SavedSession {
            server_url: "http://127.0.0.1:9".into(),
            trust: Trust::default(),
            login: Login {
                token: TOKEN.into(),
                device_id: "device-1".into(),
                actor_id: hex::encode([5u8; 16]),
                user: LoginUser {
                    id: "gw-a".into(),
                    name: "王芳".into(),
                    role: Role::GridWorker,
                    grid: "g1".into(),
                    department: None,
                },
                grids: Vec::new(),
                recovery_secret: None,
            },
        }
    }

    pub(crate) fn open(dir: &Path) -> AppState {
        let state = AppState::open(dir.to_path_buf()).unwrap();
        lock(&state.keys).kdf = gridwork_core::vault::KdfParams::FAST_FOR_TESTS;
        state
    }

    fn save_records(store: &mut Store) {
        let mut h: Household = blank_household("g1", "gw-a", 1_000);
        h.address.room = "801".into();
        h.owner_name = NAME.into();
        h.owner_phone = Some(PHONE.into());
        h.owner_id_number = Some(ID_NUMBER.into());
        store
            .insert(
                h,
                &Author::new("gw-a", 1_000),
                jiff::civil::date(2026, 12, 4),
            )
            .unwrap();
        store.put_downloaded_photo(&sha256_hex(JPEG), JPEG).unwrap();
    }

    /// [`save_records`] in the signed-in session's store.
    pub(crate) fn save_records_in(state: &AppState) {
        state
            .with_session(|s| {
                save_records(&mut s.store);
                Ok(())
            })
            .unwrap();
    }

    pub(crate) fn households(state: &AppState) -> Vec<String> {
        state
            .with_session(|s| {
                let q = ListQuery {
                    kind: Some(RecordKind::Household),
                    ..ListQuery::default()
                };
                Ok(s.store
                    .list(&q)
                    .unwrap()
                    .into_iter()
                    .map(|p| p.title)
                    .collect())
            })
            .unwrap()
    }

    pub(crate) fn assert_nothing_in_clear(dir: &Path) {
        let found = gridwork_core::vault::found_in_folder(
            dir,
            &[
                ("name", NAME.as_bytes()),
                ("phone", PHONE.as_bytes()),
                ("ID number", ID_NUMBER.as_bytes()),
                ("token", TOKEN.as_bytes()),
                // The marker with the photo's header: the bare 3 bytes turn
                // up by chance about once in 16 MiB of random bytes.
                ("photo", JPEG),
                ("SQLite header", b"SQLite format 3".as_slice()),
            ],
        )
        .unwrap();
        assert!(
            found.is_empty(),
            "the data folder holds in clear: {found:?}"
        );
    }

    #[test]
    fn a_signed_in_device_keeps_nothing_in_clear_and_opens_with_its_pin_only() {
        let dir = tempfile::tempdir().unwrap();
        let state = open(dir.path());
        state.sign_in(saved()).unwrap();
        assert!(!view(&state).unwrap().set, "a PIN is chosen after sign-in");
        let refused = set_pin_in(&state, "123456".into()).unwrap_err();
        assert_eq!(refused.code, ErrorCode::PinRun);
        set_pin_in(&state, "135792".into()).unwrap();
        save_records_in(&state);
        assert_nothing_in_clear(dir.path());

        // The idle lock: the UI is refused, the patrol track is not.
        let locked = lock_app_in(&state).unwrap();
        assert!(!locked.unlocked);
        assert_eq!(
            state.with_session(|_| Ok(())).unwrap_err().code,
            ErrorCode::Locked
        );
        assert!(state.with_session_while_locked(|_| Ok(())).is_ok());
        assert_eq!(
            unlock_in(&state, "246813".into()).unwrap_err().code,
            ErrorCode::PinWrong
        );
        assert!(unlock_in(&state, "135792".into()).unwrap().unlocked);
        assert_eq!(households(&state).len(), 1);
        drop(state);
        assert_nothing_in_clear(dir.path());

        // A restart: locked, nothing open until the right PIN.
        let state = open(dir.path());
        assert!(!view(&state).unwrap().unlocked);
        assert_eq!(
            state.with_session(|_| Ok(())).unwrap_err().code,
            ErrorCode::NotSignedIn
        );
        for _ in 0..2 {
            assert_eq!(
                unlock_in(&state, "246813".into()).unwrap_err().code,
                ErrorCode::PinWrong
            );
        }
        // The third wrong PIN makes the next try wait, even the right one.
        let third = unlock_in(&state, "246813".into()).unwrap_err();
        assert_eq!(third.code, ErrorCode::PinWrongWait);
        assert!(
            matches!(third.params.get("wait_s"), Some(gridwork_core::problem::Param::Number(s)) if *s > 0.0),
            "{third:?}"
        );
        assert_eq!(
            unlock_in(&state, "135792".into()).unwrap_err().code,
            ErrorCode::PinThrottled
        );
        assert!(view(&state).unwrap().wait_ms > 0);
        assert!(state.session().is_none(), "a wrong PIN never opens it");
        // The store does not open without the key either.
        let plain = Store::open(
            dir.path().join(crate::state::STORE_FILE),
            [5u8; 16][..].into(),
        );
        assert!(plain.is_err());
    }

    #[test]
    fn a_device_an_earlier_version_signed_in_is_encrypted_when_it_chooses_a_pin() {
        let dir = tempfile::tempdir().unwrap();
        // What an earlier version left: a plain store and session.json.
        {
            let mut store = Store::open(
                dir.path().join(crate::state::STORE_FILE),
                [5u8; 16][..].into(),
            )
            .unwrap();
            save_records(&mut store);
        }
        std::fs::write(
            dir.path().join("session.json"),
            serde_json::to_vec(&saved()).unwrap(),
        )
        .unwrap();
        let state = open(dir.path());
        assert_eq!(households(&state).len(), 1, "it works as before");
        set_pin_in(&state, "135792".into()).unwrap();
        assert!(!dir.path().join("session.json").exists());
        assert_eq!(households(&state).len(), 1, "nothing is lost");
        drop(state);
        assert_nothing_in_clear(dir.path());
        let state = open(dir.path());
        unlock_in(&state, "135792".into()).unwrap();
        assert_eq!(households(&state).len(), 1);
        let changed = change_pin_in(&state, "135792".into(), "246813".into()).unwrap();
        assert!(changed.set);
        drop(state);
        let state = open(dir.path());
        assert_eq!(
            unlock_in(&state, "135792".into()).unwrap_err().code,
            ErrorCode::PinWrong
        );
        unlock_in(&state, "246813".into()).unwrap();
        assert_eq!(households(&state).len(), 1);
    }
}

/// The lock-out and the recovery against a real `gridwork-server`.
#[cfg(test)]
pub(crate) mod recovery_tests {
    use gridwork_core::model::Role;
    use gridwork_core::sync::http::login_trusting;
    use gridwork_core::sync::trust::Trust;
    use gridwork_core::vault::Clock;
    use gridwork_core::vault::pin::{MAX_FAILURES, wait_after};
    use gridwork_tests::{PASSWORD, Server, community};

    use super::tests::{households, open, save_records_in};
    use super::*;
    use crate::state::SavedSession;

    const PHOTO: &[u8] = b"\xFF\xD8\xFF\xE0 door plate";

    /// A password login as the app's `login` command makes it.
    pub(crate) fn sign_in(state: &AppState, server: &Server, user: &str) -> SignInKey {
        let named = crate::keys::recovery_device(&state.data_dir).unwrap();
        let login = tauri::async_runtime::block_on(login_trusting(
            &server.url(),
            &Trust::default(),
            user,
            PASSWORD,
            "平板",
            named.as_deref(),
        ))
        .unwrap();
        state
            .sign_in(SavedSession {
                server_url: server.url(),
                trust: Trust::default(),
                login,
            })
            .unwrap()
    }

    /// The app restarted, with a clock the test moves.
    fn restart(dir: &std::path::Path, clock: &Clock) -> AppState {
        let state = open(dir);
        lock(&state.keys).clock = clock.clone();
        state
    }

    pub(crate) fn kept(state: &AppState) -> (usize, u64, bool) {
        let titles = households(state);
        state
            .with_session(|s| {
                let sha = gridwork_core::media::sha256_hex(PHOTO);
                Ok((
                    titles.len(),
                    s.store.pending_count().unwrap(),
                    s.store.photo_bytes(&sha).unwrap().as_deref() == Some(PHOTO),
                ))
            })
            .unwrap()
    }

    #[test]
    fn ten_wrong_pins_then_a_password_login_keep_the_data_and_only_the_new_pin_opens_it() {
        let server = Server::start().unwrap();
        let worker = community()
            .users
            .iter()
            .find(|u| u.role == Role::GridWorker)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::manual(1_779_000_000_000);
        let state = restart(dir.path(), &clock);
        assert_eq!(sign_in(&state, &server, &worker.id), SignInKey::New);
        set_pin_in(&state, "135792".into()).unwrap();
        save_records_in(&state);
        assert_eq!(kept(&state), (1, 1, true));
        drop(state);

        // Ten wrong PINs after a restart, each after its wait (the clock
        // moves, nothing sleeps).
        let state = restart(dir.path(), &clock);
        for n in 1..=MAX_FAILURES {
            let e = unlock_in(&state, "246813".into()).unwrap_err();
            let expected = match n {
                MAX_FAILURES => ErrorCode::PinLockedOut,
                n if wait_after(n) > 0 => ErrorCode::PinWrongWait,
                _ => ErrorCode::PinWrong,
            };
            assert_eq!(e.code, expected, "wrong PIN {n}");
            clock.advance(wait_after(n));
        }
        let locked_out = view(&state).unwrap();
        assert!(locked_out.locked_out && !locked_out.set, "{locked_out:?}");
        assert_eq!(
            unlock_in(&state, "135792".into()).unwrap_err().code,
            ErrorCode::PinLockedOut,
            "not even the right PIN opens it now"
        );

        // A fresh password login gets the key back: the data is kept.
        assert_eq!(sign_in(&state, &server, &worker.id), SignInKey::Recovered);
        let after = view(&state).unwrap();
        assert!(
            after.recovered && !after.data_lost && !after.set,
            "{after:?}"
        );
        assert_eq!(kept(&state), (1, 1, true));
        set_pin_in(&state, "246813".into()).unwrap();
        drop(state);

        let state = restart(dir.path(), &clock);
        assert_eq!(
            unlock_in(&state, "135792".into()).unwrap_err().code,
            ErrorCode::PinWrong,
            "the old PIN opens nothing"
        );
        assert!(unlock_in(&state, "246813".into()).unwrap().unlocked);
        assert_eq!(kept(&state), (1, 1, true));
    }
}
