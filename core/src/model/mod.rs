//! The record model: typed structs for every record DOMAIN.md lists.
pub mod grid;
