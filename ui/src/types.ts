// The records and answers the backend sends. Generated from the Rust types
// (gridwork-core's model, src-tauri's commands) into ./bindings/app.ts by
// ts-rs; this module only re-exports them under the names the screens use,
// and adds the few shapes that exist on the TypeScript side alone.

export type {
  Address,
  AppInfo,
  CareTag,
  CareTagKind,
  CareTagOption,
  CategoryMajor,
  CheckIn,
  CommandError,
  Conflict,
  ConflictValue,
  DueVisit,
  FieldError,
  Gender,
  GeoPoint,
  Grid,
  Household,
  HouseholdUse,
  IdNumberInfo,
  Incident,
  IncidentView,
  Lang,
  ListArgs,
  LoginArgs,
  MapFeature,
  MaskedView,
  Meta,
  Patrol,
  PatrolEdit,
  PatrolMetrics,
  PatrolView,
  PhotoRef,
  PhotoRole,
  Projection,
  Protection,
  RecordKind,
  Resident,
  SessionInfo,
  SyncStatus,
  Task,
  TaskItem,
  TaskRow,
  TimelineEntry,
  TrackPoint,
  Transition,
  UploadView as PhotoUpload,
  Urgency,
  Visit,
  VisitForm,
  VisitKind,
} from './bindings/app'

import type { Protection, RecordKind } from './bindings/app'

/** Which masked field of which saved record the worker reveals (logged):
 * `log_reveal`'s arguments, which Tauri takes one by one in camelCase. */
export interface RevealArgs {
  kind: RecordKind
  recordId: string
  /** The record's field name, e.g. `id_number`. */
  field: string
  protection: Protection
}
