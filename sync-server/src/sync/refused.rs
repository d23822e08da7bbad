//! A pushed document the server refuses: the code and params the device
//! is told ([`Rejection`], translated by the app), and the detail only
//! the server's log keeps (a parser's error, the actor or field at fault),
//! which helps a developer and means nothing to a grid worker.

use std::fmt;

use gridwork_core::problem::Params;
use gridwork_core::sync::wire::{Rejection, RejectionCode};
use uuid::Uuid;

/// Why one pushed document is refused.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Refused {
    pub code: RejectionCode,
    pub params: Params,
    /// For the server's log only.
    pub detail: String,
}

impl Refused {
    /// A refusal for `code` with `params`; `detail` goes to the log.
    pub fn new(code: RejectionCode, params: Params, detail: impl fmt::Display) -> Refused {
        Refused {
            code,
            params,
            detail: detail.to_string(),
        }
    }

    /// A refusal whose params say nothing more than its code.
    pub fn bare(code: RejectionCode, detail: impl fmt::Display) -> Refused {
        Refused::new(code, Params::new(), detail)
    }

    /// What the device is told about `doc`; the detail is logged here.
    pub fn reject(self, doc: Uuid) -> Rejection {
        tracing::info!(%doc, code = self.code.code(), detail = %self.detail, "a pushed record was refused");
        Rejection::new(doc, self.code, self.params)
    }
}
