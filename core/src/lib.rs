//! Gridwork's core: everything the field app and the sync server share.
//!
//! A record (household, resident, incident, patrol, visit) is one Automerge
//! document ([`doc`]), mapped to and from typed structs ([`model`]) and
//! checked by [`validate`] and masked for display by [`privacy`]. An incident's status is derived from an
//! append-only log of transitions inside its document ([`workflow`]), with
//! deadlines counted in working days ([`calendar`]). On a device the
//! documents live in a local SQLite store with query projections, Chinese
//! full-text search and an outbox ([`store`]). Grid boundaries and patrol
//! figures come from [`geo`]; photos are made upload-ready by [`media`];
//! [`sync`] holds the wire protocol and the device's sync client;
//! [`fieldwork`] is what a signed-in worker does on the device (save a
//! form, take a workflow step, record a visit …), each one call and one
//! transaction over the store; [`schema`] renders the JSON Schemas checked
//! in under `schemas/`. Demo data lives in its own crate, `gridwork-demo`,
//! so the app never ships it. [`vault`] holds the device's keys: the
//! store and every file the app writes are encrypted with a data key the
//! worker's PIN unwraps.
//!
//! This crate prints nothing and reads no environment variables: the app
//! shell and the server translate to and from it.

pub mod calendar;
pub mod doc;
pub mod fieldwork;
pub mod geo;
pub mod media;
pub mod model;
pub mod privacy;
pub mod problem;
pub mod schema;
pub mod store;
pub mod sync;
pub mod typescript;
pub mod validate;
pub mod vault;
pub mod workflow;
