//! Sync: one round trip, batched over every document, cursor based.
//!
//! [`wire`] holds the messages and their framing, pure data. The device
//! sends its unsent changes and its cursor; the server stores what it
//! accepts and answers with refusals, the changes after the cursor and the
//! new cursor. Changes are identified by their Automerge hash, so receiving
//! one twice is harmless, and the cursor only advances when the device
//! sends it back, so a connection cut at any byte loses nothing.

pub mod access_log;
pub mod api;
pub mod blobs;
pub(crate) mod chunk;
pub mod client;
pub mod compact;
pub mod http;
pub mod pack;
pub mod pages;
pub mod progress;
pub mod repair;
pub mod trust;
pub mod wipe;
pub mod wire;
