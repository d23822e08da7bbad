//! Photos from the UI: a picked or taken image goes to core's
//! [`Store::add_photo`](gridwork_core::store::Store::add_photo), which makes
//! it upload-ready, thumbnails it and stores both by SHA-256 waiting for
//! upload; the returned reference goes into the record the form is editing.
//! Thumbnails come back to the screens as `data:` URLs (the CSP allows
//! those and nothing from outside).
//!
//! The image travels as the raw body of the IPC call (no JSON array of
//! numbers for a 3 MB photo); Android's IPC has no raw bodies, so a JSON
//! array is taken too.

use base64::Engine;
use gridwork_core::media::MediaError;
use gridwork_core::model::{PhotoRef, PhotoRole};
use gridwork_core::store::is_sha256;
use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, Manager, Runtime, State};

use crate::errors::{CommandError, ErrorCode};
use crate::state::AppState;

/// The header naming the photo's role (`before`, `after` …).
pub const ROLE_HEADER: &str = "x-photo-role";
/// The header carrying when the photo was taken (Unix milliseconds).
pub const TAKEN_AT_HEADER: &str = "x-photo-taken-at";

fn header<'a>(request: &'a Request<'_>, name: &str) -> Option<&'a str> {
    request.headers().get(name)?.to_str().ok()
}

fn bad_photo() -> CommandError {
    CommandError::media(&MediaError::NotAnImage)
}

/// Stores a photo (the raw body of the call) and returns its reference.
/// Runs off the UI thread: compressing a camera photo takes a while.
#[tauri::command]
pub async fn add_photo<R: Runtime>(
    app: AppHandle<R>,
    request: Request<'_>,
) -> Result<PhotoRef, CommandError> {
    let bytes = match request.body() {
        InvokeBody::Raw(bytes) => bytes.clone(),
        InvokeBody::Json(value) => {
            serde_json::from_value::<Vec<u8>>(value.clone()).map_err(|_| bad_photo())?
        }
    };
    let role = match header(&request, ROLE_HEADER) {
        None => PhotoRole::Before,
        Some(text) => serde_json::from_value(serde_json::Value::String(text.to_string()))
            .map_err(|_| CommandError::code(ErrorCode::InvalidInput))?,
    };
    let taken_at = header(&request, TAKEN_AT_HEADER).and_then(|t| t.parse::<i64>().ok());
    tauri::async_runtime::spawn_blocking(move || {
        let state = app.state::<AppState>();
        state.with_session(|s| {
            s.store
                .add_photo(&bytes, role, taken_at)
                .map_err(CommandError::store)
        })
    })
    .await
    .map_err(CommandError::internal)?
}

/// A stored photo's thumbnail (or the photo itself when it has none) as a
/// `data:` URL, or `null` when this device does not hold its bytes yet.
#[tauri::command]
pub fn photo_url(
    state: State<'_, AppState>,
    sha256: String,
) -> Result<Option<String>, CommandError> {
    state.with_session(|s| {
        if !is_sha256(&sha256) {
            return Err(CommandError::code(ErrorCode::InvalidInput));
        }
        let bytes = s.store.photo_bytes(&sha256).map_err(CommandError::store)?;
        Ok(bytes.map(|b| data_url(&b)))
    })
}

/// Stored photos and thumbnails are JPEG (core's `media::prepare`).
fn data_url(jpeg: &[u8]) -> String {
    format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(jpeg)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_url_carries_the_jpeg_bytes() {
        let url = data_url(&[0xff, 0xd8, 0xff]);
        assert_eq!(url, "data:image/jpeg;base64,/9j/");
    }
}
