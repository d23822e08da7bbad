//! The platform keystore against a real Secret Service: GNOME Keyring on a
//! D-Bus session bus of its own. A test that needs it runs itself again,
//! as a child process, under `dbus-run-session` with a keyring daemon
//! unlocked with an empty password and a fresh home folder (the app's
//! keystore finds the bus through the environment, which a test cannot
//! change in its own process). `scripts/setup` installs the daemon; where
//! it is missing the test says so and passes, except under CI, where it
//! fails.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use gridwork_core::model::Role;
use gridwork_core::vault::sign_in::SignInKey;
use gridwork_core::vault::{KEYS_FILE, Keystore};
use gridwork_tests::{Server, community};

use super::{PlatformKeystore, platform};
use crate::errors::ErrorCode;
use crate::lock::recovery_tests::{kept, sign_in};
use crate::lock::tests::{assert_nothing_in_clear, households, open, save_records_in, saved};
use crate::lock::{set_pin_in, unlock_in, view as pin_status_in};
use crate::state::{AppState, lock};

const PIN: &str = "135792";
const NEW_PIN: &str = "246813";
/// Set in the child process that runs inside the private keyring.
const IN_KEYRING: &str = "GRIDWORK_TEST_IN_KEYRING";
/// What the child's shell exits with when the keyring daemon did not start.
const NO_DAEMON: i32 = 77;

/// Whether to run the test `name` (its path in this binary) here: in the
/// child, yes; in the parent, it runs the child inside a private keyring,
/// checks that it passed, and answers no.
#[allow(clippy::print_stderr)]
fn in_keyring(name: &str) -> bool {
    if std::env::var_os(IN_KEYRING).is_some() {
        return true;
    }
    let skip = |why: String| {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} needs a Secret Service under CI: {why}"
        );
        // The reason, where a test runner shows it.
        eprintln!("SKIPPED {name}: {why} (scripts/setup installs gnome-keyring and dbus)");
        false
    };
    for tool in ["dbus-run-session", "gnome-keyring-daemon"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return skip(format!("{tool} is not installed"));
        }
    }
    let home = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("dbus-run-session")
        .args([
            "--",
            "sh",
            "-c",
            &format!(
                "printf '\\n' | gnome-keyring-daemon --unlock --components=secrets >/dev/null \
                 || exit {NO_DAEMON}; exec \"$0\" \"$@\""
            ),
        ])
        .arg(&exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(IN_KEYRING, "1")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("XDG_RUNTIME_DIR", home.path())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(NO_DAEMON) {
        return skip(format!("gnome-keyring-daemon did not start: {stderr}"));
    }
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} in the keyring: {}\n{stdout}\n{stderr}",
        output.status
    );
    false
}

/// The app's state for `dir` with the platform keystore, as `run` sets it.
fn open_with_keystore(dir: &Path) -> (AppState, Arc<dyn Keystore>) {
    let keystore = platform().expect("the Secret Service answers in the test's keyring");
    assert_eq!(keystore.kind(), "secret-service");
    let state = open(dir);
    lock(&state.keys).keystore = Some(keystore.clone());
    (state, keystore)
}

/// The keystore entry the PIN's wrap in `dir` names.
fn entry_in(dir: &Path) -> String {
    let keys: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(KEYS_FILE)).unwrap()).unwrap();
    assert_eq!(keys["pin"]["keystore"]["kind"], "secret-service", "{keys}");
    keys["pin"]["keystore"]["entry"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A copy of every file of the data folder `dir`.
fn copy_of(dir: &Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    copy
}

#[test]
fn a_copied_data_folder_does_not_open_with_the_right_pin_without_the_keystore_secret() {
    if !in_keyring(
        "keystore::tests::a_copied_data_folder_does_not_open_with_the_right_pin_without_the_keystore_secret",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (state, keystore) = open_with_keystore(dir.path());
    state.sign_in(saved()).unwrap();
    let view = set_pin_in(&state, PIN.into()).unwrap();
    assert_eq!(view.keystore.as_deref(), Some("secret-service"));
    save_records_in(&state);
    drop(state);
    assert_nothing_in_clear(dir.path());
    let entry = entry_in(dir.path());
    let secret = keystore.get(&entry).unwrap().expect("the device secret");
    assert_eq!(secret.len(), 32);
    let found =
        gridwork_core::vault::found_in_folder(dir.path(), &[("device secret", &secret[..])])
            .unwrap();
    assert!(found.is_empty(), "the device secret is not in the folder");

    // The copy, where the keystore holds the secret: the PIN opens it.
    let copy = copy_of(dir.path());
    let (state, _) = open_with_keystore(copy.path());
    assert!(unlock_in(&state, PIN.into()).unwrap().unlocked);
    assert_eq!(households(&state).len(), 1);
    drop(state);

    // The copy on a machine without a keystore: the right PIN opens
    // nothing, and no try is counted.
    let copy = copy_of(dir.path());
    let state = open(copy.path());
    let refused = unlock_in(&state, PIN.into()).unwrap_err();
    assert_eq!(refused.code, ErrorCode::KeystoreUnavailable);
    assert!(state.session().is_none());
    assert_eq!(pin_status_in(&state).unwrap().failures, 0);
    drop(state);

    // Someone trying PINs offline against the copy, told the keystore is
    // not needed: the right PIN is a wrong one without the secret.
    let mut keys: serde_json::Value =
        serde_json::from_slice(&std::fs::read(copy.path().join(KEYS_FILE)).unwrap()).unwrap();
    keys["pin"].as_object_mut().unwrap().remove("keystore");
    std::fs::write(copy.path().join(KEYS_FILE), keys.to_string()).unwrap();
    let state = open(copy.path());
    assert_eq!(
        unlock_in(&state, PIN.into()).unwrap_err().code,
        ErrorCode::PinWrong
    );
    assert!(state.session().is_none());
    drop(state);

    // A keystore that answers without the entry (another device's, or
    // this one's after a reset): the PIN's wrap is useless from then on.
    let copy = copy_of(dir.path());
    PlatformKeystore.delete(&entry).unwrap();
    assert!(keystore.get(&entry).unwrap().is_none());
    let (state, _) = open_with_keystore(copy.path());
    assert_eq!(
        unlock_in(&state, PIN.into()).unwrap_err().code,
        ErrorCode::PinKeystoreLost
    );
    let view = pin_status_in(&state).unwrap();
    assert!(
        view.locked_out && view.keystore_lost && !view.set,
        "{view:?}"
    );
    assert!(state.session().is_none());
}

#[test]
fn a_reset_keystore_then_a_password_login_keep_the_data() {
    if !in_keyring("keystore::tests::a_reset_keystore_then_a_password_login_keep_the_data") {
        return;
    }
    let server = Server::start().unwrap();
    let worker = community()
        .users
        .iter()
        .find(|u| u.role == Role::GridWorker)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (state, keystore) = open_with_keystore(dir.path());
    assert_eq!(sign_in(&state, &server, &worker.id), SignInKey::New);
    set_pin_in(&state, PIN.into()).unwrap();
    save_records_in(&state);
    assert_eq!(kept(&state), (1, 1, true));
    drop(state);

    // The keyring is reset.
    let entry = entry_in(dir.path());
    keystore.delete(&entry).unwrap();
    let (state, _) = open_with_keystore(dir.path());
    assert_eq!(
        unlock_in(&state, PIN.into()).unwrap_err().code,
        ErrorCode::PinKeystoreLost
    );
    let view = pin_status_in(&state).unwrap();
    assert!(view.locked_out && view.keystore_lost, "{view:?}");

    // A fresh password login: the server's recovery secret opens the
    // same data; a new PIN gets a new device secret.
    assert_eq!(sign_in(&state, &server, &worker.id), SignInKey::Recovered);
    assert_eq!(kept(&state), (1, 1, true));
    set_pin_in(&state, NEW_PIN.into()).unwrap();
    drop(state);
    let new_entry = entry_in(dir.path());
    assert_ne!(new_entry, entry);
    assert!(keystore.get(&new_entry).unwrap().is_some());

    let (state, _) = open_with_keystore(dir.path());
    assert_eq!(
        unlock_in(&state, PIN.into()).unwrap_err().code,
        ErrorCode::PinWrong
    );
    assert!(unlock_in(&state, NEW_PIN.into()).unwrap().unlocked);
    assert_eq!(kept(&state), (1, 1, true));
}

#[test]
fn without_a_keystore_the_pin_alone_wraps_the_key_and_the_app_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let state = open(dir.path());
    state.sign_in(saved()).unwrap();
    let view = set_pin_in(&state, PIN.into()).unwrap();
    assert_eq!(view.keystore, None);
    save_records_in(&state);
    drop(state);
    let keys = std::fs::read_to_string(dir.path().join(KEYS_FILE)).unwrap();
    assert!(!keys.contains("\"keystore\""), "{keys}");
    let state = open(dir.path());
    assert!(unlock_in(&state, PIN.into()).unwrap().unlocked);
    assert_eq!(households(&state).len(), 1);
}
