//! What the admin commands do, as library functions: the binary parses
//! flags and prints, tests call these directly.
//!
//! (Loading the demo data set belongs here too, once `gridwork_core::demo`
//! lands: generate records with the demo generator, write them as documents
//! through [`crate::storage::Storage::commit_push`] by a server-owned
//! device, and add the demo users.)

use gridwork_core::model::User;

use crate::auth::hash_password;
use crate::grids::{self, ImportError};
use crate::storage::{Account, Storage, StorageError};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Invalid(String),
}

/// Imports (adds or replaces) grids from a GeoJSON FeatureCollection.
/// Returns how many grids the file held. Nothing is stored if any check
/// fails.
pub fn import_grids(storage: &dyn Storage, geojson: &str) -> Result<usize, AdminError> {
    let import = grids::parse_geojson(geojson)?;
    let existing = storage.all_grids()?;
    let placed = grids::place(&existing, &import)?;
    storage.put_grids(&placed)?;
    Ok(import.len())
}

fn check_password(password: &str) -> Result<String, AdminError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    hash_password(password)
        .map_err(|e| AdminError::Invalid(format!("cannot hash the password: {e}")))
}

/// Adds a user with a role and a grid subtree.
pub fn add_user(storage: &dyn Storage, user: User, password: &str) -> Result<(), AdminError> {
    if user.id.is_empty()
        || !user
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(AdminError::Invalid(format!(
            "user id {:?} may hold only ASCII letters, digits, '-', '_' and '.'",
            user.id
        )));
    }
    if user.name.trim().is_empty() {
        return Err(AdminError::Invalid("a user needs a name".into()));
    }
    let password_hash = check_password(password)?;
    storage.add_user(&Account {
        user,
        password_hash,
        disabled: false,
    })?;
    Ok(())
}

/// Sets a new password. Devices already enrolled stay signed in; revoke
/// them if the old password leaked.
pub fn reset_password(
    storage: &dyn Storage,
    user_id: &str,
    password: &str,
) -> Result<(), AdminError> {
    let hash = check_password(password)?;
    storage.set_password(user_id, &hash)?;
    Ok(())
}
