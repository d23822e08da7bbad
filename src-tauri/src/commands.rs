//! The IPC commands the front end calls with `invoke`.
//!
//! Each command is glue: it calls a library API and returns either a
//! serializable value or a [`CommandError`]. The front end reaches them only
//! through `ui/src/backend.ts`.

use serde::Serialize;
use tauri::{AppHandle, PackageInfo, Runtime};

/// What a command failure looks like to the front end: `{code, message}`.
///
/// `code` is stable and machine-readable, so the UI can pick a translated
/// text for it; `message` is for a person (and the logs) when the UI has no
/// better text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message} ({code})")]
pub struct CommandError {
    /// The stable code the UI switches on.
    pub code: ErrorCode,
    /// A human-readable explanation, never a stack trace or internal detail.
    pub message: String,
}

impl CommandError {
    /// Makes an error with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// The stable error codes. Serialized in `snake_case`; the UI keeps one
/// translated message per code (`errors.<code>` in its i18n messages), so a
/// code, once shipped, is never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A bug or an unexpected failure below the shell.
    Internal,
    /// The front end sent arguments the command cannot accept.
    InvalidInput,
    /// The record or file the command was asked about does not exist.
    NotFound,
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Internal => "internal",
            Self::InvalidInput => "invalid_input",
            Self::NotFound => "not_found",
        })
    }
}

/// The app's name and version, as shown on the home screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppInfo {
    /// The product name from `tauri.conf.json`.
    pub name: String,
    /// The app's version (the workspace version in `Cargo.toml`).
    pub version: String,
}

impl From<&PackageInfo> for AppInfo {
    fn from(info: &PackageInfo) -> Self {
        Self {
            name: info.name.clone(),
            version: info.version.to_string(),
        }
    }
}

/// Returns the app's name and version.
#[tauri::command]
pub fn app_info<R: Runtime>(app: AppHandle<R>) -> Result<AppInfo, CommandError> {
    Ok(AppInfo::from(app.package_info()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // The UI's `backend.ts` relies on these exact shapes.
    #[test]
    fn command_error_serializes_as_code_and_message() {
        let err = CommandError::new(ErrorCode::InvalidInput, "grid id is empty");
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"code": "invalid_input", "message": "grid id is empty"})
        );
        assert_eq!(err.to_string(), "grid id is empty (invalid_input)");
    }

    #[test]
    fn error_code_display_matches_its_serialized_form() {
        for code in [
            ErrorCode::Internal,
            ErrorCode::InvalidInput,
            ErrorCode::NotFound,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.to_string()));
        }
    }

    #[test]
    fn app_info_serializes_as_name_and_version() {
        let info = AppInfo {
            name: "Gridwork".into(),
            version: "0.1.0".into(),
        };
        assert_eq!(
            serde_json::to_value(&info).unwrap(),
            json!({"name": "Gridwork", "version": "0.1.0"})
        );
    }
}
