//! Users: reference data owned by the server and sent down to devices.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a user may do; with the grid subtree it decides every permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
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
    /// Supervisors review, return, dispatch, verify and close.
    pub fn is_supervisor(self) -> bool {
        matches!(
            self,
            Role::GridLeader | Role::CommunitySupervisor | Role::StreetSupervisor | Role::Admin
        )
    }
}

/// A user of Gridwork.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
