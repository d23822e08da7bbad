//! The console API's paths, each written once: the router in
//! [`super::routes`] mounts them under [`BASE`], and
//! `ui/src/bindings/console.ts` exports them ([`super::bindings`]) as
//! `CONSOLE_PATHS`, from which the console's client builds every URL
//! (`{id}` and the like filled in). The table of what each one does is in
//! [`super`]'s docs.

/// Declares each path as a constant, and [`ALL`], every path by name.
macro_rules! paths {
    ($($(#[doc = $doc:literal])* $name:ident = $path:literal;)*) => {
        $($(#[doc = $doc])* pub const $name: &str = $path;)*
        /// Every path by its constant's name, for the TypeScript bindings.
        pub const ALL: &[(&str, &str)] = &[$((stringify!($name), $path)),*];
    };
}

/// Where the API is mounted; the paths below are relative to it.
pub const BASE: &str = "/console/api";

paths! {
    /// `POST {user, password}`: signs in.
    LOGIN = "/login";
    /// `POST`: signs out.
    LOGOUT = "/logout";
    /// `GET`: the signed-in user.
    ME = "/me";
    /// `GET`: the queue.
    QUEUE = "/queue";
    /// `GET`: a record's page.
    RECORD = "/records/{id}";
    /// `POST`: a review decision.
    REVIEW = "/records/{id}/review";
    /// `POST`: the record in clear, as far as the role may.
    REVEAL = "/records/{id}/reveal";
    /// `POST`: a workflow step.
    TRANSITION = "/incidents/{id}/transition";
    /// `POST`: a dispute's mediation record.
    MEDIATION = "/incidents/{id}/mediation";
    /// `POST`: an after-photo's bytes.
    INCIDENT_PHOTOS = "/incidents/{id}/photos";
    /// `GET`: a record's photo or thumbnail.
    RECORD_PHOTO = "/records/{id}/photos/{sha256}";
    /// `POST`: a file of 12345 work orders.
    HOTLINE_IMPORT = "/hotline/import";
    /// `GET` the campaigns, `POST` a new one.
    TASKS = "/tasks";
    /// `GET`: a campaign grid by grid.
    CAMPAIGN = "/tasks/{campaign}";
    /// `GET`: a ledger.
    LIST = "/lists/{list}";
    /// `GET`: a ledger as a file.
    LIST_EXPORT = "/lists/{list}/export";
    /// `GET`: the access log.
    ACCESS_LOG = "/access-log";
    /// `GET`: the tablets and their states (an admin's).
    DEVICES = "/devices";
    /// `POST`: marks a tablet lost.
    DEVICE_LOST = "/devices/{id}/lost";
    /// `POST`: revokes a tablet.
    DEVICE_REVOKE = "/devices/{id}/revoke";
    /// `GET`: the dashboard's figures.
    DASHBOARD = "/dashboard";
    /// `GET`: the figures as a file.
    DASHBOARD_EXPORT = "/dashboard/export";
    /// `GET`: the grids' boundaries, GeoJSON.
    MAP_GRIDS = "/map/grids";
    /// `GET`: the incidents with a point, GeoJSON.
    MAP_INCIDENTS = "/map/incidents";
}
