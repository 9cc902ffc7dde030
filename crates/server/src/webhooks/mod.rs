//! Provider webhooks (issue 5): Twilio (SMS/MMS, WhatsApp via Twilio, message status, voice and
//! its callbacks) and the WhatsApp Cloud API, plus the customer portal's API. Every request is
//! verified exactly as its provider signs it before anything is stored; a bad or missing
//! signature is a 403 and stores nothing. Input the provider cannot fix gets a 4xx with a reason
//! (never a 5xx, which providers retry for days); a repeated delivery changes nothing.

pub mod media;
pub mod portal;
pub mod spool;
pub mod twilio;
pub mod whatsapp;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// A webhook answer with a plain-text reason, logged.
pub(crate) fn refuse(status: StatusCode, reason: impl Into<String>) -> Response {
    let reason = reason.into();
    tracing::warn!(%status, %reason, "webhook refused");
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        reason,
    )
        .into_response()
}

/// A TwiML answer.
pub(crate) fn twiml(xml: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

/// Our own failure (the database): the provider should retry, so a 5xx is right here — and
/// the spool (`spool::durable`) turns it into a 200 once the request is safely on disk.
pub(crate) fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "webhook could not be stored");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "temporarily unable to store this webhook",
    )
        .into_response()
}

/// Provider accounts by their public id (Twilio `AccountSid`), kept briefly so a burst of
/// webhooks does not read the same row for every request. Short-lived, so a changed auth token
/// takes effect within a minute. The last account seen for each id is also kept past that, for
/// the spool alone: when the database cannot be read, a request signed with that account's
/// last-seen token is spooled in full, any other only within a small budget (`spool::signed`).
pub struct AccountCache {
    ttl: std::time::Duration,
    twilio: std::sync::Mutex<
        std::collections::HashMap<String, (std::time::Instant, crate::store::TwilioAccount)>,
    >,
}

const ACCOUNT_TTL: std::time::Duration = std::time::Duration::from_secs(60);

impl Default for AccountCache {
    fn default() -> AccountCache {
        AccountCache::with_ttl(ACCOUNT_TTL)
    }
}

impl AccountCache {
    /// A cache whose entries answer for `ttl` (zero: every request reads the database).
    pub fn with_ttl(ttl: std::time::Duration) -> AccountCache {
        AccountCache {
            ttl,
            twilio: Default::default(),
        }
    }

    /// For a Twilio request the database could not take: whether it is signed with the
    /// last-seen auth token of its `AccountSid`. `None` when that account was never seen here.
    pub(crate) fn verify_last_seen(
        &self,
        url: &str,
        params: &[(String, String)],
        signature: &str,
    ) -> Option<bool> {
        let sid = params.iter().find(|(k, _)| k == "AccountSid")?;
        let map = self.twilio.lock().ok()?;
        let (_, account) = map.get(&sid.1)?;
        Some(
            !signature.is_empty()
                && inbox_core::providers::twilio_signature::verify(
                    url,
                    params,
                    &account.auth_token,
                    signature,
                ),
        )
    }

    pub(crate) async fn twilio(
        &self,
        store: &crate::store::Store,
        account_sid: &str,
    ) -> crate::store::StoreResult<Option<crate::store::TwilioAccount>> {
        if let Ok(map) = self.twilio.lock() {
            if let Some((at, a)) = map.get(account_sid) {
                if at.elapsed() < self.ttl {
                    return Ok(Some(a.clone()));
                }
            }
        }
        let found = store.twilio_account(account_sid).await?;
        if let Ok(mut map) = self.twilio.lock() {
            match &found {
                Some(a) => {
                    map.insert(
                        account_sid.to_string(),
                        (std::time::Instant::now(), a.clone()),
                    );
                }
                None => {
                    map.remove(account_sid);
                }
            }
        }
        Ok(found)
    }
}
