//! What the field app's screens need from a record beyond the record
//! itself: blank records for a new form, incident numbers, the fields a
//! form must never overwrite, and an incident's timeline.
//!
//! The app shell stays glue: it calls these and the store, and turns the
//! results into JSON. Nothing here touches the network or the disk.

use serde::Serialize;
use uuid::Uuid;

use crate::calendar::WorkCalendar;
use crate::model::{
    Address, Category, CategoryMajor, EmergencyContact, Gender, Household, HouseholdFlags,
    HouseholdUse, IdType, Incident, IncidentSource, Meta, PopulationType, Relation, Resident,
    Urgency,
};
use crate::validate::Lang;
use crate::workflow::{self, Derived, Status, Transition};

/// An empty household of `grid`, made by `user`, for a new form.
pub fn blank_household(grid: &str, user: &str, now_ms: i64) -> Household {
    Household {
        meta: Meta::new(grid, user, now_ms),
        address: Address::default(),
        point: None,
        usage: HouseholdUse::OwnerOccupied,
        owner_name: String::new(),
        owner_phone: None,
        owner_id_number: None,
        door_plate_photo: None,
        flags: HouseholdFlags::default(),
        last_visit_at: None,
        review: Vec::new(),
    }
}

/// An empty resident of `household`, for a new form.
pub fn blank_resident(household: &Household, user: &str, now_ms: i64) -> Resident {
    Resident {
        meta: Meta::new(household.meta.grid.clone(), user, now_ms),
        household_id: Some(household.meta.id),
        relation: Relation::Head,
        name: String::new(),
        gender: Gender::Unknown,
        birth_date: None,
        id_type: IdType::ResidentId,
        id_number: None,
        phone: None,
        ethnicity: "汉族".into(),
        education: None,
        registered_residence: String::new(),
        population_type: PopulationType::Registered,
        emergency_contact: EmergencyContact::default(),
        care_tags: Vec::new(),
        next_visit_due: None,
        review: Vec::new(),
    }
}

/// An empty incident found on patrol in `grid`, numbered for `device`.
pub fn blank_incident(grid: &str, user: &str, device: &str, now_ms: i64) -> Incident {
    let meta = Meta::new(grid, user, now_ms);
    let number = incident_number(&meta.id, device, now_ms);
    Incident {
        meta,
        number,
        title: String::new(),
        description: String::new(),
        category: Category {
            major: CategoryMajor::SafetyHazard,
            minor: String::new(),
        },
        source: IncidentSource::Patrol,
        urgency: Urgency::Medium,
        point: None,
        address: String::new(),
        happened_at: now_ms,
        photos: Vec::new(),
        parties: Vec::new(),
        hotline_order: None,
        patrol_id: None,
        mediation: None,
        log: Vec::new(),
    }
}

/// `SJ20261122-3F9A-0C1D`: the day (Asia/Shanghai), four hex digits of the
/// device and four of the record's random bits, so two devices never make
/// the same number offline and a person can read it out on the phone.
pub fn incident_number(id: &Uuid, device: &str, now_ms: i64) -> String {
    let day = jiff::Timestamp::from_millisecond(now_ms)
        .map(crate::calendar::shanghai_date)
        .unwrap_or(jiff::civil::date(1970, 1, 1));
    let device: String = device
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(4)
        .collect::<String>()
        .to_uppercase();
    let tail = id.simple().to_string();
    let tail = tail[tail.len() - 4..].to_uppercase();
    format!("SJ{}-{device:0>4}-{tail}", day.strftime("%Y%m%d"))
}

/// Fields a form sends back that the form does not own: the review and
/// transition logs (appended by their own actions, possibly by a
/// supervisor since the form was opened) and the common fields. Copying
/// them from the stored record keeps a form save from undoing them.
pub trait FormOwned {
    /// Takes what the form does not own from `stored`.
    fn keep_stored(&mut self, stored: &Self);
}

impl FormOwned for Household {
    fn keep_stored(&mut self, stored: &Self) {
        self.meta = stored.meta.clone();
        self.review = stored.review.clone();
    }
}

impl FormOwned for Resident {
    fn keep_stored(&mut self, stored: &Self) {
        self.meta = stored.meta.clone();
        self.review = stored.review.clone();
    }
}

impl FormOwned for Incident {
    fn keep_stored(&mut self, stored: &Self) {
        self.meta = stored.meta.clone();
        self.number = stored.number.clone();
        self.log = stored.log.clone();
    }
}

/// One step of an incident's timeline, as the detail screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    #[serde(flatten)]
    pub transition: Transition,
    /// Why the fold skipped this entry (two people acted at once and it
    /// came second), in the reader's language; `None` when it applied.
    pub skipped: Option<String>,
}

/// An incident with its derived state and its timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentView {
    pub incident: Incident,
    pub status: Status,
    pub derived: Derived,
    pub timeline: Vec<TimelineEntry>,
}

/// Derives an incident's state and timeline.
pub fn incident_view(incident: Incident, cal: &WorkCalendar, lang: Lang) -> IncidentView {
    let derived = workflow::derive(&incident, cal);
    let timeline = incident
        .log
        .iter()
        .enumerate()
        .map(|(index, t)| TimelineEntry {
            transition: t.clone(),
            skipped: derived
                .skipped
                .iter()
                .find(|s| s.index == index)
                .map(|s| s.reason.message(lang)),
        })
        .collect();
    IncidentView {
        status: derived.status,
        derived,
        incident,
        timeline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Record, Role, ValidateCtx};
    use crate::workflow::{Action, Actor};

    const NOW: i64 = 1_779_000_000_000; // 2026-05-17, Asia/Shanghai

    #[test]
    fn incident_numbers_carry_the_day_the_device_and_the_record() {
        let id = Uuid::parse_str("019a0000-0000-7000-8000-00000000beef").unwrap();
        assert_eq!(incident_number(&id, "3f9a-77", NOW), "SJ20260517-3F9A-BEEF");
        assert_eq!(incident_number(&id, "", NOW), "SJ20260517-0000-BEEF");
    }

    #[test]
    fn a_form_save_keeps_a_supervisors_transition_made_meanwhile() {
        let cal = WorkCalendar::bundled();
        let mut stored = blank_incident("440106001001001", "gw-1", "ab12", NOW);
        let form = stored.clone();
        let worker = Actor {
            user: "gw-1",
            role: Role::GridWorker,
        };
        workflow::transition(&mut stored, &cal, worker, Action::Report, "", vec![], NOW).unwrap();
        let mut edited = form;
        edited.title = "楼道堆物".into();
        edited.keep_stored(&stored);
        assert_eq!(edited.log.len(), 1, "the report stays");
        assert_eq!(edited.title, "楼道堆物");
    }

    #[test]
    fn a_blank_resident_is_invalid_only_for_want_of_a_name() {
        let h = blank_household("440106001001001", "gw-1", NOW);
        let mut r = blank_resident(&h, "gw-1", NOW);
        let errors = r
            .normalize_and_validate(&ValidateCtx {
                today: jiff::civil::date(2026, 5, 17),
            })
            .unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name"]);
    }

    #[test]
    fn the_timeline_says_why_a_raced_transition_was_skipped() {
        let cal = WorkCalendar::bundled();
        let mut i = blank_incident("440106001001001", "gw-1", "ab12", NOW);
        let worker = Actor {
            user: "gw-1",
            role: Role::GridWorker,
        };
        workflow::transition(&mut i, &cal, worker, Action::Report, "", vec![], NOW).unwrap();
        // A second report appended offline by another device of the same worker.
        let mut again = i.log[0].clone();
        again.at += 1;
        i.log.push(again);
        let view = incident_view(i, &cal, Lang::ZhCn);
        assert_eq!(view.status, Status::Reported);
        assert_eq!(view.timeline[0].skipped, None);
        let why = view.timeline[1].skipped.as_deref().unwrap();
        assert!(why.contains("已上报"), "{why}");
    }
}
