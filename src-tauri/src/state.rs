//! The app's state: where its files live, the UI's language, the signed-in
//! session with its local store, and the sync status the UI shows.
//!
//! The session (server address, token, user and grids) is kept as
//! `session.json` beside the store `device.sqlite` in the data directory:
//! the app's data dir, or `GRIDWORK_DATA_DIR` when set (tests).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use automerge::ActorId;
use gridwork_core::store::Store;
use gridwork_core::sync::blobs::BlobTransport;
use gridwork_core::sync::http::{HttpTransport, Login};
use gridwork_core::validate::Lang;
use serde::{Deserialize, Serialize};

use crate::errors::CommandError;
use crate::sync::SyncStatus;

/// What is kept on disk about the signed-in device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedSession {
    pub server_url: String,
    pub login: Login,
}

/// A signed-in device: its session and its open store.
#[derive(Debug)]
pub struct Session {
    pub saved: SavedSession,
    pub store: Store,
    pub transport: HttpTransport,
    pub blobs: BlobTransport,
    /// GPS fixes of running patrols not saved yet (see core's
    /// `TrackBuffer`), by patrol.
    pub track: std::collections::HashMap<uuid::Uuid, gridwork_core::app_api::TrackBuffer>,
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
    lang: Mutex<Lang>,
    session: Mutex<Option<Session>>,
    pub status: Mutex<SyncStatus>,
    /// Held for the whole of a sync, so two never run at once.
    pub sync_lock: tokio::sync::Mutex<()>,
}

impl AppState {
    /// The state for `data_dir`, signed in again if a session was saved.
    pub fn open(data_dir: PathBuf) -> Result<AppState, String> {
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let session = match read_saved(&data_dir) {
            Some(saved) => Some(open_session(&data_dir, saved).map_err(|e| e.message)?),
            None => None,
        };
        Ok(AppState {
            data_dir,
            lang: Mutex::new(Lang::ZhCn),
            session: Mutex::new(session),
            status: Mutex::new(SyncStatus::default()),
            sync_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The UI's language, for messages.
    pub fn lang(&self) -> Lang {
        *lock(&self.lang)
    }

    /// Sets the UI's language.
    pub fn set_lang(&self, lang: Lang) {
        *lock(&self.lang) = lang;
    }

    /// The session, locked; `None` before sign-in.
    pub fn session(&self) -> MutexGuard<'_, Option<Session>> {
        lock(&self.session)
    }

    /// Runs `f` with the signed-in session, or fails with `not_signed_in`.
    pub fn with_session<T>(
        &self,
        f: impl FnOnce(&mut Session, Lang) -> Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        let lang = self.lang();
        let mut guard = self.session();
        match guard.as_mut() {
            Some(session) => f(session, lang),
            None => Err(CommandError::not_signed_in(lang)),
        }
    }

    /// Saves a new session and opens its store.
    pub fn sign_in(&self, saved: SavedSession) -> Result<(), CommandError> {
        let json = serde_json::to_vec_pretty(&saved)
            .map_err(|e| CommandError::internal(e, self.lang()))?;
        let path = self.data_dir.join(SESSION_FILE);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| CommandError::internal(e, self.lang()))?;
        let mut guard = self.session();
        // The old store closes before the new one opens on the same file.
        *guard = None;
        *guard = Some(open_session(&self.data_dir, saved)?);
        Ok(())
    }
}

const SESSION_FILE: &str = "session.json";
/// The local store, in the data directory.
pub const STORE_FILE: &str = "device.sqlite";

fn read_saved(dir: &Path) -> Option<SavedSession> {
    let bytes = std::fs::read(dir.join(SESSION_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn open_session(dir: &Path, saved: SavedSession) -> Result<Session, CommandError> {
    let lang = Lang::ZhCn;
    let actor = hex::decode(&saved.login.actor_id)
        .map(ActorId::from)
        .map_err(|e| CommandError::internal(e, lang))?;
    let store =
        Store::open(dir.join(STORE_FILE), actor).map_err(|e| CommandError::store(e, lang))?;
    let transport = HttpTransport::new(&saved.server_url, &saved.login.token)
        .map_err(|e| CommandError::transport(&e, lang))?;
    let blobs = BlobTransport::new(&saved.server_url, &saved.login.token)
        .map_err(|e| CommandError::transport(&e, lang))?;
    Ok(Session {
        saved,
        store,
        transport,
        blobs,
        track: Default::default(),
    })
}

/// Locks a mutex; a panic while it was held left nothing half-written
/// (every store write is one transaction), so the data is still good.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
