//! The server's half of a tablet's recovery secret against a real
//! `gridwork-server` (see `sync-server/src/enrol.rs`): a password login
//! hands one out; a later login of the same user naming that enrolment
//! gets the same one back; a device revoked, lost or wiped, and another
//! user, get a new one that opens nothing.

use anyhow::{Context, Result};
use gridwork_core::model::{Role, User};
use gridwork_core::sync::http::{HttpTransport, Login, login_trusting};
use gridwork_core::sync::trust::Trust;
use gridwork_core::sync::wipe;
use gridwork_tests::{PASSWORD, Server, community};

fn workers() -> Vec<&'static User> {
    community()
        .users
        .iter()
        .filter(|u| u.role == Role::GridWorker)
        .take(2)
        .collect()
}

async fn sign_in(server: &Server, user: &str, earlier: Option<&Login>) -> Result<Login> {
    Ok(login_trusting(
        &server.url(),
        &Trust::default(),
        user,
        PASSWORD,
        "平板",
        earlier.map(|l| l.device_id.as_str()),
    )
    .await?)
}

fn secret(login: &Login) -> Result<[u8; 32]> {
    let secret = login
        .recovery_secret
        .as_ref()
        .context("a password login carries a recovery secret")?;
    Ok(*secret.bytes().context("32 bytes of hex")?)
}

#[tokio::test]
async fn the_recovery_secret_comes_back_to_the_same_user_on_a_device_in_good_standing_only()
-> Result<()> {
    // One user logs in a dozen times here: more than a minute's default.
    let server = Server::start_with_config("login_per_user_per_minute = 100\n")?;
    let [a, b] = workers()[..] else {
        anyhow::bail!("the demo has two grid workers");
    };

    // Each login a secret of its own; naming the earlier enrolment hands
    // that one on, and it moves: the earlier enrolment no longer has it.
    let first = sign_in(&server, &a.id, None).await?;
    let other = sign_in(&server, &a.id, None).await?;
    assert_ne!(secret(&first)?, secret(&other)?);
    let second = sign_in(&server, &a.id, Some(&first)).await?;
    assert_eq!(secret(&second)?, secret(&first)?);
    let again = sign_in(&server, &a.id, Some(&first)).await?;
    assert_ne!(secret(&again)?, secret(&first)?, "the secret moved on");

    // Another user naming the enrolment gets none of it, and takes nothing.
    let stranger = sign_in(&server, &b.id, Some(&second)).await?;
    assert_ne!(secret(&stranger)?, secret(&first)?);
    let third = sign_in(&server, &a.id, Some(&second)).await?;
    assert_eq!(secret(&third)?, secret(&first)?);

    // A wrong password gets no answer at all.
    let refused = login_trusting(
        &server.url(),
        &Trust::default(),
        &a.id,
        "wrong password",
        "平板",
        Some(&third.device_id),
    )
    .await;
    assert!(refused.is_err());

    // Revoked: never handed on (and not to a later login either).
    server.admin(&["revoke-device", &third.device_id])?;
    let after_revoke = sign_in(&server, &a.id, Some(&third)).await?;
    assert_ne!(secret(&after_revoke)?, secret(&third)?);
    let later = sign_in(&server, &a.id, Some(&third)).await?;
    assert_ne!(secret(&later)?, secret(&third)?);

    // Lost: never handed on.
    let held = sign_in(&server, &a.id, Some(&after_revoke)).await?;
    assert_eq!(secret(&held)?, secret(&after_revoke)?);
    server.admin(&["mark-lost", &held.device_id])?;
    let after_lost = sign_in(&server, &a.id, Some(&held)).await?;
    assert_ne!(secret(&after_lost)?, secret(&held)?);

    // Wiped (lost, then the device reported the erase): never handed on.
    let tablet = sign_in(&server, &a.id, Some(&after_lost)).await?;
    server.admin(&["mark-lost", &tablet.device_id])?;
    wipe::report(&HttpTransport::new(&server.url(), &tablet.token)?).await?;
    let out = server.admin(&["list-devices"])?;
    assert!(
        out.lines()
            .any(|l| l.starts_with(&tablet.device_id) && l.contains("  wiped")),
        "{out}"
    );
    let after_wipe = sign_in(&server, &a.id, Some(&tablet)).await?;
    assert_ne!(secret(&after_wipe)?, secret(&tablet)?);
    Ok(())
}
