//! An incident's parties (当事人) in a record of their own, linked to the
//! incident.
//!
//! **Why a record of its own.** A CRDT change cannot be redacted once a
//! device holds it, so a document may only hold fields that every role
//! receiving it may see in clear. A department handler receives the
//! incidents dispatched to them, but may never see a party's ID number
//! ([S]); with the parties inside the incident, every handler's tablet held
//! them. The parties therefore live in this document, in the incident's
//! grid, which grid staff and supervisors receive like any record and
//! department handlers never receive on a device (the server's `access`
//! module); in the console a handler sees them through the incident's
//! page, names and phones masked unless revealed, never the ID numbers.
//!
//! **Its id is derived from the incident's** ([`IncidentParties::id_for`]),
//! so every side finds it from the incident alone. **Only the incident's
//! creator or the server ever creates it**: the document's `parties` list
//! is a nested object made when the document is made, and two writers
//! creating the same document independently would each make their own
//! list at the same key; Automerge keeps one and hides the other in a
//! conflict, losing its parties from view. With one creator there is one
//! list, and everyone else only inserts into it or edits its scalars. The
//! server's push check holds anyone else to that
//! (`sync-server/src/access.rs`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Incident, Meta, Party, Projection, Record, RecordKind, ValidateCtx, limits};
use crate::validate::{self, ValidationErrors};

/// The parties of one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct IncidentParties {
    /// Its id is [`IncidentParties::id_for`] the incident; its grid is the
    /// incident's.
    #[serde(flatten)]
    pub meta: Meta,
    /// The incident these are the parties of.
    pub incident: Uuid,
    /// [PI/S]
    #[serde(default)]
    #[schemars(length(max = limits::PARTIES))]
    pub parties: Vec<Party>,
}

impl IncidentParties {
    /// The id of the parties record of `incident`: the same on every
    /// device and on the server.
    pub fn id_for(incident: Uuid) -> Uuid {
        let digest = Sha256::digest(format!("gridwork:incident_parties:{incident}"));
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }

    /// The parties record of `incident`, created by `created_by` at
    /// `created_at`.
    pub fn of(
        incident: &Incident,
        parties: Vec<Party>,
        created_by: impl Into<String>,
        created_at: i64,
    ) -> IncidentParties {
        IncidentParties {
            meta: Meta {
                id: IncidentParties::id_for(incident.meta.id),
                grid: incident.meta.grid.clone(),
                created_by: created_by.into(),
                created_at,
                deleted: false,
            },
            incident: incident.meta.id,
            parties,
        }
    }
}

/// An incident as its document held it before the parties moved out: the
/// incident's fields and its parties side by side. The server's data
/// migration reads old documents with it, and tests write such documents
/// with it; no Gridwork app writes it any more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct IncidentWithParties {
    #[serde(flatten)]
    pub incident: Incident,
    #[serde(default)]
    pub parties: Vec<Party>,
}

impl Record for IncidentWithParties {
    const KIND: RecordKind = RecordKind::Incident;

    fn meta(&self) -> &Meta {
        &self.incident.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.incident.meta
    }

    fn normalize_and_validate(&mut self, ctx: &ValidateCtx) -> Result<(), ValidationErrors> {
        self.incident.normalize_and_validate(ctx)
    }

    fn projection(&self) -> Projection {
        self.incident.projection()
    }
}

impl Record for IncidentParties {
    const KIND: RecordKind = RecordKind::IncidentParties;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn normalize_and_validate(&mut self, _ctx: &ValidateCtx) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        errors.require("grid", &self.meta.grid);
        if self.meta.id != IncidentParties::id_for(self.incident) {
            errors.push(validate::ValidationError::with_detail(
                "id",
                validate::Code::InvalidFormat,
                self.meta.id.to_string(),
            ));
        }
        for party in &mut self.parties {
            if !party.phone.trim().is_empty() {
                match validate::parse_mobile(&party.phone) {
                    Ok(p) => party.phone = p,
                    Err(mut e) => {
                        e.field = "parties.phone".into();
                        errors.push(e);
                    }
                }
            }
        }
        errors.into_result()
    }

    /// Listed with its incident, never by itself; nothing personal in the
    /// projection.
    fn projection(&self) -> Projection {
        let mut p = Projection::new(RecordKind::IncidentParties, &self.meta, "事件当事人".into());
        p.subtitle = format!("{} 人", self.parties.len());
        p.parent_id = Some(self.incident);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_follows_from_the_incident_alone() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        assert_eq!(IncidentParties::id_for(a), IncidentParties::id_for(a));
        assert_ne!(IncidentParties::id_for(a), IncidentParties::id_for(b));
        assert_ne!(IncidentParties::id_for(a), a);
    }

    #[test]
    fn a_record_under_another_id_is_invalid() {
        let incident = Uuid::now_v7();
        let mut p = IncidentParties {
            meta: Meta::new("440106001001001", "gw-1", 0),
            incident,
            parties: vec![Party {
                name: "张三".into(),
                phone: "138 1234 5678".into(),
                id_number: String::new(),
                role: "来电人".into(),
            }],
        };
        let ctx = ValidateCtx {
            today: jiff::civil::date(2026, 5, 17),
        };
        let errors = p.normalize_and_validate(&ctx).unwrap_err();
        assert_eq!(errors.0[0].field, "id");
        p.meta.id = IncidentParties::id_for(incident);
        p.normalize_and_validate(&ctx).unwrap();
        assert_eq!(p.parties[0].phone, "13812345678", "normalized");
    }
}
