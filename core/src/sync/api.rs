//! The device API's surface, written once for both sides: the paths, the
//! content type and headers, and the login's request and answer. The app's
//! transports (`http`, `blobs`, `access_log`) call these paths and the
//! server (`gridwork-server`'s `api::v1`) routes them, so the two cannot
//! drift apart.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::grid::Grid;
use crate::model::{Role, User};

/// `POST`: [`LoginRequest`] → [`Login`].
pub const LOGIN: &str = "/v1/login";
/// `POST`: a framed [`crate::sync::wire::SyncRequest`] → a framed
/// [`crate::sync::wire::SyncResponse`], both [`CONTENT_TYPE`], or the
/// pages of a streamed answer ([`PAGES_CONTENT_TYPE`]).
pub const SYNC: &str = "/v1/sync";
/// `POST`: a lost device's report that it erased its data, JSON
/// [`WipeReport`] → [`Wiped`] (see [`crate::sync::client`]).
pub const WIPED: &str = "/v1/wiped";
/// `POST`: the tablet's reveal log (see [`crate::sync::access_log`]).
pub const ACCESS_LOG: &str = "/v1/access-log";
/// `POST`: one document's Automerge sync message; the route, as the
/// server's router writes it. Clients call [`repair_path`].
pub const REPAIR_ROUTE: &str = "/v1/repair/{doc}";
/// `HEAD`, `PATCH`, `GET` a photo by its SHA-256; the route, as the
/// server's router writes it. Clients call [`blob_path`].
pub const BLOB_ROUTE: &str = "/v1/blobs/{sha256}";

/// The repair path of document `doc`.
pub fn repair_path(doc: Uuid) -> String {
    REPAIR_ROUTE.replace("{doc}", &doc.to_string())
}

/// The path of the photo whose SHA-256 is `sha256` (hex).
pub fn blob_path(sha256: &str) -> String {
    BLOB_ROUTE.replace("{sha256}", sha256)
}

/// The content type of framed sync and repair bodies.
pub const CONTENT_TYPE: &str = "application/x-gridwork-sync";
/// The content type of a streamed answer: frames after their lengths
/// ([`crate::sync::pages`]).
pub const PAGES_CONTENT_TYPE: &str = "application/x-gridwork-sync-pages";

/// Bytes of an upload the server holds (`HEAD`, `PATCH` and their answers).
pub const UPLOAD_OFFSET: &str = "upload-offset";
/// The whole length of an upload (`PATCH`).
pub const UPLOAD_LENGTH: &str = "upload-length";
/// `?1` when the server holds the blob whole and checked (`HEAD`).
pub const UPLOAD_COMPLETE: &str = "upload-complete";
/// The content type of an upload's chunk.
pub const UPLOAD_CONTENT_TYPE: &str = "application/offset+octet-stream";

/// What the app sends to sign in on a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
    /// Shown to admins in `list-devices` ("王芳的平板").
    pub device_name: String,
    /// The earlier enrolment of this tablet whose recovery secret wraps
    /// its data key (`vault::KeyFile::recovery_device`): the server hands
    /// that secret on to the new enrolment when the earlier one is the
    /// same user's and not revoked, lost or wiped. See [`Login::recovery_secret`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_device: Option<String>,
}

/// The user a login enrolled the device for (and the console's signed-in
/// user).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct LoginUser {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub grid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

impl From<&User> for LoginUser {
    fn from(u: &User) -> LoginUser {
        LoginUser {
            id: u.id.clone(),
            name: u.name.clone(),
            role: u.role,
            grid: u.grid.clone(),
            department: u.department.clone(),
        }
    }
}

/// What a successful login gives the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Login {
    /// Bearer token for every later request; the server keeps only its
    /// hash. Keep it secret.
    pub token: String,
    pub device_id: String,
    /// Hex Automerge actor id this device must use for its changes.
    pub actor_id: String,
    pub user: LoginUser,
    /// The user's grid and every grid below it, with boundaries.
    pub grids: Vec<Grid>,
    /// The server's half of the device's recovery secret, kept with this
    /// enrolment and sent in this answer only: the earlier enrolment's
    /// secret when the request named one that may have it, a new one
    /// otherwise. The app wraps its data key with it (see `vault`) and
    /// never stores it. Absent from a server that keeps none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_secret: Option<RecoverySecret>,
}

/// A recovery secret on the wire: 32 bytes as hex. Never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecoverySecret(String);

impl std::fmt::Debug for RecoverySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoverySecret(..)")
    }
}

impl RecoverySecret {
    /// The wire form of `bytes`.
    pub fn from_bytes(bytes: &[u8; crate::vault::KEY_LEN]) -> RecoverySecret {
        RecoverySecret(hex::encode(bytes))
    }

    /// The 32 bytes, or `None` when the text is not 32 bytes of hex.
    pub fn bytes(&self) -> Option<zeroize::Zeroizing<[u8; crate::vault::KEY_LEN]>> {
        let mut out = zeroize::Zeroizing::new([0u8; crate::vault::KEY_LEN]);
        hex::decode_to_slice(&self.0, out.as_mut()).ok()?;
        Some(out)
    }
}

impl Drop for RecoverySecret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// What a lost device sends once it erased its data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WipeReport {
    /// When the erase finished, by the device's clock (Unix ms): logged
    /// only; the server records its own time.
    pub wiped_at: i64,
}

/// The server's answer to a [`WipeReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wiped {
    /// When the server recorded the wipe (Unix ms, server clock).
    pub wiped_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fill_their_routes() {
        let doc = Uuid::nil();
        assert_eq!(
            repair_path(doc),
            "/v1/repair/00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(blob_path("ab12"), "/v1/blobs/ab12");
    }
}
