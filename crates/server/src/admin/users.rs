//! `inbox-server user disable|enable|set-password|revoke-sessions --email E`.

use chrono::Utc;

use super::plural;
use crate::store::{Store, UserAccount};

async fn find(store: &Store, email: &str) -> anyhow::Result<UserAccount> {
    store
        .user_by_email(email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("there is no user with email {}", email.trim()))
}

fn who(u: &UserAccount) -> String {
    format!("{} (user {}, organisation {})", u.email, u.id, u.org_id)
}

/// Disables a user: they cannot sign in, and every session of theirs ends now (open sync
/// sockets close within a second).
pub async fn disable_user(store: &Store, email: &str) -> anyhow::Result<String> {
    let u = find(store, email).await?;
    let ended = store.set_user_active(u.id, false, Utc::now()).await?;
    Ok(format!(
        "disabled {}; {} ended",
        who(&u),
        plural(ended, "session")
    ))
}

pub async fn enable_user(store: &Store, email: &str) -> anyhow::Result<String> {
    let u = find(store, email).await?;
    store.set_user_active(u.id, true, Utc::now()).await?;
    Ok(format!("enabled {}; they can sign in again", who(&u)))
}

/// Sets a new password; the user's sessions end, so every device signs in with the new one.
pub async fn set_password(store: &Store, email: &str, password: &str) -> anyhow::Result<String> {
    super::check_password(password)?;
    let u = find(store, email).await?;
    let hash = crate::auth::password::hash(password)?;
    let ended = store.set_password_hash(u.id, &hash, Utc::now()).await?;
    Ok(format!(
        "set a new password for {}; {} ended",
        who(&u),
        plural(ended, "session")
    ))
}

pub async fn revoke_sessions(store: &Store, email: &str) -> anyhow::Result<String> {
    let u = find(store, email).await?;
    let ended = store.end_sessions(u.id, Utc::now()).await?;
    Ok(format!("{} of {} ended", plural(ended, "session"), who(&u)))
}
