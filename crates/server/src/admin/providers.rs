//! `inbox-server provider set`: set or rotate an organisation's Twilio account (sid, auth token,
//! numbers) and WhatsApp Cloud API number (phone number id, access token). Secrets are sealed
//! bound to the organisation; the result is read back (so it is known to open) and described
//! without them. Running servers cache Twilio accounts for up to a minute.

use chrono::Utc;
use inbox_core::Id;

use crate::store::{ProviderUpdate, Store, StoreError};

/// What `provider set` is given; None leaves a setting as it is, an empty text clears it.
#[derive(Clone, Default)]
pub struct ProviderInput {
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token: Option<String>,
    pub twilio_numbers: Option<Vec<String>>,
    pub whatsapp_phone_number_id: Option<String>,
    pub whatsapp_access_token: Option<String>,
    pub voice_forward_to: Option<String>,
    /// The language model (AIA-1): URL and model name, and the key if given.
    pub ai_model: Option<inbox_core::api::LanguageModelUpdate>,
}

fn twilio_sid(s: &str) -> anyhow::Result<String> {
    let s = s.trim();
    let ok = s.is_empty()
        || (s.len() == 34 && s.starts_with("AC") && s[2..].chars().all(|c| c.is_ascii_hexdigit()));
    if !ok {
        anyhow::bail!("{s:?} is not a Twilio account sid (AC followed by 32 hex digits)");
    }
    Ok(s.to_string())
}

fn secret(what: &str, s: &str) -> anyhow::Result<String> {
    let s = s.trim();
    if s.chars().any(char::is_whitespace) || s.len() > 1024 {
        anyhow::bail!("{what} must be one word of at most 1024 characters");
    }
    Ok(s.to_string())
}

fn phone(s: &str) -> anyhow::Result<String> {
    inbox_core::phone::normalize(s).map_err(|e| anyhow::anyhow!("{e}"))
}

fn validate(i: ProviderInput) -> anyhow::Result<ProviderUpdate> {
    let u = ProviderUpdate {
        twilio_account_sid: i
            .twilio_account_sid
            .as_deref()
            .map(twilio_sid)
            .transpose()?,
        twilio_auth_token: i
            .twilio_auth_token
            .as_deref()
            .map(|t| secret("the Twilio auth token", t))
            .transpose()?,
        twilio_numbers: i
            .twilio_numbers
            .map(|ns| {
                ns.iter()
                    .filter(|n| !n.trim().is_empty())
                    .map(|n| phone(n))
                    .collect::<anyhow::Result<Vec<_>>>()
            })
            .transpose()?,
        whatsapp_phone_number_id: i
            .whatsapp_phone_number_id
            .map(|p| {
                let p = p.trim().to_string();
                if p.len() > 64 || !p.chars().all(|c| c.is_ascii_digit()) {
                    anyhow::bail!("{p:?} is not a WhatsApp phone number id (digits)");
                }
                Ok(p)
            })
            .transpose()?,
        whatsapp_access_token: i
            .whatsapp_access_token
            .as_deref()
            .map(|t| secret("the WhatsApp access token", t))
            .transpose()?,
        voice_forward_to: i
            .voice_forward_to
            .map(|n| {
                if n.trim().is_empty() {
                    Ok(String::new())
                } else {
                    phone(&n)
                }
            })
            .transpose()?,
        ai_model: i
            .ai_model
            .map(|m| m.validate().map_err(|e| anyhow::anyhow!(e)))
            .transpose()?,
        by: None,
    };
    let nothing = u.twilio_account_sid.is_none()
        && u.twilio_auth_token.is_none()
        && u.twilio_numbers.is_none()
        && u.whatsapp_phone_number_id.is_none()
        && u.whatsapp_access_token.is_none()
        && u.voice_forward_to.is_none()
        && u.ai_model.is_none();
    if nothing {
        anyhow::bail!("nothing to set: give at least one of --twilio-account-sid, --twilio-auth-token, --twilio-numbers, --whatsapp-phone-number-id, --whatsapp-access-token, --voice-forward-to, --ai-model-url with --ai-model");
    }
    Ok(u)
}

/// Applies the settings and describes the organisation's providers as they now stand.
pub async fn set_providers(
    store: &Store,
    org_id: Id,
    input: ProviderInput,
) -> anyhow::Result<String> {
    let update = validate(input)?;
    let Some(org) = store.organisation(org_id).await? else {
        anyhow::bail!("there is no organisation {org_id}");
    };
    store
        .set_provider_settings(org_id, update, Utc::now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => anyhow::anyhow!(m),
            StoreError::NotFound => anyhow::anyhow!("there is no organisation {org_id}"),
            e => anyhow::anyhow!(e),
        })?;
    let twilio = match store.twilio_account_of(org_id).await? {
        Some(a) => format!(
            "Twilio account {} with numbers [{}]",
            a.account_sid,
            a.numbers.join(", ")
        ),
        None => "Twilio not configured (it needs an account sid and an auth token)".into(),
    };
    let whatsapp = match store.whatsapp_account_of(org_id).await? {
        Some(a) if !a.access_token.is_empty() => {
            format!("WhatsApp phone number id {}", a.phone_number_id)
        }
        Some(a) => format!(
            "WhatsApp phone number id {} without an access token (sending needs one)",
            a.phone_number_id
        ),
        None => "WhatsApp not configured".into(),
    };
    let model = store.language_model_settings(org_id).await?;
    let model = match (model.url.is_empty(), model.key_set) {
        (true, _) => "no language model".to_string(),
        (false, true) => format!("language model {} at {} with a key", model.model, model.url),
        (false, false) => format!("language model {} at {}", model.model, model.url),
    };
    Ok(format!(
        "organisation {org_id} ({}): {twilio}; {whatsapp}; {model}",
        org.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_before_anything_is_stored() {
        assert!(validate(ProviderInput::default())
            .unwrap_err()
            .to_string()
            .starts_with("nothing to set"));
        let bad_sid = ProviderInput {
            twilio_account_sid: Some("AC123".into()),
            ..Default::default()
        };
        assert!(validate(bad_sid).is_err());
        let u = validate(ProviderInput {
            twilio_numbers: Some(vec!["01632 960002".into(), " ".into()]),
            voice_forward_to: Some(String::new()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(u.twilio_numbers, Some(vec!["+441632960002".to_string()]));
        assert_eq!(u.voice_forward_to, Some(String::new()));
        assert!(validate(ProviderInput {
            twilio_auth_token: Some("two words".into()),
            ..Default::default()
        })
        .is_err());
    }
}
