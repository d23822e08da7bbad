//! Users: reference data owned by the server and sent down to devices.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a user may do; with the grid subtree it decides every permission.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 网格员
    GridWorker,
    /// 网格长
    GridLeader,
    /// 社区/村 supervisor
    CommunitySupervisor,
    /// 街道/镇 supervisor
    StreetSupervisor,
    /// 部门处置人员
    DepartmentHandler,
    /// 管理员
    Admin,
}

impl Role {
    /// Community and street supervisors (and admins) issue tasks and
    /// screening campaigns (专项排查) to the grids of their subtree; a grid
    /// leader works a grid and receives them.
    pub fn may_issue_tasks(self) -> bool {
        matches!(
            self,
            Role::CommunitySupervisor | Role::StreetSupervisor | Role::Admin
        )
    }

    /// Supervisors review, return, dispatch, verify and close.
    pub fn is_supervisor(self) -> bool {
        matches!(
            self,
            Role::GridLeader | Role::CommunitySupervisor | Role::StreetSupervisor | Role::Admin
        )
    }
}

/// A user of Gridwork.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct User {
    /// Stable login id, e.g. "wangfang".
    pub id: String,
    /// [PI]
    pub name: String,
    /// [PI]
    #[serde(default)]
    pub phone: String,
    pub role: Role,
    /// The root of the grid subtree the user sees.
    pub grid: String,
    /// For department handlers: the department (城管, 环保 …).
    #[serde(default)]
    pub department: Option<String>,
}

/// What was done with a [S] field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum AccessAction {
    /// Shown unmasked on a screen.
    Reveal,
    /// Written to an export (a ledger, a GeoJSON file).
    Export,
}

/// One entry of the append-only access log: who revealed or exported
/// which [S] field, when, from which device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct AccessLogEntry {
    /// Unix milliseconds.
    pub at: i64,
    /// User id.
    pub user: String,
    /// Device id the access came from (the console's session counts as one).
    pub device: String,
    pub action: AccessAction,
    /// The record whose field was accessed, if one record.
    #[serde(default)]
    pub record_id: Option<uuid::Uuid>,
    /// The field (`id_number`, `care_tags` …) or, for an export, the list.
    pub field: String,
}
