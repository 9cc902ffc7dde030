//! Sending through the Twilio Messages API (PROVIDERS §1.4): a form POST with HTTP Basic auth;
//! 201 with the message resource, or an error JSON with a numeric `code`.

use inbox_core::providers::status::{error_reason, is_transient};
use inbox_core::providers::Provider;
use serde::Deserialize;

use super::{http_client, unreachable, unreadable, Accepted, SendError};
use crate::store::TwilioAccount;

#[derive(Clone)]
pub struct TwilioSender {
    http: reqwest::Client,
    base: String,
}

#[derive(Deserialize)]
struct Resource {
    sid: String,
    status: String,
}

/// A message as Twilio's lookup returns it (only what settles our status).
#[derive(Debug, Deserialize, PartialEq, Eq)]
pub struct Looked {
    pub status: String,
    /// Twilio sends the code as a number (or null).
    #[serde(default, deserialize_with = "code_text")]
    pub error_code: Option<String>,
}

/// A message as Twilio's message list returns it.
#[derive(Debug, Deserialize, PartialEq, Eq)]
pub struct Listed {
    pub sid: String,
    #[serde(default)]
    pub body: String,
    pub status: String,
    #[serde(default, deserialize_with = "code_text")]
    pub error_code: Option<String>,
    /// `outbound-api` for what the API sent.
    #[serde(default)]
    pub direction: String,
    /// RFC 2822, as Twilio writes dates.
    #[serde(default)]
    pub date_created: String,
}

impl Listed {
    pub fn created(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::parse_from_rfc2822(&self.date_created)
            .ok()
            .map(|d| d.with_timezone(&chrono::Utc))
    }
}

/// One page of Twilio's message list.
#[derive(Debug, Deserialize)]
pub struct ListPage {
    pub messages: Vec<Listed>,
    #[serde(default)]
    pub next_page_uri: Option<String>,
}

fn code_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    })
}

#[derive(Deserialize)]
struct ErrorJson {
    code: Option<i64>,
    message: Option<String>,
}

impl TwilioSender {
    pub fn new(base: &str, timeout: std::time::Duration) -> TwilioSender {
        TwilioSender {
            http: http_client(timeout),
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// Sends `body` from the account's first number to `to` (E.164, or `whatsapp:+…`), with a
    /// `MediaUrl` for each of `media` (an MMS; Twilio fetches each URL).
    pub async fn send(
        &self,
        account: &TwilioAccount,
        to: &str,
        body: &str,
        media: &[String],
        status_callback: &str,
    ) -> Result<Accepted, SendError> {
        let from = account
            .numbers
            .first()
            .ok_or_else(|| SendError::permanent("this garage has no Twilio number to send from"))?;
        let from = if to.starts_with("whatsapp:") {
            format!("whatsapp:{from}")
        } else {
            from.clone()
        };
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.base, account.account_sid
        );
        let res = self
            .http
            .post(url)
            .basic_auth(&account.account_sid, Some(&account.auth_token))
            .form(
                &[
                    ("To", to),
                    ("From", from.as_str()),
                    ("Body", body),
                    ("StatusCallback", status_callback),
                ]
                .into_iter()
                .chain(media.iter().map(|u| ("MediaUrl", u.as_str())))
                .collect::<Vec<_>>(),
            )
            .send()
            .await
            .map_err(|e| unreachable("Twilio", &e))?;
        let status = res.status();
        let text = res
            .text()
            .await
            .map_err(|e| unreadable("Twilio", status.is_success(), e))?;
        if status.is_success() {
            let r: Resource =
                serde_json::from_str(&text).map_err(|e| unreadable("Twilio", true, e))?;
            return Ok(Accepted {
                provider_id: r.sid,
                status: r.status,
            });
        }
        let err: Option<ErrorJson> = serde_json::from_str(&text).ok();
        let code = err.as_ref().and_then(|e| e.code).map(|c| c.to_string());
        let message = err.as_ref().and_then(|e| e.message.clone());
        Err(SendError {
            transient: is_transient(Provider::Twilio, Some(status.as_u16()), code.as_deref()),
            maybe_accepted: false,
            reason: match code {
                Some(c) => error_reason(Provider::Twilio, &c, message.as_deref()),
                None => format!("Twilio refused the message (HTTP {status})"),
            },
        })
    }

    /// Twilio's Messages lookup (`GET …/Messages/{sid}.json`): where a message we sent stands,
    /// for one whose status callbacks never arrived.
    pub async fn look_up(
        &self,
        account: &TwilioAccount,
        message_sid: &str,
    ) -> Result<Looked, SendError> {
        let path = format!("Messages/{message_sid}.json");
        self.get_json(account, &path, &[], "message lookup").await
    }

    /// Twilio's message list (`GET …/Messages.json?To=…`): the newest `page_size` messages the
    /// account has for `to`, for a send whose answer was lost. Not filtered by date: Twilio's
    /// date filter is on the date sent, which a message still queued does not have yet.
    pub async fn list_to(
        &self,
        account: &TwilioAccount,
        to: &str,
        page_size: usize,
    ) -> Result<ListPage, SendError> {
        let size = page_size.to_string();
        let query = [("To", to), ("PageSize", size.as_str())];
        self.get_json(account, "Messages.json", &query, "message list")
            .await
    }

    /// A GET on the account's resource `path`, read as JSON; an answer other than 2xx is a
    /// transient failure naming `what`.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        account: &TwilioAccount,
        path: &str,
        query: &[(&str, &str)],
        what: &str,
    ) -> Result<T, SendError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/{path}",
            self.base, account.account_sid
        );
        let res = self
            .http
            .get(url)
            .query(query)
            .basic_auth(&account.account_sid, Some(&account.auth_token))
            .send()
            .await
            .map_err(|e| unreachable("Twilio", &e))?;
        let status = res.status();
        let text = res
            .text()
            .await
            .map_err(|e| unreadable("Twilio", status.is_success(), e))?;
        if !status.is_success() {
            return Err(SendError::transient(format!(
                "Twilio's {what} answered HTTP {status}"
            )));
        }
        serde_json::from_str(&text).map_err(|e| unreadable("Twilio", true, e))
    }
}
