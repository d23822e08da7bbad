// Generated from the Rust types by ts-rs: do not edit.
// Regenerate with `scripts/bindings`.

/**
 * What a transition does.
 */
export type Action = { "type": "report" } | { "type": "accept" } | { "type": "return" } | { "type": "dispatch", to: Assignee, deadline_days: number, } | { "type": "start" } | { "type": "resolve" } | { "type": "resolve_on_spot" } | { "type": "verify" } | { "type": "feedback", satisfaction: Satisfaction, } | { "type": "close" } | { "type": "suspend" } | { "type": "resume" } | { "type": "escalate", to: Level, };

/**
 * A structured address: estate › building › unit › room in towns, or
 * natural village › group in the countryside. Empty parts are empty strings.
 */
export type Address = { 
/**
 * 小区 estate.
 */
estate: string, 
/**
 * 楼栋 building.
 */
building: string, 
/**
 * 单元 unit.
 */
unit: string, 
/**
 * 室 room.
 */
room: string, 
/**
 * 自然村 natural village.
 */
village: string, 
/**
 * 组 village group.
 */
group: string, 
/**
 * Anything else (a street number, a landmark).
 */
detail: string, };

/**
 * Any record, for code that handles documents of every kind.
 */
export type AnyRecord = { "kind": "household" } & Household | { "kind": "resident" } & Resident | { "kind": "incident" } & Incident | { "kind": "patrol" } & Patrol | { "kind": "visit" } & Visit | { "kind": "task" } & Task | { "kind": "incident_parties" } & IncidentParties;

/**
 * Whom an incident is dispatched to.
 */
export type Assignee = { 
/**
 * `department` or `person`.
 */
kind: AssigneeKind, 
/**
 * Department code or user id.
 */
id: string, 
/**
 * Display name (城管执法队, 李明).
 */
name: string, };

/**
 * Whether an incident went to a department or a person.
 */
export type AssigneeKind = "department" | "person";

/**
 * A GeoJSON `Polygon` or `MultiPolygon` geometry in WGS-84.
 *
 * Serializes exactly as the GeoJSON geometry object
 * (`{"type": "Polygon", "coordinates": [[[lon, lat], …]]}`), so it can be
 * handed to a map as is. Every position is `[longitude, latitude]` in
 * degrees; the first ring of a polygon is its outline, the others are holes,
 * and each ring is closed (its last position repeats the first).
 */
export type Boundary = { "type": "Polygon", 
/**
 * Rings of `[lon, lat]` positions.
 */
coordinates: Array<Array<[number, number]>>, } | { "type": "MultiPolygon", 
/**
 * Polygons, each a list of rings of `[lon, lat]` positions.
 */
coordinates: Array<Array<Array<[number, number]>>>, };

/**
 * A care/management tag with its visit cycle. [S]
 */
export type CareTag = { tag: CareTagKind, 
/**
 * Days between visits required for this tag.
 */
visit_cycle_days: number, 
/**
 * Unix milliseconds when the tag was added.
 */
since: number, };

/**
 * A care or management tag (关爱/管理对象). All are [S].
 */
export type CareTagKind = "elderly_living_alone" | "left_behind_child" | "disability" | "low_income" | "community_correction" | "released_prisoner" | "severe_mental_disorder" | "key_youth";

/**
 * A care tag kind as the resident form offers it.
 */
export type CareTagOption = { tag: CareTagKind, 
/**
 * The cycle a new tag of this kind starts with.
 */
default_cycle_days: number, 
/**
 * Visible to restricted roles only.
 */
restricted: boolean, };

/**
 * A two-level category: a major category and a free second level
 * (e.g. 环保 › 噪音扰民).
 */
export type Category = { major: CategoryMajor, minor: string, };

/**
 * The first level of an incident's category; it routes the incident to a
 * department.
 */
export type CategoryMajor = "dispute" | "safety_hazard" | "fire" | "work_safety" | "city_management" | "environment" | "public_order" | "livelihood_services" | "petition" | "market_supervision" | "other";

/**
 * A check-in at a point on the way (a building, a shop, a hazard).
 */
export type CheckIn = { 
/**
 * Unix milliseconds.
 */
at: number, point: GeoPoint, photo: PhotoRef | null, 
/**
 * The QR code scanned, if the check-in point has one.
 */
qr: string | null, note: string, };

/**
 * A field with more than one concurrent value.
 */
export type Conflict = { 
/**
 * Dotted path, with list indexes as numbers: `address.room`,
 * `parties.0.phone`.
 */
path: string, 
/**
 * Every value; the first is the one currently shown.
 */
values: Array<ConflictValue>, };

/**
 * One value among several written concurrently to the same field.
 */
export type ConflictValue = { value: JsonValue, 
/**
 * User id that wrote it, from the change's message. The server
 * refuses a change whose message names anyone but the pushing user,
 * and the console shows the user it bound the actor to instead.
 */
user: string | null, 
/**
 * Unix seconds on the writer's clock.
 */
time: number | null, 
/**
 * Hex actor id of the device that wrote it.
 */
actor: string, 
/**
 * Hex hash of the change that wrote it, where the server looks up
 * who it bound the actor to and when it received the change.
 */
change: string | null, };

/**
 * The state of an incident derived from its log.
 */
export type Derived = { status: Status, level: Level, assignee: Assignee | null, 
/**
 * The working-day deadline (Asia/Shanghai date), set by a dispatch.
 */
deadline: string | null, 
/**
 * Who resolved it last (verification must be by someone else).
 */
resolved_by: string | null, 
/**
 * Resolved straight from the report (就地解决).
 */
resolved_on_spot: boolean, 
/**
 * The latest feedback.
 */
feedback: Satisfaction | null, 
/**
 * How many times it went up the ladder.
 */
escalations: number, 
/**
 * The latest return's reason, while returned.
 */
return_reason: string | null, 
/**
 * Unix ms (server time when known) of the first report, acceptance,
 * resolution and closing, for the supervisors' figures.
 */
reported_at: number | null, accepted_at: number | null, resolved_at: number | null, closed_at: number | null, 
/**
 * Log entries the fold skipped, with why: two people acted at once and
 * this one came second. They stay in the log and the timeline.
 */
skipped: Array<Skipped>, 
/**
 * The status to go back to on resume.
 */
suspended_from: Status | null, };

/**
 * A form's unsaved content.
 */
export type Draft = { 
/**
 * `<kind>.<what>`, as the form named it.
 */
key: string, 
/**
 * The form's content as the form holds it.
 */
value: JsonValue, 
/**
 * Unix ms, device clock: when the form last changed.
 */
saved_at: number, };

/**
 * One row of the visits due list.
 */
export type DueVisit = { 
/**
 * The resident's masked list row (`due` is the date).
 */
resident: Projection, 
/**
 * Days from today to the due date: negative when overdue.
 */
days_left: number, overdue: boolean, };

/**
 * Education level.
 */
export type Education = "none" | "primary" | "junior_high" | "senior_high" | "vocational" | "college" | "bachelor" | "postgraduate";

/**
 * An emergency contact. [PI]
 */
export type EmergencyContact = { name: string, phone: string, relation: string, };

/**
 * A stable code for what is wrong with a field, for the UI to translate.
 *
 * The serialized form (see [`Code::as_str`]) never changes once shipped.
 * Each variant documents what [`ValidationError::detail`] holds for it.
 */
export type FieldCode = "required" | "too_long" | "too_many" | "too_large" | "invalid_enum" | "invalid_format" | "id_length" | "id_characters" | "id_region" | "id_birth_date_impossible" | "id_birth_date_future" | "id_birth_date_too_early" | "id_check_character" | "mobile_invalid" | "name_invalid" | "date_invalid" | "out_of_range";

/**
 * A person's gender as recorded (from the ID number where there is one).
 */
export type Gender = "male" | "female" | "unknown";

/**
 * A point in WGS-84 with the reference system recorded. Chinese base maps
 * use GCJ-02 or BD-09: convert only for display.
 */
export type GeoPoint = { lon: number, lat: number, 
/**
 * Always "EPSG:4326" (WGS-84) for stored points.
 */
crs: string, 
/**
 * Horizontal accuracy in metres, when the device reported one.
 */
accuracy_m: number | null, };

/**
 * One node of the grid tree (网格), as set up by an admin.
 */
export type Grid = { 
/**
 * Unique code, by convention the parent's code plus a few digits
 * (`"440106001001001"`: district 440106, street 001, community 001,
 * grid 001).
 */
code: string, 
/**
 * Name shown to users (`"石牌西第1网格"`).
 */
name: string, 
/**
 * Level in the tree.
 */
level: GridLevel, 
/**
 * Code of the parent node; `None` for the root of a tree.
 */
parent: string | null, 
/**
 * Comprehensive (综合) or dedicated (专属).
 */
kind: GridKind, 
/**
 * Boundary polygon in WGS-84; required from grid level down, optional
 * above.
 */
boundary: Boundary | null, 
/**
 * Coordinate reference system of `boundary` and `centroid`; always
 * `"EPSG:4326"` (WGS-84). Base maps in GCJ-02 or BD-09 convert only for
 * display.
 */
crs: string, 
/**
 * Centroid of the boundary as `[lon, lat]`, computed when the tree is
 * built; for a node without a boundary, whatever the admin gave.
 */
centroid: [number, number] | null, };

/**
 * Whether a grid covers everything in its area or serves one department or
 * site (a school, a hospital, an industrial park).
 */
export type GridKind = "comprehensive" | "dedicated";

/**
 * A level of the grid tree, ordered from the top (city) to the bottom
 * (micro-grid): `City < District < … < MicroGrid`.
 */
export type GridLevel = "city" | "district" | "street" | "community" | "grid" | "micro_grid";

/**
 * A household (户).
 */
export type Household = { address: Address, point: GeoPoint | null, use: HouseholdUse, 
/**
 * [PI] Owner's full name.
 */
owner_name: string, 
/**
 * [PI] Owner's mobile number.
 */
owner_phone: string | null, 
/**
 * [S] Owner's resident ID number.
 */
owner_id_number: string | null, door_plate_photo: PhotoRef | null, 
/**
 * [S]
 */
flags: HouseholdFlags, 
/**
 * Unix milliseconds of the last visit recorded.
 */
last_visit_at: number | null, 
/**
 * Supervisors' reviews, append-only.
 */
review: Array<ReviewEntry>, 
/**
 * Device-generated UUIDv7.
 */
id: string, 
/**
 * Code of the grid the record belongs to.
 */
grid: string, 
/**
 * User id of the creator.
 */
created_by: string, 
/**
 * Unix milliseconds (device clock) when the record was created.
 */
created_at: number, 
/**
 * Tombstone: a deleted record stays as a document, hidden everywhere.
 * Once any device sets it, it stays set (see [`crate::doc`]).
 */
deleted: boolean, };

/**
 * Flags a worker keeps on a household. [S]: visible to restricted roles.
 * A fixed map created with the record, so concurrent edits set scalars.
 */
export type HouseholdFlags = { 
/**
 * 低保 minimum-living-allowance household.
 */
low_income: boolean, 
/**
 * 独居 someone lives alone (typically elderly).
 */
living_alone: boolean, 
/**
 * 残疾 a member with a disability.
 */
disability: boolean, 
/**
 * 特扶 a family under special support.
 */
special_support: boolean, 
/**
 * 重点 a household of key concern.
 */
key_concern: boolean, };

/**
 * What a household's dwelling is used for.
 */
export type HouseholdUse = "owner_occupied" | "rented" | "vacant" | "business";

/**
 * The kind of identity document.
 */
export type IdType = "resident_id" | "residence_permit" | "passport" | "foreign_permanent_resident" | "other";

/**
 * An incident (事件).
 */
export type Incident = { 
/**
 * Human-readable number, unique per device and day, e.g.
 * `SJ20261122-3F9A-0001`.
 */
number: string, title: string, description: string, category: Category, source: IncidentSource, urgency: Urgency, point: GeoPoint | null, address: string, 
/**
 * Unix milliseconds when it happened.
 */
happened_at: number, 
/**
 * Before and after photos.
 */
photos: Array<PhotoRef>, 
/**
 * The 12345 hotline work order number, if it came from one.
 */
hotline_order: string | null, 
/**
 * The patrol it was found on.
 */
patrol_id: string | null, 
/**
 * For disputes: the mediation record.
 */
mediation: Mediation | null, 
/**
 * The append-only transition log (see [`crate::workflow`]).
 */
log: Array<Transition>, 
/**
 * Device-generated UUIDv7.
 */
id: string, 
/**
 * Code of the grid the record belongs to.
 */
grid: string, 
/**
 * User id of the creator.
 */
created_by: string, 
/**
 * Unix milliseconds (device clock) when the record was created.
 */
created_at: number, 
/**
 * Tombstone: a deleted record stays as a document, hidden everywhere.
 * Once any device sets it, it stays set (see [`crate::doc`]).
 */
deleted: boolean, };

/**
 * The parties of one incident.
 */
export type IncidentParties = { 
/**
 * The incident these are the parties of.
 */
incident: string, 
/**
 * [PI/S]
 */
parties: Array<Party>, 
/**
 * Device-generated UUIDv7.
 */
id: string, 
/**
 * Code of the grid the record belongs to.
 */
grid: string, 
/**
 * User id of the creator.
 */
created_by: string, 
/**
 * Unix milliseconds (device clock) when the record was created.
 */
created_at: number, 
/**
 * Tombstone: a deleted record stays as a document, hidden everywhere.
 * Once any device sets it, it stays set (see [`crate::doc`]).
 */
deleted: boolean, };

/**
 * Where an incident came from.
 */
export type IncidentSource = "patrol" | "resident" | "hotline12345" | "assigned";

/**
 * An incident with its derived state and its timeline.
 */
export type IncidentView = { incident: Incident, status: Status, derived: Derived, timeline: Array<TimelineEntry>, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * The escalation ladder: grid → street/town → district → city.
 */
export type Level = "grid" | "street" | "district" | "city";

/**
 * The user a login enrolled the device for (and the console's signed-in
 * user).
 */
export type LoginUser = { id: string, name: string, role: Role, grid: string, department?: string | null, };

/**
 * A marker on the field app's grid map: a household or an open incident
 * that has a point. Carries only the masked list row's text.
 */
export type MapFeature = { 
/**
 * The record's masked list row.
 */
row: Projection, 
/**
 * WGS-84 longitude and latitude, as stored.
 */
lon: number, lat: number, };

/**
 * A record as a form shows it before the user reveals anything: the
 * record masked for [`Reveal::MASKED`], and the class each protected
 * path's reveal must be logged as ([`Field::reveal_class`]).
 */
export type MaskedView = { 
/**
 * Always an object: the record's fields by name.
 */
record: { [key in string]?: JsonValue }, 
/**
 * Paths as in [`FIELDS`] (`*` for any list index).
 */
classes: { [key in string]: Protection }, };

/**
 * The mediation record a dispute (矛盾纠纷) incident carries.
 */
export type Mediation = { 
/**
 * The mediator's name: staff acting in their role, shown like an
 * assignee (see [`crate::privacy`]).
 */
mediator: string, method: MediationMethod, 
/**
 * What was agreed.
 */
outcome: string, success: boolean, 
/**
 * Unix milliseconds.
 */
mediated_at?: number | null, };

/**
 * How a dispute was mediated (调解方式).
 */
export type MediationMethod = "on_site" | "peoples_mediation_committee" | "joint" | "judicial_confirmation";

/**
 * The fields every record has.
 */
export type Meta = { 
/**
 * Device-generated UUIDv7.
 */
id: string, 
/**
 * Code of the grid the record belongs to.
 */
grid: string, 
/**
 * User id of the creator.
 */
created_by: string, 
/**
 * Unix milliseconds (device clock) when the record was created.
 */
created_at: number, 
/**
 * Tombstone: a deleted record stays as a document, hidden everywhere.
 * Once any device sets it, it stays set (see [`crate::doc`]).
 */
deleted: boolean, };

/**
 * Every notice the server sends, with the params its message takes.
 */
export type NoticeCode = "transition_refused" | "immutable_field" | "record_deleted" | "review_refused" | "field_not_allowed";

/**
 * One parameter of an error: a number or a text.
 *
 * A whole number serializes as an integer (`50`, not `50.0`), in JSON and
 * in the sync protocol's CBOR alike, so a message shows "50" in every UI
 * and an outside client reads an integer where one is meant; other numbers
 * stay floats. Reading accepts either.
 */
export type Param = number | string;

/**
 * A person involved in an incident. [PI]; the ID number is [S]. Kept in
 * the incident's [`super::IncidentParties`] record, not in the incident.
 */
export type Party = { name: string, phone: string, 
/**
 * [S]
 */
id_number: string, 
/**
 * e.g. 申请人, 被申请人, 当事人.
 */
role: string, };

/**
 * A patrol (巡查). Distance, time inside the grid and the share of the grid
 * covered are derived from the track by [`crate::geo::patrol_metrics`].
 */
export type Patrol = { 
/**
 * User id of the worker on patrol.
 */
worker: string, 
/**
 * Unix milliseconds.
 */
started_at: number, 
/**
 * Unix milliseconds; none while the patrol is running.
 */
ended_at: number | null, 
/**
 * [S] GPS track, recorded only while on duty.
 */
track: Array<TrackPoint>, check_ins: Array<CheckIn>, notes: string, 
/**
 * Incidents reported from this patrol.
 */
incident_ids: Array<string>, 
/**
 * Device-generated UUIDv7.
 */
id: string, 
/**
 * Code of the grid the record belongs to.
 */
grid: string, 
/**
 * User id of the creator.
 */
created_by: string, 
/**
 * Unix milliseconds (device clock) when the record was created.
 */
created_at: number, 
/**
 * Tombstone: a deleted record stays as a document, hidden everywhere.
 * Once any device sets it, it stays set (see [`crate::doc`]).
 */
deleted: boolean, };

/**
 * What the patrol screen records as the walk goes on.
 */
export type PatrolEdit = { "type": "point", point: TrackPoint, } | { "type": "check_in", point: GeoPoint, at: number, note: string, } | { "type": "incident", id: string, } | { "type": "stop", at: number, notes: string, } | { "type": "flush" };

/**
 * The figures derived from a patrol track; see the [module
 * doc](super#patrol-figures) for the exact rules.
 */
export type PatrolMetrics = { 
/**
 * Distance walked in metres, GPS jumps left out.
 */
distance_m: number, 
/**
 * Seconds spent inside the boundary, gaps over 5 minutes left out.
 */
inside_s: number, 
/**
 * `cells_visited / cells_total`, from 0 to 1 (0 when there are no cells).
 */
coverage_share: number, 
/**
 * Number of 20 m cells whose centre lies inside the boundary.
 */
cells_total: number, 
/**
 * Number of those cells whose centre lies within 15 m of the track.
 */
cells_visited: number, };

/**
 * A patrol with its figures, for the patrol screens.
 */
export type PatrolView = { patrol: Patrol, 
/**
 * Distance, time inside the grid and coverage so far; coverage is 0
 * when the patrol's grid has no boundary among `grids`.
 */
metrics: PatrolMetrics, 
/**
 * Milliseconds from start to end (or to `now_ms` while running).
 */
duration_ms: number, };

/**
 * A photo referenced from a record by the SHA-256 of its compressed bytes.
 * The bytes travel separately as a content-addressed blob.
 */
export type PhotoRef = { 
/**
 * Lowercase hex SHA-256 of the upload-ready JPEG.
 */
sha256: string, 
/**
 * Lowercase hex SHA-256 of the thumbnail, when one was made.
 */
thumb_sha256: string | null, role: PhotoRole, bytes: number, width: number, height: number, 
/**
 * Unix milliseconds when the photo was taken (device clock).
 */
taken_at: number | null, };

/**
 * What a photo shows in its record.
 */
export type PhotoRole = "before" | "after" | "door_plate" | "evidence";

/**
 * Population type (人口类型).
 */
export type PopulationType = "registered" | "floating" | "foreign" | "left_behind";

/**
 * The plain, denormalized row of a record that the local store keeps for
 * listing, filtering and full-text search. Derived; never edited.
 */
export type Projection = { id: string, kind: RecordKind, grid: string, 
/**
 * A one-line title for lists (an address, a name, an incident title).
 */
title: string, 
/**
 * A second line for lists (masked: no [PI]/[S] values in clear).
 */
subtitle: string, 
/**
 * Workflow or review status, snake_case.
 */
status: string | null, 
/**
 * Incident category or visit kind, household use, resident population type.
 */
category: string | null, urgency: string | null, 
/**
 * The household a resident belongs to, or a visit's target.
 */
parent_id: string | null, 
/**
 * A date (YYYY-MM-DD) something is due: an incident's deadline, a
 * resident's next visit.
 */
due: string | null, 
/**
 * Unix milliseconds when the record was created.
 */
created_at: number, created_by: string, deleted: boolean, 
/**
 * Text indexed for full-text search (no [S] values). Never
 * serialized: it holds [PI] in clear, and a list row is a masked view
 * (see [`crate::privacy`]).
 */
search_text?: string, };

/**
 * How protected a field is (DOMAIN.md's marks).
 */
export type Protection = "pi" | "s";

/**
 * The kinds of record kept as Automerge documents.
 */
export type RecordKind = "household" | "resident" | "incident" | "patrol" | "visit" | "task" | "incident_parties";

/**
 * Every refusal the server sends, with the params its message takes.
 * Nothing of a refused document's pushed changes was stored.
 */
export type RejectionCode = "malformed_change" | "missing_dependencies" | "actor_mismatch" | "author_mismatch" | "outside_scope" | "role_not_allowed" | "invalid_record" | "parties_in_incident" | "parties_outside_grid" | "point_outside_grid" | "immutable_field" | "doc_id_mismatch" | "doc_wrong_kind" | "doc_not_a_record" | "doc_too_new" | "doc_shape" | "doc_corrupt" | "record_created_twice" | "change_too_large" | "document_too_large" | "transition_forged" | "review_forged" | "server_error" | "compact_unresolved";

/**
 * A resident's relation to the head of their household.
 */
export type Relation = "head" | "spouse" | "child" | "parent" | "grandchild" | "sibling" | "tenant" | "other";

/**
 * A resident (人口).
 */
export type Resident = { 
/**
 * The household the resident lives in.
 */
household_id: string | null, relation: Relation, 
/**
 * [PI] One full-name field (姓名); `·` and rare characters allowed.
 */
name: string, gender: Gender, 
/**
 * [PI] YYYY-MM-DD; filled from a resident ID number.
 */
birth_date: string | null, id_type: IdType, 
/**
 * [S]
 */
id_number: string | null, 
/**
 * [PI]
 */
phone: string | null, 
/**
 * 民族, e.g. 汉族.
 */
ethnicity: string, education: Education | null, 
/**
 * [PI] 户籍地.
 */
registered_residence: string, population_type: PopulationType, 
/**
 * [PI]
 */
emergency_contact: EmergencyContact, 
/**
 * [S] Care and management tags; duplicates of a tag are merged on read.
 */
care_tags: Array<CareTag>, 
/**
 * Next visit due (YYYY-MM-DD), from the shortest cycle of the tags.
 */
next_visit_due: string | null, review: Array<ReviewEntry>, 
/**
 * Device-generated UUIDv7.
 */
id: string, 
/**
 * Code of the grid the record belongs to.
 */
grid: string, 
/**
 * User id of the creator.
 */
created_by: string, 
/**
 * Unix milliseconds (device clock) when the record was created.
 */
created_at: number, 
/**
 * Tombstone: a deleted record stays as a document, hidden everywhere.
 * Once any device sets it, it stays set (see [`crate::doc`]).
 */
deleted: boolean, };

/**
 * A supervisor's review of a registered household or resident.
 */
export type ReviewDecision = "submit" | "accept" | "return";

/**
 * One entry of a record's append-only review log.
 */
export type ReviewEntry = { decision: ReviewDecision, by: string, 
/**
 * Unix milliseconds (the reviewer's clock).
 */
at: number, comment: string, };

/**
 * What a user may do; with the grid subtree it decides every permission.
 */
export type Role = "grid_worker" | "grid_leader" | "community_supervisor" | "street_supervisor" | "department_handler" | "admin";

/**
 * A resident's satisfaction with how an incident was handled.
 */
export type Satisfaction = "dissatisfied" | "satisfied" | "very_satisfied";

/**
 * A log entry that did not apply where it landed in the merged log.
 */
export type Skipped = { 
/**
 * Index in the log.
 */
index: number, reason: TransitionError, };

/**
 * Where an incident is in its closed loop.
 */
export type Status = "draft" | "reported" | "accepted" | "returned" | "dispatched" | "in_progress" | "resolved" | "verified" | "feedback_given" | "closed" | "suspended";

/**
 * One sync's progress, for the sync screen.
 */
export type SyncProgress = { 
/**
 * Changes this sync pushed.
 */
records_sent: number, 
/**
 * Changes still waiting in the outbox.
 */
records_to_send: number, 
/**
 * Changes this sync pulled.
 */
records_received: number, 
/**
 * The server's last answer said more changes follow (not how many).
 */
more_to_receive: boolean, 
/**
 * Bytes this sync moved both ways: record requests and answers, and
 * the photo bytes the server confirmed.
 */
bytes_done: number, 
/**
 * Bytes known to be left: the outbox's changes (estimated) and the
 * photos' unconfirmed bytes. Changes still to pull are not in it.
 */
bytes_left: number, 
/**
 * Photo bytes (thumbnails included) the server confirmed in this sync.
 */
photo_bytes_sent: number, 
/**
 * Photo bytes the server has not confirmed yet.
 */
photo_bytes_left: number, 
/**
 * Milliseconds left at the rate observed, once there is one and
 * something is known to be left; a lower bound while
 * `more_to_receive`.
 */
eta_ms: number | null, };

/**
 * A task for one grid.
 */
export type Task = { 
/**
 * Shared by every grid's document of one issue.
 */
campaign: string, title: string, description: string, 
/**
 * Stored as `task_kind`: the document's root `kind` names the record kind.
 */
task_kind: TaskKind, 
/**
 * Due date, `YYYY-MM-DD` (Asia/Shanghai); overdue the day after.
 */
due: string, 
/**
 * User id of the supervisor who issued it.
 */
issued_by: string, 
/**
 * Unix milliseconds, server clock.
 */
issued_at: number, 
/**
 * For screening: what was screened for (`household:living_alone`,
 * `resident:elderly_living_alone` …).
 */
filter: string | null, items: Array<TaskItem>, 
/**
 * Device-generated UUIDv7.
 */
id: string, 
/**
 * Code of the grid the record belongs to.
 */
grid: string, 
/**
 * User id of the creator.
 */
created_by: string, 
/**
 * Unix milliseconds (device clock) when the record was created.
 */
created_at: number, 
/**
 * Tombstone: a deleted record stays as a document, hidden everywhere.
 * Once any device sets it, it stays set (see [`crate::doc`]).
 */
deleted: boolean, };

/**
 * One line of a task.
 */
export type TaskItem = { 
/**
 * What to do, or a screening target's label (an address, a masked
 * name: nothing the worker does not already see in their grid).
 */
text: string, 
/**
 * The household or resident a screening line is about.
 */
target: VisitTarget | null, done: boolean, 
/**
 * User id of the worker who ticked it.
 */
done_by: string | null, 
/**
 * Unix milliseconds (device clock).
 */
done_at: number | null, note: string, };

/**
 * What kind of task.
 */
export type TaskKind = "checklist" | "screening";

/**
 * A task on the tablet's lists: its list row and where it stands.
 */
export type TaskRow = { row: Projection, done: number, total: number, open: boolean, 
/**
 * Past its due date (Asia/Shanghai) and not finished.
 */
overdue: boolean, };

/**
 * One step of an incident's timeline, as the detail screen shows it.
 */
export type TimelineEntry = { 
/**
 * Why the fold skipped this entry (two people acted at once and it
 * came second), as a code and params the UI translates; `None` when
 * it applied.
 */
skipped: TransitionError | null, action: Action, 
/**
 * User id of who acted.
 */
actor: string, 
/**
 * Their role when they acted.
 */
role: Role, 
/**
 * The status the actor saw before acting.
 */
from: Status, 
/**
 * The status the actor expected after acting.
 */
to: Status, 
/**
 * Opinion or reason (处理意见, 退回原因).
 */
opinion: string, 
/**
 * SHA-256 of photos attached to this step (after-photos of a resolve).
 */
photos: Array<string>, 
/**
 * Unix milliseconds on the actor's device clock.
 */
at: number, 
/**
 * Unix milliseconds when the server first received it. Deadlines count
 * from this when known, because device clocks lie.
 */
received_at: number | null, };

/**
 * One GPS fix of a patrol track.
 */
export type TrackPoint = { 
/**
 * Longitude, WGS-84 degrees.
 */
lon: number, 
/**
 * Latitude, WGS-84 degrees.
 */
lat: number, 
/**
 * Time of the fix, milliseconds since the Unix epoch.
 */
t_ms: number, };

/**
 * One entry of an incident's transition log. Never edited once appended,
 * except that the server may fill in `received_at`.
 */
export type Transition = { action: Action, 
/**
 * User id of who acted.
 */
actor: string, 
/**
 * Their role when they acted.
 */
role: Role, 
/**
 * The status the actor saw before acting.
 */
from: Status, 
/**
 * The status the actor expected after acting.
 */
to: Status, 
/**
 * Opinion or reason (处理意见, 退回原因).
 */
opinion: string, 
/**
 * SHA-256 of photos attached to this step (after-photos of a resolve).
 */
photos: Array<string>, 
/**
 * Unix milliseconds on the actor's device clock.
 */
at: number, 
/**
 * Unix milliseconds when the server first received it. Deadlines count
 * from this when known, because device clocks lie.
 */
received_at: number | null, };

/**
 * Why a transition is not allowed.
 */
export type TransitionError = { "code": "wrong_status", action: string, status: string, } | { "code": "role_not_allowed", action: string, role: string, } | { "code": "own_work", action: string, } | { "code": "reason_required", action: string, } | { "code": "photos_required", action: string, } | { "code": "not_up", from: string, to: string, } | { "code": "bad_deadline" } | { "code": "not_assignee", action: string, };

/**
 * How urgent an incident is.
 */
export type Urgency = "high" | "medium" | "low";

/**
 * A visit (走访).
 */
export type Visit = { target: VisitTarget, 
/**
 * Stored as `visit_kind`: the document's root `kind` names the record kind.
 */
visit_kind: VisitKind, form: VisitForm, 
/**
 * User id of the worker who visited.
 */
visitor: string, 
/**
 * Unix milliseconds.
 */
visited_at: number, point: GeoPoint | null, photos: Array<PhotoRef>, 
/**
 * [PI] What was found and said.
 */
content: string, 
/**
 * Measures taken (帮扶措施).
 */
measures: string, 
/**
 * Next visit due, YYYY-MM-DD.
 */
next_due: string | null, review: Array<ReviewEntry>, 
/**
 * Device-generated UUIDv7.
 */
id: string, 
/**
 * Code of the grid the record belongs to.
 */
grid: string, 
/**
 * User id of the creator.
 */
created_by: string, 
/**
 * Unix milliseconds (device clock) when the record was created.
 */
created_at: number, 
/**
 * Tombstone: a deleted record stays as a document, hidden everywhere.
 * Once any device sets it, it stays set (see [`crate::doc`]).
 */
deleted: boolean, };

/**
 * How the visit was made.
 */
export type VisitForm = "in_person" | "phone" | "video";

/**
 * Why the visit was made.
 */
export type VisitKind = "home" | "key_person" | "care" | "incident_follow_up";

/**
 * The record a visit is about.
 */
export type VisitTarget = { kind: VisitTargetKind, id: string, };

/**
 * What kind of record a visit is about.
 */
export type VisitTargetKind = "household" | "resident" | "incident";
