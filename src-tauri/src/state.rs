//! The app's state: where its files live, the signed-in
//! session with its local store, and the sync status the UI shows.
//!
//! The session (server address, token, user and grids) is kept sealed
//! with the data key as `session.sealed` beside the encrypted store
//! `device.sqlite` and the key file `keys.json` in the data directory: the
//! app's data dir, or `GRIDWORK_DATA_DIR` when set (tests). An earlier
//! version kept it in clear as `session.json`; that device keeps working
//! on its plain store until the worker chooses a PIN, which encrypts both
//! (see `lock.rs`).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use automerge::ActorId;
use gridwork_core::fieldwork::Worker;
use gridwork_core::fieldwork::patrols::HeldTracks;
use gridwork_core::fieldwork::sign_in::{HandOver, hand_over};
use gridwork_core::store::Store;
use gridwork_core::sync::blobs::BlobTransport;
use gridwork_core::sync::http::{HttpTransport, Login};
use gridwork_core::sync::trust::Trust;
use gridwork_core::vault::sign_in::SignInKey;
use gridwork_core::vault::{DataKey, KeyFile};
use serde::{Deserialize, Serialize};

use crate::errors::CommandError;
use crate::keys::Keys;
use crate::status::SyncStatus;

/// What is kept on disk about the signed-in device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedSession {
    pub server_url: String,
    /// How the device trusts its server, as set up at login.
    #[serde(default)]
    pub trust: Trust,
    pub login: Login,
}

/// A signed-in device: its session and its open store.
#[derive(Debug)]
pub struct Session {
    pub saved: SavedSession,
    pub store: Store,
    pub transport: HttpTransport,
    pub blobs: BlobTransport,
    /// GPS fixes of running patrols not saved yet (core's `HeldTracks`).
    pub track: HeldTracks,
}

impl SavedSession {
    /// The signed-in user as core's calls take them: who, in which role
    /// and grids, on which device (all from the server's sign-in answer).
    pub fn worker(&self) -> Worker<'_> {
        Worker {
            user: &self.login.user.id,
            role: self.login.user.role,
            grid: &self.login.user.grid,
            device: &self.login.device_id,
            grids: &self.login.grids,
        }
    }
}

impl Session {
    /// The signed-in user's id.
    pub fn user(&self) -> &str {
        &self.saved.login.user.id
    }
}

/// Everything the commands share.
#[derive(Debug)]
pub struct AppState {
    pub data_dir: PathBuf,
    session: Mutex<Option<Session>>,
    pub status: Mutex<SyncStatus>,
    /// Held for the whole of a sync, so two never run at once.
    pub sync_lock: tokio::sync::Mutex<()>,
    /// The data key while the app runs, and the idle lock (`lock.rs`).
    pub keys: Mutex<Keys>,
}

impl AppState {
    /// The state for `data_dir`. With a PIN set it starts locked: the
    /// session opens at `unlock`. A session an earlier version saved in
    /// clear opens at once, on its plain store, until a PIN is chosen.
    pub fn open(data_dir: PathBuf) -> Result<AppState, String> {
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let has_keys = KeyFile::load(&data_dir)
            .map_err(|e| e.to_string())?
            .is_some();
        let session = match read_plain_saved(&data_dir) {
            Some(saved) if !has_keys => {
                Some(open_session(&data_dir, saved, None).map_err(|e| e.to_string())?)
            }
            _ => None,
        };
        Ok(AppState {
            data_dir,
            session: Mutex::new(session),
            status: Mutex::new(SyncStatus::default()),
            sync_lock: tokio::sync::Mutex::new(()),
            keys: Mutex::new(Keys::default()),
        })
    }

    /// The session, locked; `None` before sign-in.
    pub fn session(&self) -> MutexGuard<'_, Option<Session>> {
        lock(&self.session)
    }

    /// Runs `f` with the signed-in session, or fails with `not_signed_in`.
    pub fn with_session<T>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        if lock(&self.keys).idle_locked() {
            return Err(CommandError::locked());
        }
        self.with_session_while_locked(f)
    }

    /// [`AppState::with_session`], also while the app is locked: for the
    /// patrol's GPS track, which goes on under the lock screen.
    pub fn with_session_while_locked<T>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        let mut guard = self.session();
        match guard.as_mut() {
            Some(session) => f(session),
            None => Err(CommandError::not_signed_in()),
        }
    }

    /// Opens another connection to the session's store (a sync's photo
    /// pass), with the data key when it is encrypted.
    pub fn open_store(&self, actor: ActorId) -> Result<Store, CommandError> {
        let key = lock(&self.keys).key().cloned();
        let path = self.data_dir.join(STORE_FILE);
        match key {
            Some(key) => Store::open_encrypted(path, actor, &key),
            None => Store::open(path, actor),
        }
        .map_err(CommandError::store)
    }

    /// Saves a new session and opens its store. Another user than the
    /// signed-in one is refused while the store holds unsent work, and
    /// otherwise starts from an empty store (core's
    /// `fieldwork::sign_in::hand_over` holds the rule and says why).
    pub fn sign_in(&self, mut saved: SavedSession) -> Result<SignInKey, CommandError> {
        let mut guard = self.session();
        // With no session open there is no store open either (the app
        // opens the saved session's store at start, or fails to start).
        let plan = match guard.as_ref() {
            Some(session) => hand_over(&session.store, session.user(), &saved.login.user.id)
                .map_err(CommandError::work)?,
            None => HandOver::Keep,
        };
        // The recovery secret wraps the key and is never kept.
        let secret = saved.login.recovery_secret.take();
        let (key, how) = crate::keys::key_for_sign_in(
            &self.keys,
            &self.data_dir,
            secret.as_ref().map(|s| (saved.login.device_id.as_str(), s)),
        )?;
        let fresh = matches!(how, SignInKey::New | SignInKey::Replaced);
        let store_path = self.data_dir.join(STORE_FILE);
        // The old store closes before the new one opens on the same file.
        *guard = None;
        // A fresh key cannot open a store encrypted before (its key was
        // never kept, or was destroyed): that store is random bytes.
        let unreadable = fresh
            && store_path.exists()
            && !Store::is_plain_file(&store_path).map_err(CommandError::store)?;
        if plan == HandOver::Erase || unreadable {
            Store::erase(&store_path).map_err(CommandError::store)?;
        }
        write_saved(&self.data_dir, &saved, &key)?;
        *guard = Some(open_session(&self.data_dir, saved, Some(&key))?);
        lock(&self.keys).hold(key);
        Ok(how)
    }
}

/// Where an earlier version kept the session in clear.
const PLAIN_SESSION_FILE: &str = "session.json";
/// The session, sealed with the data key.
const SESSION_FILE: &str = "session.sealed";
/// The local store, in the data directory.
pub const STORE_FILE: &str = "device.sqlite";

/// The session an earlier version saved in clear, if any.
pub fn read_plain_saved(dir: &Path) -> Option<SavedSession> {
    let bytes = std::fs::read(dir.join(PLAIN_SESSION_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The sealed session, if any (`None` also when it does not open).
pub fn read_saved(dir: &Path, key: &DataKey) -> Option<SavedSession> {
    let bytes = key.open_file(&dir.join(SESSION_FILE)).ok()??;
    serde_json::from_slice(&bytes).ok()
}

/// Seals the session to the data directory, and removes a copy in clear
/// an earlier version left.
pub fn write_saved(dir: &Path, saved: &SavedSession, key: &DataKey) -> Result<(), CommandError> {
    let json = gridwork_core::vault::Zeroizing::new(
        serde_json::to_vec(saved).map_err(CommandError::internal)?,
    );
    key.seal_file(&dir.join(SESSION_FILE), &json)
        .map_err(CommandError::internal)?;
    match std::fs::remove_file(dir.join(PLAIN_SESSION_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CommandError::internal(e)),
        _ => Ok(()),
    }
}

/// Opens the session's store: encrypted with `key`, or the plain store of
/// an earlier version when there is no key yet.
pub fn open_session(
    dir: &Path,
    saved: SavedSession,
    key: Option<&DataKey>,
) -> Result<Session, CommandError> {
    let actor = hex::decode(&saved.login.actor_id)
        .map(ActorId::from)
        .map_err(CommandError::internal)?;
    let path = dir.join(STORE_FILE);
    let store = match key {
        Some(key) => Store::open_encrypted(path, actor, key),
        None => Store::open(path, actor),
    }
    .map_err(CommandError::store)?;
    let transport = HttpTransport::trusting(&saved.server_url, &saved.trust, &saved.login.token)
        .map_err(|e| CommandError::transport(&e))?;
    let blobs = BlobTransport::trusting(&saved.server_url, &saved.trust, &saved.login.token)
        .map_err(|e| CommandError::transport(&e))?;
    Ok(Session {
        saved,
        store,
        transport,
        blobs,
        track: HeldTracks::default(),
    })
}

/// Locks a mutex; a panic while it was held left nothing half-written
/// (every store write is one transaction), so the data is still good.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use gridwork_core::doc::Author;
    use gridwork_core::fieldwork::forms::blank_household;
    use gridwork_core::model::{Household, RecordKind, Role};
    use gridwork_core::store::ListQuery;
    use gridwork_core::sync::http::LoginUser;

    use super::*;

    fn saved(user: &str, actor: u8) -> SavedSession {
        SavedSession {
            server_url: "http://127.0.0.1:9".into(),
            trust: Trust::default(),
            login: Login {
                token: format!("token-{user}"),
                device_id: format!("device-{user}"),
                actor_id: hex::encode([actor; 16]),
                user: LoginUser {
                    id: user.into(),
                    name: user.into(),
                    role: Role::GridWorker,
                    grid: "g1".into(),
                    department: None,
                },
                grids: Vec::new(),
                recovery_secret: None,
            },
        }
    }

    fn households(state: &AppState) -> usize {
        state
            .with_session(|s| {
                let q = ListQuery {
                    kind: Some(RecordKind::Household),
                    ..ListQuery::default()
                };
                Ok(s.store.list(&q).unwrap().len())
            })
            .unwrap()
    }

    #[test]
    fn another_user_waits_for_the_unsent_work_and_then_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::open(dir.path().to_path_buf()).unwrap();
        state.sign_in(saved("gw-a", 1)).unwrap();
        state
            .with_session(|s| {
                let mut h: Household = blank_household("g1", "gw-a", 1_000);
                h.address.room = "801".into();
                let today = jiff::civil::date(2026, 12, 4);
                s.store
                    .insert(h, &Author::new("gw-a", 1_000), today)
                    .unwrap();
                Ok(())
            })
            .unwrap();

        // gw-b may not sign in over gw-a's unsent household.
        let refused = state.sign_in(saved("gw-b", 2)).unwrap_err();
        assert_eq!(refused.code, crate::errors::ErrorCode::PreviousUserUnsent);
        assert_eq!(
            refused.params.get("user"),
            Some(&gridwork_core::problem::Param::from("gw-a"))
        );
        assert_eq!(
            state.with_session(|s| Ok(s.user().to_string())).unwrap(),
            "gw-a"
        );
        assert_eq!(households(&state), 1, "nothing of gw-a's is touched");

        // gw-a signing in again keeps it; once sent, gw-b starts empty.
        state.sign_in(saved("gw-a", 3)).unwrap();
        assert_eq!(households(&state), 1);
        state
            .with_session(|s| {
                let sent: Vec<_> = s
                    .store
                    .outbox(100)
                    .unwrap()
                    .iter()
                    .map(|e| e.hash)
                    .collect();
                s.store.ack(&sent).unwrap();
                Ok(())
            })
            .unwrap();
        state.sign_in(saved("gw-b", 2)).unwrap();
        assert_eq!(households(&state), 0, "gw-b sees nothing of gw-a's grid");
        crate::lock::set_pin_in(&state, "135792".into()).unwrap();
        drop(state);
        let reopened = AppState::open(dir.path().to_path_buf()).unwrap();
        crate::lock::unlock_in(&reopened, "135792".into()).unwrap();
        assert_eq!(
            reopened.with_session(|s| Ok(s.user().to_string())).unwrap(),
            "gw-b"
        );
    }
}
