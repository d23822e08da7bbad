//! The incident workflow: an append-only log of transitions, and the state
//! derived from it.
//!
//! An incident document holds its transitions in a list (`log`). Devices
//! and supervisors only ever append. The current status, level on the
//! escalation ladder (吹哨报到), assignee and deadline are *derived* by
//! folding the log in list order with [`derive`]. Automerge orders
//! concurrent appends the same way on every device, so every device derives
//! the same state; an entry that is no longer valid where it lands (two
//! people acted on the same incident offline) is kept, shown, and skipped
//! by the fold with a reason ([`Derived::skipped`]). Nothing is lost.
//!
//! [`check`] applies the same rules before an entry is appended, so an
//! honest device never writes a transition the fold would skip, and a
//! worker cannot verify their own report.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::calendar::{WorkCalendar, shanghai_date};
use crate::model::{Incident, Role};
use crate::problem::{Params, params_of_tagged};

/// Where an incident is in its closed loop.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 暂存: on the device, not yet reported.
    Draft,
    /// 已上报
    Reported,
    /// 已受理
    Accepted,
    /// 退回: returned to the reporter with a reason.
    Returned,
    /// 已分派: to a department or a person, with a deadline.
    Dispatched,
    /// 处置中
    InProgress,
    /// 已办结
    Resolved,
    /// 已核查
    Verified,
    /// 已回访: the resident's feedback is recorded.
    FeedbackGiven,
    /// 结案
    Closed,
    /// 挂起
    Suspended,
}

impl Status {
    /// The Chinese label users know.
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Draft => "暂存",
            Status::Reported => "已上报",
            Status::Accepted => "已受理",
            Status::Returned => "退回",
            Status::Dispatched => "已分派",
            Status::InProgress => "处置中",
            Status::Resolved => "已办结",
            Status::Verified => "已核查",
            Status::FeedbackGiven => "已回访",
            Status::Closed => "结案",
            Status::Suspended => "挂起",
        }
    }

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Reported => "reported",
            Status::Accepted => "accepted",
            Status::Returned => "returned",
            Status::Dispatched => "dispatched",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Verified => "verified",
            Status::FeedbackGiven => "feedback_given",
            Status::Closed => "closed",
            Status::Suspended => "suspended",
        }
    }

    /// Still being handled: a deadline can run out.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Reported | Status::Accepted | Status::Dispatched | Status::InProgress
        )
    }

    /// Every status, in the closed loop's order.
    pub const ALL: [Status; 11] = ALL_STATUSES;

    /// The status of a stable name ([`Status::as_str`]).
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Waiting for someone's decision or work: reported and not yet
    /// closed, neither returned to the reporter nor suspended.
    pub fn awaits_decision(self) -> bool {
        self.is_open()
            || matches!(
                self,
                Status::Resolved | Status::Verified | Status::FeedbackGiven
            )
    }
}

/// The escalation ladder: grid → street/town → district → city.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Grid,
    Street,
    District,
    City,
}

impl Level {
    /// The next level up, if any.
    pub fn up(self) -> Option<Level> {
        match self {
            Level::Grid => Some(Level::Street),
            Level::Street => Some(Level::District),
            Level::District => Some(Level::City),
            Level::City => None,
        }
    }
}

/// Whom an incident is dispatched to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Assignee {
    /// `department` or `person`.
    pub kind: AssigneeKind,
    /// Department code or user id.
    #[schemars(length(max = crate::model::limits::CODE))]
    pub id: String,
    /// Display name (城管执法队, 李明).
    #[schemars(length(max = crate::model::limits::TITLE))]
    pub name: String,
}

/// Whether an incident went to a department or a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum AssigneeKind {
    Department,
    Person,
}

/// A resident's satisfaction with how an incident was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    Dissatisfied,
    Satisfied,
    VerySatisfied,
}

/// What a transition does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// 上报 (also: resubmit after a return).
    Report,
    /// 受理
    Accept,
    /// 退回, the opinion says why.
    Return,
    /// 分派 with a deadline in working days.
    Dispatch { to: Assignee, deadline_days: u32 },
    /// 开始处置
    Start,
    /// 办结, with after-photos.
    Resolve,
    /// 就地解决: from draft or reported straight to resolved.
    ResolveOnSpot,
    /// 核查
    Verify,
    /// 回访评价; dissatisfied reopens the incident.
    Feedback { satisfaction: Satisfaction },
    /// 结案
    Close,
    /// 挂起
    Suspend,
    /// 恢复
    Resume,
    /// 吹哨: up the ladder; skipping a level needs a reason in the opinion.
    Escalate { to: Level },
}

impl Action {
    /// The stable snake_case name of the action.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Report => "report",
            Action::Accept => "accept",
            Action::Return => "return",
            Action::Dispatch { .. } => "dispatch",
            Action::Start => "start",
            Action::Resolve => "resolve",
            Action::ResolveOnSpot => "resolve_on_spot",
            Action::Verify => "verify",
            Action::Feedback { .. } => "feedback",
            Action::Close => "close",
            Action::Suspend => "suspend",
            Action::Resume => "resume",
            Action::Escalate { .. } => "escalate",
        }
    }
}

/// One entry of an incident's transition log. Never edited once appended,
/// except that the server may fill in `received_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Transition {
    pub action: Action,
    /// User id of who acted.
    #[schemars(length(max = crate::model::limits::USER_ID))]
    pub actor: String,
    /// Their role when they acted.
    pub role: Role,
    /// The status the actor saw before acting.
    pub from: Status,
    /// The status the actor expected after acting.
    pub to: Status,
    /// Opinion or reason (处理意见, 退回原因).
    #[serde(default)]
    #[schemars(length(max = crate::model::limits::NOTE))]
    pub opinion: String,
    /// SHA-256 of photos attached to this step (after-photos of a resolve).
    #[serde(default)]
    #[schemars(length(max = crate::model::limits::PHOTOS), inner(length(max = crate::model::limits::SHA256)))]
    pub photos: Vec<String>,
    /// Unix milliseconds on the actor's device clock.
    pub at: i64,
    /// Unix milliseconds when the server first received it. Deadlines count
    /// from this when known, because device clocks lie.
    #[serde(default)]
    pub received_at: Option<i64>,
}

/// Who wants to act, as the rules need to know them.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub user: &'a str,
    pub role: Role,
}

/// Why a transition is not allowed.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, thiserror::Error, ts_rs::TS,
)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum TransitionError {
    /// The action does not apply to the current status.
    #[error("cannot {action} an incident that is {status}")]
    WrongStatus { action: String, status: String },
    /// The actor's role may not take this action.
    #[error("a {role} may not {action} an incident")]
    RoleNotAllowed { action: String, role: String },
    /// A reporter or resolver may not verify or close their own work.
    #[error("you cannot {action} an incident you reported or resolved yourself")]
    OwnWork { action: String },
    /// A return, suspension or level skip needs a reason.
    #[error("{action} needs a reason")]
    ReasonRequired { action: String },
    /// Resolving needs at least one after-photo.
    #[error("{action} needs at least one after-photo")]
    PhotosRequired { action: String },
    /// Escalation must go up.
    #[error("cannot escalate from {from} to {to}: escalation only goes up")]
    NotUp { from: String, to: String },
    /// A dispatch needs a deadline of at least one working day.
    #[error("the deadline must be between 1 and 365 working days")]
    BadDeadline,
    /// Only the assignee or a supervisor may work on a dispatched incident.
    #[error("only the assignee or a supervisor may {action} this incident")]
    NotAssignee { action: String },
}

impl TransitionError {
    /// A stable code the UI translates.
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::WrongStatus { .. } => "wrong_status",
            TransitionError::RoleNotAllowed { .. } => "role_not_allowed",
            TransitionError::OwnWork { .. } => "own_work",
            TransitionError::ReasonRequired { .. } => "reason_required",
            TransitionError::PhotosRequired { .. } => "photos_required",
            TransitionError::NotUp { .. } => "not_up",
            TransitionError::BadDeadline => "bad_deadline",
            TransitionError::NotAssignee { .. } => "not_assignee",
        }
    }

    /// The params the UI interpolates into the message of [`Self::code`]
    /// (`action`, `status`, `role`, `from`, `to`: the names as
    /// serialized, which the UI labels).
    pub fn params(&self) -> Params {
        params_of_tagged(self)
    }
}

const ALL_STATUSES: [Status; 11] = [
    Status::Draft,
    Status::Reported,
    Status::Accepted,
    Status::Returned,
    Status::Dispatched,
    Status::InProgress,
    Status::Resolved,
    Status::Verified,
    Status::FeedbackGiven,
    Status::Closed,
    Status::Suspended,
];

/// The state of an incident derived from its log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Derived {
    pub status: Status,
    pub level: Level,
    pub assignee: Option<Assignee>,
    /// The working-day deadline (Asia/Shanghai date), set by a dispatch.
    pub deadline: Option<jiff::civil::Date>,
    /// Who resolved it last (verification must be by someone else).
    pub resolved_by: Option<String>,
    /// Resolved straight from the report (就地解决).
    pub resolved_on_spot: bool,
    /// The latest feedback.
    pub feedback: Option<Satisfaction>,
    /// How many times it went up the ladder.
    pub escalations: u32,
    /// The latest return's reason, while returned.
    pub return_reason: Option<String>,
    /// Unix ms (server time when known) of the first report, acceptance,
    /// resolution and closing, for the supervisors' figures.
    pub reported_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// Log entries the fold skipped, with why: two people acted at once and
    /// this one came second. They stay in the log and the timeline.
    pub skipped: Vec<Skipped>,
    /// The status to go back to on resume.
    suspended_from: Option<Status>,
}

/// A log entry that did not apply where it landed in the merged log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Skipped {
    /// Index in the log.
    pub index: usize,
    pub reason: TransitionError,
}

impl Derived {
    fn initial() -> Derived {
        Derived {
            status: Status::Draft,
            level: Level::Grid,
            assignee: None,
            deadline: None,
            resolved_by: None,
            resolved_on_spot: false,
            feedback: None,
            escalations: 0,
            return_reason: None,
            reported_at: None,
            accepted_at: None,
            resolved_at: None,
            closed_at: None,
            skipped: Vec::new(),
            suspended_from: None,
        }
    }

    /// Past its deadline on `today` and still open.
    pub fn overdue(&self, today: jiff::civil::Date) -> bool {
        self.status.is_open() && self.deadline.is_some_and(|d| today > d)
    }

    /// Due within `days` working days (将到期) and not yet overdue.
    pub fn due_soon(&self, today: jiff::civil::Date, cal: &WorkCalendar, days: u32) -> bool {
        self.status.is_open()
            && self
                .deadline
                .is_some_and(|d| today <= d && cal.add_working_days(today, days) >= d)
    }
}

/// Checks whether `actor` may take `action` on an incident in state `state`
/// reported by `reporter`. The same rules run on the device before
/// appending, in the fold, and on the server.
pub fn check(
    state: &Derived,
    reporter: &str,
    actor: Actor<'_>,
    action: &Action,
    opinion: &str,
    photos: &[String],
) -> Result<Status, TransitionError> {
    use Status::*;
    let name = action.name().to_string();
    let wrong = || TransitionError::WrongStatus {
        action: name.clone(),
        status: state.status.as_str().to_string(),
    };
    let role_denied = || TransitionError::RoleNotAllowed {
        action: name.clone(),
        role: crate::model::enum_name(&actor.role),
    };
    let supervisor = actor.role.is_supervisor();
    let handler = actor.role == Role::DepartmentHandler;
    let is_assignee = state
        .assignee
        .as_ref()
        .is_some_and(|a| a.kind == AssigneeKind::Person && a.id == actor.user)
        || (handler
            && state
                .assignee
                .as_ref()
                .is_some_and(|a| a.kind == AssigneeKind::Department));
    let needs_reason = |text: &str| {
        if text.trim().is_empty() {
            Err(TransitionError::ReasonRequired {
                action: name.clone(),
            })
        } else {
            Ok(())
        }
    };
    let next = match action {
        Action::Report => {
            if !matches!(state.status, Draft | Returned) {
                return Err(wrong());
            }
            if handler {
                return Err(role_denied());
            }
            Reported
        }
        Action::Accept | Action::Return => {
            if state.status != Reported {
                return Err(wrong());
            }
            if !supervisor {
                return Err(role_denied());
            }
            if matches!(action, Action::Return) {
                needs_reason(opinion)?;
                Returned
            } else {
                Accepted
            }
        }
        Action::Dispatch { deadline_days, .. } => {
            if !matches!(state.status, Accepted | Dispatched | InProgress) {
                return Err(wrong());
            }
            if !supervisor {
                return Err(role_denied());
            }
            if *deadline_days == 0 || *deadline_days > 365 {
                return Err(TransitionError::BadDeadline);
            }
            Dispatched
        }
        Action::Start => {
            if state.status != Dispatched {
                return Err(wrong());
            }
            if !(supervisor || is_assignee) {
                return Err(TransitionError::NotAssignee { action: name });
            }
            InProgress
        }
        Action::Resolve => {
            if !matches!(state.status, Accepted | Dispatched | InProgress) {
                return Err(wrong());
            }
            if state.assignee.is_some() && !(supervisor || is_assignee) {
                return Err(TransitionError::NotAssignee { action: name });
            }
            if state.assignee.is_none() && !(supervisor || actor.user == reporter) {
                return Err(role_denied());
            }
            if photos.is_empty() {
                return Err(TransitionError::PhotosRequired { action: name });
            }
            Resolved
        }
        Action::ResolveOnSpot => {
            if !matches!(state.status, Draft | Reported) {
                return Err(wrong());
            }
            if handler {
                return Err(role_denied());
            }
            if photos.is_empty() {
                return Err(TransitionError::PhotosRequired { action: name });
            }
            Resolved
        }
        Action::Verify => {
            if state.status != Resolved {
                return Err(wrong());
            }
            if !supervisor {
                return Err(role_denied());
            }
            if actor.user == reporter || state.resolved_by.as_deref() == Some(actor.user) {
                return Err(TransitionError::OwnWork { action: name });
            }
            Verified
        }
        Action::Feedback { satisfaction } => {
            if state.status != Verified {
                return Err(wrong());
            }
            if handler {
                return Err(role_denied());
            }
            if *satisfaction == Satisfaction::Dissatisfied {
                Accepted
            } else {
                FeedbackGiven
            }
        }
        Action::Close => {
            if !matches!(state.status, Verified | FeedbackGiven) {
                return Err(wrong());
            }
            if !supervisor {
                return Err(role_denied());
            }
            if actor.user == reporter {
                return Err(TransitionError::OwnWork { action: name });
            }
            Closed
        }
        Action::Suspend => {
            if !matches!(state.status, Reported | Accepted | Dispatched | InProgress) {
                return Err(wrong());
            }
            if !supervisor {
                return Err(role_denied());
            }
            needs_reason(opinion)?;
            Suspended
        }
        Action::Resume => {
            if state.status != Suspended {
                return Err(wrong());
            }
            if !supervisor {
                return Err(role_denied());
            }
            state.suspended_from.unwrap_or(Accepted)
        }
        Action::Escalate { to } => {
            if !matches!(
                state.status,
                Reported | Accepted | Dispatched | InProgress | Returned
            ) {
                return Err(wrong());
            }
            if handler {
                return Err(role_denied());
            }
            if *to <= state.level {
                return Err(TransitionError::NotUp {
                    from: crate::model::enum_name(&state.level),
                    to: crate::model::enum_name(to),
                });
            }
            if Some(*to) != state.level.up() {
                needs_reason(opinion)?;
            }
            Reported
        }
    };
    Ok(next)
}

/// Folds an incident's log into its current state. Deterministic: the same
/// log gives the same state on every device.
pub fn derive(incident: &Incident, cal: &WorkCalendar) -> Derived {
    let mut state = Derived::initial();
    for (index, entry) in incident.log.iter().enumerate() {
        let actor = Actor {
            user: &entry.actor,
            role: entry.role,
        };
        match check(
            &state,
            &incident.meta.created_by,
            actor,
            &entry.action,
            &entry.opinion,
            &entry.photos,
        ) {
            Ok(next) => apply(&mut state, entry, next, cal),
            Err(reason) => state.skipped.push(Skipped { index, reason }),
        }
    }
    state
}

fn apply(state: &mut Derived, entry: &Transition, next: Status, cal: &WorkCalendar) {
    let when = entry.received_at.unwrap_or(entry.at);
    let prev = state.status;
    match &entry.action {
        Action::Report => {
            state.reported_at.get_or_insert(when);
            state.return_reason = None;
        }
        Action::Accept => {
            state.accepted_at.get_or_insert(when);
        }
        Action::Return => state.return_reason = Some(entry.opinion.clone()),
        Action::Dispatch { to, deadline_days } => {
            state.assignee = Some(to.clone());
            let day = jiff::Timestamp::from_millisecond(when)
                .map(shanghai_date)
                .unwrap_or(jiff::civil::date(1970, 1, 1));
            state.deadline = Some(cal.add_working_days(day, *deadline_days));
        }
        Action::Start => {}
        Action::Resolve | Action::ResolveOnSpot => {
            state.resolved_by = Some(entry.actor.clone());
            state.resolved_at = Some(when);
            state.resolved_on_spot = matches!(entry.action, Action::ResolveOnSpot);
            if state.resolved_on_spot {
                state.reported_at.get_or_insert(when);
            }
        }
        Action::Verify => {}
        Action::Feedback { satisfaction } => {
            state.feedback = Some(*satisfaction);
            if *satisfaction == Satisfaction::Dissatisfied {
                // Reopened: handled again from acceptance.
                state.resolved_by = None;
                state.resolved_at = None;
                state.resolved_on_spot = false;
                state.deadline = None;
            }
        }
        Action::Close => state.closed_at = Some(when),
        Action::Suspend => state.suspended_from = Some(prev),
        Action::Resume => state.suspended_from = None,
        Action::Escalate { to } => {
            state.level = *to;
            state.escalations += 1;
            state.assignee = None;
            state.deadline = None;
        }
    }
    state.status = next;
}

/// Appends a transition after checking it against the current state: the
/// device-side guard that keeps honest devices from writing what the fold
/// would skip. Returns the new status.
pub fn transition(
    incident: &mut Incident,
    cal: &WorkCalendar,
    actor: Actor<'_>,
    action: Action,
    opinion: &str,
    photos: Vec<String>,
    now_ms: i64,
) -> Result<Status, TransitionError> {
    let state = derive(incident, cal);
    let next = check(
        &state,
        &incident.meta.created_by,
        actor,
        &action,
        opinion,
        &photos,
    )?;
    incident.log.push(Transition {
        action,
        actor: actor.user.to_string(),
        role: actor.role,
        from: state.status,
        to: next,
        opinion: opinion.to_string(),
        photos,
        at: now_ms,
        received_at: None,
    });
    Ok(next)
}

/// What an actor may do to an incident now: the actions by name
/// ([`Action::name`]) in the workflow's order, and the levels an
/// escalation may go to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Offered {
    pub actions: Vec<&'static str>,
    /// Empty unless `escalate` is offered.
    pub escalate_to: Vec<Level>,
}

/// The actions `actor` may take on an incident in `state` reported by
/// `reporter`: each action that [`check`] accepts with the input it asks
/// for (a reason, an after-photo, a deadline of one working day, a level
/// above). [`check`] decides, so an action offered here is accepted when
/// it is taken with such input, and one not offered is refused whatever
/// the input: a screen that shows only these never shows a dead button.
pub fn offered(state: &Derived, reporter: &str, actor: Actor<'_>) -> Offered {
    let anyone = Assignee {
        kind: AssigneeKind::Department,
        id: String::new(),
        name: String::new(),
    };
    let mut candidates = vec![
        Action::Report,
        Action::Accept,
        Action::Return,
        Action::Dispatch {
            to: anyone,
            deadline_days: 1,
        },
        Action::Start,
        Action::Resolve,
        Action::ResolveOnSpot,
        Action::Verify,
        Action::Feedback {
            satisfaction: Satisfaction::Satisfied,
        },
        Action::Close,
        Action::Suspend,
        Action::Resume,
    ];
    let mut level = state.level;
    while let Some(up) = level.up() {
        candidates.push(Action::Escalate { to: up });
        level = up;
    }
    let photo = [String::from("0").repeat(64)];
    let mut offered = Offered::default();
    for action in candidates {
        if check(state, reporter, actor, &action, "-", &photo).is_err() {
            continue;
        }
        if let Action::Escalate { to } = action {
            offered.escalate_to.push(to);
        }
        if !offered.actions.contains(&action.name()) {
            offered.actions.push(action.name());
        }
    }
    offered
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{Author, RecordDoc};
    use crate::model::{Category, CategoryMajor, GeoPoint, IncidentSource, Meta, Urgency};
    use automerge::ActorId;
    use jiff::civil::date;
    use proptest::prelude::*;

    const WORKER: Actor<'static> = Actor {
        user: "gw-1",
        role: Role::GridWorker,
    };
    const SUPERVISOR: Actor<'static> = Actor {
        user: "sup-1",
        role: Role::CommunitySupervisor,
    };
    const HANDLER: Actor<'static> = Actor {
        user: "dept-1",
        role: Role::DepartmentHandler,
    };

    fn incident() -> Incident {
        Incident {
            meta: Meta::new("440106001001001", "gw-1", ms(date(2025, 9, 29))),
            number: "SJ20250929-0001".into(),
            title: "3栋楼顶漏水".into(),
            description: "雨后楼顶漏水，影响502室".into(),
            category: Category {
                major: CategoryMajor::SafetyHazard,
                minor: "房屋漏水".into(),
            },
            source: IncidentSource::Patrol,
            urgency: Urgency::Medium,
            point: Some(GeoPoint::wgs84(113.33, 23.13)),
            address: "阳光花园3栋".into(),
            happened_at: ms(date(2025, 9, 29)),
            photos: Vec::new(),
            hotline_order: None,
            patrol_id: None,
            mediation: None,
            log: Vec::new(),
        }
    }

    /// 10:00 Asia/Shanghai on `d`, in Unix milliseconds.
    fn ms(d: jiff::civil::Date) -> i64 {
        d.at(2, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    fn dispatch(days: u32) -> Action {
        Action::Dispatch {
            to: Assignee {
                kind: AssigneeKind::Department,
                id: "cgj".into(),
                name: "城管执法队".into(),
            },
            deadline_days: days,
        }
    }

    fn photo() -> Vec<String> {
        vec!["ab".repeat(32)]
    }

    #[test]
    fn the_closed_loop_runs_and_the_deadline_counts_working_days() {
        let cal = WorkCalendar::bundled();
        let mut i = incident();
        let t = ms(date(2025, 9, 30));
        let mut step = |actor, action, photos: Vec<String>| {
            transition(&mut i, &cal, actor, action, "", photos, t).unwrap()
        };
        assert_eq!(step(WORKER, Action::Report, vec![]), Status::Reported);
        assert_eq!(step(SUPERVISOR, Action::Accept, vec![]), Status::Accepted);
        assert_eq!(step(SUPERVISOR, dispatch(5), vec![]), Status::Dispatched);
        let state = derive(&i, &cal);
        // National Day 2025: Oct 1–8 are off, Sep 28 and Oct 11 are make-up
        // working days, so five working days from Sep 30 end on Oct 14.
        assert_eq!(state.deadline, Some(date(2025, 10, 14)));
        assert!(!state.overdue(date(2025, 10, 14)));
        assert!(state.overdue(date(2025, 10, 15)));
        assert!(state.due_soon(date(2025, 10, 13), &cal, 1));
        let mut step = |actor, action, photos: Vec<String>| {
            transition(&mut i, &cal, actor, action, "", photos, t).unwrap()
        };
        assert_eq!(step(HANDLER, Action::Start, vec![]), Status::InProgress);
        assert_eq!(step(HANDLER, Action::Resolve, photo()), Status::Resolved);
        assert_eq!(step(SUPERVISOR, Action::Verify, vec![]), Status::Verified);
        let fb = Action::Feedback {
            satisfaction: Satisfaction::Satisfied,
        };
        assert_eq!(step(WORKER, fb, vec![]), Status::FeedbackGiven);
        assert_eq!(step(SUPERVISOR, Action::Close, vec![]), Status::Closed);
        let state = derive(&i, &cal);
        assert_eq!(state.status, Status::Closed);
        assert!(state.skipped.is_empty());
        assert!(!state.overdue(date(2026, 1, 1)), "closed is never overdue");
        assert_eq!(i.log.len(), 8);
    }

    /// A tablet whose clock is a year behind dispatches an incident: the
    /// deadline counts from when the server received the dispatch, and the
    /// device's time is kept beside it.
    #[test]
    fn deadlines_count_from_the_servers_receipt_time_not_the_device_clock() {
        let cal = WorkCalendar::bundled();
        let mut i = incident();
        let wrong_clock = ms(date(2024, 9, 30));
        let received = ms(date(2025, 9, 30));
        for (actor, action) in [
            (WORKER, Action::Report),
            (SUPERVISOR, Action::Accept),
            (SUPERVISOR, dispatch(5)),
        ] {
            transition(&mut i, &cal, actor, action, "", vec![], wrong_clock).unwrap();
        }
        let by_device = derive(&i, &cal);
        assert!(by_device.overdue(date(2025, 10, 1)), "a year-old deadline");
        for entry in &mut i.log {
            entry.received_at = Some(received);
        }
        let state = derive(&i, &cal);
        assert_eq!(state.deadline, Some(date(2025, 10, 14)));
        assert!(!state.overdue(date(2025, 10, 14)));
        assert_eq!(state.reported_at, Some(received));
        assert_eq!(i.log[2].at, wrong_clock, "the device's time is kept");
    }

    #[test]
    fn invalid_transitions_are_refused_with_a_reason() {
        let cal = WorkCalendar::bundled();
        let mut i = incident();
        let now = ms(date(2025, 11, 3));
        let err = transition(&mut i, &cal, WORKER, Action::Verify, "", vec![], now).unwrap_err();
        assert_eq!(err.code(), "wrong_status");
        transition(&mut i, &cal, WORKER, Action::Report, "", vec![], now).unwrap();
        let err = transition(&mut i, &cal, WORKER, Action::Accept, "", vec![], now).unwrap_err();
        assert_eq!(err.code(), "role_not_allowed");
        let err =
            transition(&mut i, &cal, SUPERVISOR, Action::Return, " ", vec![], now).unwrap_err();
        assert_eq!(err.code(), "reason_required");
        assert_eq!(
            err.params(),
            crate::problem::params([("action", "return".into())])
        );
        // Resolving on the spot needs an after-photo.
        let err =
            transition(&mut i, &cal, WORKER, Action::ResolveOnSpot, "", vec![], now).unwrap_err();
        assert_eq!(err.code(), "photos_required");
        transition(
            &mut i,
            &cal,
            WORKER,
            Action::ResolveOnSpot,
            "",
            photo(),
            now,
        )
        .unwrap();
        // A grid leader who reported it cannot verify their own report.
        let mut own = incident();
        own.meta.created_by = "leader-1".into();
        let leader = Actor {
            user: "leader-1",
            role: Role::GridLeader,
        };
        transition(&mut own, &cal, leader, Action::Report, "", vec![], now).unwrap();
        transition(
            &mut own,
            &cal,
            leader,
            Action::ResolveOnSpot,
            "",
            photo(),
            now,
        )
        .unwrap();
        let err = transition(&mut own, &cal, leader, Action::Verify, "", vec![], now).unwrap_err();
        assert_eq!(err.code(), "own_work");
        assert_eq!(
            err.params(),
            crate::problem::params([("action", "verify".into())])
        );
        // A worker cannot verify at all.
        let err = transition(&mut i, &cal, WORKER, Action::Verify, "", vec![], now).unwrap_err();
        assert_eq!(err.code(), "role_not_allowed");
        assert_eq!(i.log.len(), 2, "refused transitions append nothing");
    }

    #[test]
    fn escalation_goes_up_one_level_unless_a_reason_is_given() {
        let cal = WorkCalendar::bundled();
        let mut i = incident();
        let now = ms(date(2025, 11, 3));
        transition(&mut i, &cal, WORKER, Action::Report, "", vec![], now).unwrap();
        let skip = Action::Escalate {
            to: Level::District,
        };
        let err = transition(&mut i, &cal, WORKER, skip.clone(), "", vec![], now).unwrap_err();
        assert_eq!(err.code(), "reason_required");
        transition(
            &mut i,
            &cal,
            WORKER,
            skip,
            "涉及多个街道，需区级协调",
            vec![],
            now,
        )
        .unwrap();
        let state = derive(&i, &cal);
        assert_eq!(
            (state.level, state.status, state.escalations),
            (Level::District, Status::Reported, 1)
        );
        let down = Action::Escalate { to: Level::Street };
        let err = transition(&mut i, &cal, SUPERVISOR, down, "", vec![], now).unwrap_err();
        assert_eq!(err.code(), "not_up");
    }

    #[test]
    fn dissatisfied_feedback_reopens_and_resume_returns_to_where_it_was() {
        let cal = WorkCalendar::bundled();
        let mut i = incident();
        let now = ms(date(2025, 11, 3));
        for (actor, action, photos) in [
            (WORKER, Action::Report, vec![]),
            (WORKER, Action::ResolveOnSpot, photo()),
            (SUPERVISOR, Action::Verify, vec![]),
            (
                WORKER,
                Action::Feedback {
                    satisfaction: Satisfaction::Dissatisfied,
                },
                vec![],
            ),
        ] {
            transition(&mut i, &cal, actor, action, "", photos, now).unwrap();
        }
        let state = derive(&i, &cal);
        assert_eq!(state.status, Status::Accepted);
        assert_eq!(state.feedback, Some(Satisfaction::Dissatisfied));
        assert!(!state.resolved_on_spot);
        transition(&mut i, &cal, SUPERVISOR, dispatch(3), "", vec![], now).unwrap();
        transition(
            &mut i,
            &cal,
            SUPERVISOR,
            Action::Suspend,
            "等待业主回国",
            vec![],
            now,
        )
        .unwrap();
        assert_eq!(derive(&i, &cal).status, Status::Suspended);
        transition(&mut i, &cal, SUPERVISOR, Action::Resume, "", vec![], now).unwrap();
        assert_eq!(derive(&i, &cal).status, Status::Dispatched);
    }

    #[test]
    fn two_offline_transitions_both_survive_and_every_device_derives_the_same() {
        let cal = WorkCalendar::bundled();
        let now = ms(date(2025, 11, 3));
        let author = Author::new("gw-1", now);
        let mut reported = incident();
        transition(&mut reported, &cal, WORKER, Action::Report, "", vec![], now).unwrap();
        let mut worker = RecordDoc::create(&reported, ActorId::from(vec![1; 16]), &author).unwrap();
        let mut supervisor = worker.fork(ActorId::from(vec![2; 16]));
        // Offline at once: the worker resolves on the spot, the supervisor returns it.
        worker
            .update::<Incident>(&author, |i| {
                transition(i, &cal, WORKER, Action::ResolveOnSpot, "", photo(), now).unwrap();
            })
            .unwrap();
        supervisor
            .update::<Incident>(&Author::new("sup-1", now), |i| {
                transition(i, &cal, SUPERVISOR, Action::Return, "地址不详", vec![], now).unwrap();
            })
            .unwrap();
        worker.merge(&mut supervisor).unwrap();
        supervisor.merge(&mut worker).unwrap();
        let (a, b) = (
            worker.read::<Incident>().unwrap(),
            supervisor.read::<Incident>().unwrap(),
        );
        assert_eq!(a.log.len(), 3, "both entries survive");
        assert_eq!(a.log, b.log);
        let (da, db) = (derive(&a, &cal), derive(&b, &cal));
        assert_eq!(da, db);
        assert_eq!(da.skipped.len(), 1, "the second one is kept but skipped");
        assert!(matches!(da.status, Status::Resolved | Status::Returned));
    }

    #[test]
    fn what_is_offered_is_what_check_accepts_and_nothing_else() {
        let cal = WorkCalendar::bundled();
        let mut i = incident();
        let now = ms(date(2025, 11, 3));
        transition(&mut i, &cal, WORKER, Action::Report, "", vec![], now).unwrap();
        let state = derive(&i, &cal);
        let reporter = i.meta.created_by.clone();
        let offered = |actor| offered(&state, &reporter, actor);
        assert_eq!(
            offered(SUPERVISOR).actions,
            ["accept", "return", "resolve_on_spot", "suspend", "escalate"]
        );
        assert_eq!(
            offered(WORKER),
            Offered {
                actions: vec!["resolve_on_spot", "escalate"],
                escalate_to: vec![Level::Street, Level::District, Level::City],
            }
        );
        assert_eq!(offered(HANDLER), Offered::default());
        // At the top of the ladder there is nowhere to escalate to.
        transition(
            &mut i,
            &cal,
            WORKER,
            Action::Escalate { to: Level::City },
            "涉及全市",
            vec![],
            now,
        )
        .unwrap();
        let top = derive(&i, &cal);
        let at_top = super::offered(&top, &reporter, SUPERVISOR);
        assert!(!at_top.actions.contains(&"escalate"), "{at_top:?}");
        assert!(at_top.escalate_to.is_empty());
    }

    fn any_step() -> impl Strategy<Value = (usize, u8)> {
        (0usize..3, 0u8..10)
    }

    fn action_for(n: u8) -> (Actor<'static>, Action, Vec<String>, &'static str) {
        match n {
            0 => (WORKER, Action::Report, vec![], ""),
            1 => (SUPERVISOR, Action::Accept, vec![], ""),
            2 => (SUPERVISOR, Action::Return, vec![], "补充照片"),
            3 => (SUPERVISOR, dispatch(3), vec![], ""),
            4 => (HANDLER, Action::Start, vec![], ""),
            5 => (HANDLER, Action::Resolve, photo(), ""),
            6 => (WORKER, Action::ResolveOnSpot, photo(), ""),
            7 => (SUPERVISOR, Action::Verify, vec![], ""),
            8 => (SUPERVISOR, Action::Close, vec![], ""),
            _ => (WORKER, Action::Escalate { to: Level::Street }, vec![], ""),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Three devices take random transitions offline, syncing now and
        /// then; after a full merge every device has the same log and state,
        /// and no appended entry is lost.
        #[test]
        fn transitions_from_three_devices_converge(steps in prop::collection::vec(any_step(), 1..30)) {
            let cal = WorkCalendar::bundled();
            let now = ms(date(2025, 11, 3));
            let author = Author::new("x", now);
            let mut origin = RecordDoc::create(&incident(), ActorId::from(vec![1; 16]), &author).unwrap();
            let mut docs: Vec<RecordDoc> = (0..3).map(|i| origin.fork(ActorId::from(vec![10 + i as u8; 16]))).collect();
            let mut appended = 0;
            for (k, (device, n)) in steps.iter().enumerate() {
                if k % 7 == 6 {
                    let mut other = docs[(device + 1) % 3].fork(ActorId::from(vec![99; 16]));
                    docs[*device].merge(&mut other).unwrap();
                }
                let (actor, action, photos, opinion) = action_for(*n);
                let hash = docs[*device].update::<Incident>(&author, |i| {
                    let _ = transition(i, &cal, actor, action, opinion, photos, now);
                }).unwrap();
                appended += usize::from(hash.is_some());
            }
            let mut copies: Vec<RecordDoc> = docs.iter_mut().map(|d| d.fork(ActorId::from(vec![98; 16]))).collect();
            for d in docs.iter_mut() {
                for c in copies.iter_mut() {
                    d.merge(c).unwrap();
                }
            }
            let first = docs[0].read::<Incident>().unwrap();
            prop_assert_eq!(first.log.len(), appended);
            let state = derive(&first, &cal);
            for d in &docs[1..] {
                let other = d.read::<Incident>().unwrap();
                prop_assert_eq!(&other.log, &first.log);
                prop_assert_eq!(derive(&other, &cal), state.clone());
            }
        }
    }
}
