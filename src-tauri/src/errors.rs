//! How failures cross the IPC boundary: `{code, message, fields}`.
//!
//! `code` is stable and machine-readable, so the UI can pick a translated
//! text for it; `message` is already in the UI's language; `fields` lists
//! what is wrong with each form field, so a form shows it at the field.

use gridwork_core::fieldwork::WorkError;
use gridwork_core::fieldwork::forms::OutsideGrid;
use gridwork_core::fieldwork::patrols::PatrolEnded;
use gridwork_core::media::MediaError;
use gridwork_core::store::{PhotoError, StoreError};
use gridwork_core::sync::client::{SyncError, TransportError};
use gridwork_core::validate::{Lang, ValidationErrors};
use gridwork_core::workflow::TransitionError;
use serde::Serialize;

/// What a command failure looks like to the front end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{message} ({code})")]
pub struct CommandError {
    /// The stable code the UI switches on (`internal`, `invalid`,
    /// `not_found`, `unreachable`, `bad_credentials`, a workflow code …).
    pub code: String,
    /// A sentence for a person in the UI's language, never a stack trace.
    pub message: String,
    /// One entry per invalid form field; empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// What is wrong with one form field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct FieldError {
    /// The record's field key, e.g. `id_number` or `address`.
    pub field: String,
    /// The validation code, e.g. `id_check_character`.
    pub code: String,
    /// The sentence core renders for it, in the UI's language.
    pub message: String,
}

impl CommandError {
    /// Makes an error with the given code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// A failure with a fixed text in both languages.
    pub fn text(code: &str, lang: Lang, zh: &str, en: &str) -> Self {
        Self::new(code, pick(lang, zh, en))
    }

    /// The user must sign in (first run, or after a sign-out).
    pub fn not_signed_in(lang: Lang) -> Self {
        Self::text("not_signed_in", lang, "请先登录", "Please sign in first")
    }

    /// Invalid form fields, each with core's message in `lang`.
    pub fn invalid(errors: &ValidationErrors, lang: Lang) -> Self {
        let fields: Vec<FieldError> = errors
            .0
            .iter()
            .map(|e| FieldError {
                field: e.field.clone(),
                code: e.code.as_str().to_string(),
                message: e.message(lang),
            })
            .collect();
        let message = fields
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("；");
        Self {
            code: "invalid".into(),
            message,
            fields,
        }
    }

    /// A point outside the worker's grids, shown at the form's point field.
    pub fn outside_grid(e: &OutsideGrid, lang: Lang) -> Self {
        let message = e.message(lang);
        Self {
            code: OutsideGrid::CODE.into(),
            fields: vec![FieldError {
                field: "point".into(),
                code: OutsideGrid::CODE.into(),
                message: message.clone(),
            }],
            message,
        }
    }

    /// A store failure.
    pub fn store(e: StoreError, lang: Lang) -> Self {
        match &e {
            StoreError::Invalid(errors) => Self::invalid(errors, lang),
            StoreError::NotFound(_) => {
                Self::text("not_found", lang, "没有找到这条记录", "No such record")
            }
            StoreError::Photo(PhotoError::Media(m)) => Self::media(m, lang),
            StoreError::TooNew { .. } => Self::text(
                e.code(),
                lang,
                "本机数据来自更新版本的网格通，请升级应用",
                "The data on this device was written by a newer Gridwork: update the app",
            ),
            _ => {
                tracing::error!(error = %e, "store failure");
                Self::new(
                    e.code(),
                    pick(
                        lang,
                        "本机数据读写出错：",
                        "The local data could not be read or written: ",
                    ) + &e.to_string(),
                )
            }
        }
    }

    /// A picked file that cannot be taken as a photo.
    pub fn media(e: &MediaError, lang: Lang) -> Self {
        match e {
            MediaError::NotAnImage => Self::text(
                "not_an_image",
                lang,
                "所选文件不是照片（应为 JPEG、PNG 或 WebP 图片）",
                "The chosen file is not a photo (JPEG, PNG or WebP expected)",
            ),
            MediaError::TooManyPixels { .. } => Self::text(
                "too_many_pixels",
                lang,
                "照片像素过多，请换一张",
                "The photo has too many pixels: choose another",
            ),
            MediaError::TooLarge(_) => Self::text(
                "too_large",
                lang,
                "照片文件过大，请换一张",
                "The photo file is too large: choose another",
            ),
            MediaError::Corrupt(_) => Self::text(
                "corrupt_image",
                lang,
                "照片已损坏，无法读取",
                "The photo is damaged and cannot be read",
            ),
        }
    }

    /// A call of core's `fieldwork` that did nothing, in the UI's
    /// language.
    pub fn work(e: WorkError, lang: Lang) -> Self {
        match e {
            WorkError::Store(e) => Self::store(e, lang),
            WorkError::OutsideGrid(e) => Self::outside_grid(&e, lang),
            WorkError::Transition(e) => Self::transition(&e, lang),
            WorkError::PatrolEnded(_) => Self::text(
                PatrolEnded::CODE,
                lang,
                "这次巡查已经结束，不能再记录",
                "This patrol has ended: nothing more can be recorded",
            ),
            WorkError::Tick(e) => Self::new(e.code(), e.message(lang)),
            WorkError::Resolve(e) => Self::new(e.code(), e.message(lang)),
            WorkError::PreviousUserUnsent { ref user, unsent } => Self::text(
                e.code(),
                lang,
                &format!(
                    "本机还有 {user} 的 {unsent} 项工作未上传。请该用户登录并同步完成后，再换人登录"
                ),
                &format!(
                    "This tablet still holds {unsent} unsent item(s) of {user}. Let them sign in and sync first, then sign in as someone else"
                ),
            ),
        }
    }

    /// A workflow step the rules do not allow.
    pub fn transition(e: &TransitionError, lang: Lang) -> Self {
        Self::new(e.code(), e.message(lang))
    }

    /// A failed exchange with the server (login or sync).
    pub fn transport(e: &TransportError, lang: Lang) -> Self {
        match e {
            TransportError::Unreachable(_) => Self::text(
                "unreachable",
                lang,
                "无法连接服务器：已保存的内容留在本机，联网后自动同步",
                "The server cannot be reached: everything saved stays on this device and syncs once online",
            ),
            TransportError::Untrusted(_) => Self::text(
                e.code(),
                lang,
                "服务器的证书不受本机信任：请联系管理员，核对服务器地址和 CA 证书",
                "The server's certificate is not trusted by this device: ask the admin to check the server address and the CA certificate",
            ),
            TransportError::PlainHttp(_) => Self::text(
                e.code(),
                lang,
                "为保护个人信息，服务器地址须以 https:// 开头（本机地址除外）；如确需使用 http://，须由管理员在设置中明确允许",
                "To protect personal data the server address must start with https:// (except this machine); plain http:// needs the admin's explicit permission in setup",
            ),
            TransportError::BadAddress(_) => Self::text(
                e.code(),
                lang,
                "服务器地址应以 https:// 开头，例如 https://wg.example.gov.cn",
                "The server address must start with https://, e.g. https://wg.example.gov.cn",
            ),
            TransportError::BadCa(_) => Self::text(
                e.code(),
                lang,
                "CA 证书无法读取：请粘贴以 -----BEGIN CERTIFICATE----- 开头的完整证书",
                "The CA certificate cannot be read: paste the whole certificate, starting with -----BEGIN CERTIFICATE-----",
            ),
            TransportError::Server { code, message, .. } => {
                let text = match code.as_str() {
                    "bad_credentials" => Some(("账号或密码不正确", "Wrong user name or password")),
                    "account_disabled" => Some(("该账号已停用", "This account is disabled")),
                    "token_revoked" | "unauthenticated" => Some((
                        "本设备的登录已失效，请重新登录",
                        "This device's sign-in is no longer valid: sign in again",
                    )),
                    "rate_limited" => Some((
                        "尝试次数过多，请稍后再试",
                        "Too many attempts: try again later",
                    )),
                    "busy" => Some((
                        "服务器繁忙，稍后自动重试",
                        "The server is busy; it will be retried",
                    )),
                    _ => None,
                };
                match text {
                    Some((zh, en)) => Self::text(code, lang, zh, en),
                    None => Self::new(code.clone(), message.clone()),
                }
            }
        }
    }

    /// A failed sync.
    pub fn sync(e: SyncError, lang: Lang) -> Self {
        match e {
            SyncError::Transport(t) => Self::transport(&t, lang),
            SyncError::Store(s) => Self::store(s, lang),
            SyncError::StoreClosed => Self::text(
                "not_signed_in",
                lang,
                "同步中途已换人登录，本次同步已停止",
                "Someone else signed in during the sync; it stopped",
            ),
            other => Self::new(
                other.code().to_string(),
                pick(
                    lang,
                    "同步数据无法读取：",
                    "The sync answer could not be read: ",
                ) + &other.to_string(),
            ),
        }
    }

    /// Something that should not happen; the detail goes to the log.
    pub fn internal(detail: impl std::fmt::Display, lang: Lang) -> Self {
        tracing::error!(%detail, "internal error");
        Self::text(
            "internal",
            lang,
            "出现内部错误，请稍后重试",
            "Something went wrong inside the app; try again",
        )
    }
}

/// Why the server refused a photo, in plain words, from its code.
pub fn photo_refusal(code: &str, lang: Lang) -> String {
    let (zh, en) = match code {
        "blob_not_an_image" => (
            "服务器拒收：这个文件不是 JPEG、PNG 或 WebP 图片",
            "Refused by the server: the file is not a JPEG, PNG or WebP image",
        ),
        "blob_too_large" => (
            "服务器拒收：照片文件太大",
            "Refused by the server: the photo file is too large",
        ),
        "blob_too_many_pixels" => (
            "服务器拒收：照片像素过多",
            "Refused by the server: the photo has too many pixels",
        ),
        "blob_corrupt_image" => (
            "服务器拒收：照片已损坏，无法读取",
            "Refused by the server: the photo is damaged and cannot be read",
        ),
        "blob_hash_mismatch" | "photo_hash_mismatch" => (
            "照片在传输中出错，下次同步时会重新传输",
            "The photo was garbled in transit; it moves again at the next sync",
        ),
        _ => ("服务器拒收了这张照片", "The server refused this photo"),
    };
    format!("{} ({code})", pick(lang, zh, en))
}

fn pick(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::ZhCn => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridwork_core::validate::{Code, ValidationError};
    use serde_json::json;

    #[test]
    fn a_refused_photo_says_why_in_plain_words() {
        let zh = photo_refusal("blob_not_an_image", Lang::ZhCn);
        assert!(zh.contains("不是 JPEG、PNG 或 WebP 图片"), "{zh}");
        assert!(photo_refusal("blob_too_large", Lang::En).contains("too large"));
        assert!(photo_refusal("something_new", Lang::ZhCn).contains("(something_new)"));
    }

    // The UI's `backend.ts` relies on these exact shapes.
    #[test]
    fn command_error_serializes_as_code_and_message() {
        let err = CommandError::new("invalid_input", "grid id is empty");
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"code": "invalid_input", "message": "grid id is empty"})
        );
        assert_eq!(err.to_string(), "grid id is empty (invalid_input)");
    }

    #[test]
    fn validation_errors_arrive_field_by_field_in_the_users_language() {
        let errors = ValidationErrors(vec![ValidationError::with_detail(
            "id_number",
            Code::IdCheckCharacter,
            "X:5",
        )]);
        let zh = serde_json::to_value(CommandError::invalid(&errors, Lang::ZhCn)).unwrap();
        assert_eq!(zh["code"], "invalid");
        assert_eq!(zh["fields"][0]["field"], "id_number");
        assert_eq!(zh["fields"][0]["code"], "id_check_character");
        assert_eq!(
            zh["fields"][0]["message"],
            "身份证号码校验位错误：应为 X，实际为 5"
        );
        let en = CommandError::invalid(&errors, Lang::En);
        assert!(en.fields[0].message.contains("check character"), "{en:?}");
    }

    #[test]
    fn a_file_that_is_no_photo_is_refused_with_its_code_in_both_languages() {
        let e = StoreError::Photo(PhotoError::Media(MediaError::NotAnImage));
        let zh = CommandError::store(e, Lang::ZhCn);
        assert_eq!(zh.code, "not_an_image");
        assert!(zh.message.contains("不是照片"), "{zh:?}");
        let en = CommandError::media(&MediaError::TooLarge(1 << 30), Lang::En);
        assert_eq!(en.code, "too_large");
        assert!(en.message.contains("too large"), "{en:?}");
    }

    #[test]
    fn an_unreachable_server_is_said_plainly_in_both_languages() {
        let e = TransportError::Unreachable("connection refused".into());
        let zh = CommandError::transport(&e, Lang::ZhCn);
        assert_eq!(zh.code, "unreachable");
        assert!(zh.message.contains("无法连接服务器"), "{zh:?}");
        assert!(!zh.message.contains("refused"), "no internals: {zh:?}");
        let en = CommandError::transport(&e, Lang::En);
        assert!(en.message.contains("cannot be reached"), "{en:?}");
    }
}
