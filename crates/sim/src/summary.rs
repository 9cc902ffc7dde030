//! The `inbox-server seed-demo` summary, read leniently: the organisations with their Twilio
//! account, WhatsApp phone number id and customer-portal sign-ins. It holds secrets (auth tokens,
//! portal tokens), so nothing here implements `Debug` with them in it.

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

#[derive(Clone, Deserialize)]
pub struct Summary {
    pub organisations: Vec<Organisation>,
}

#[derive(Clone, Deserialize)]
pub struct Organisation {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub twilio: Option<TwilioAccount>,
    #[serde(default)]
    pub whatsapp: Option<WhatsappAccount>,
    #[serde(default)]
    pub portal: Vec<PortalSignIn>,
}

#[derive(Clone, Deserialize)]
pub struct TwilioAccount {
    pub account_sid: String,
    pub auth_token: String,
    #[serde(default)]
    pub numbers: Vec<String>,
}

#[derive(Clone, Deserialize)]
pub struct WhatsappAccount {
    pub phone_number_id: String,
}

#[derive(Clone, Deserialize)]
pub struct PortalSignIn {
    #[serde(default)]
    pub customer_id: i64,
    #[serde(default)]
    pub customer_name: String,
    pub token: String,
}

impl Summary {
    /// Reads the file `seed-demo` wrote. Tolerates log lines before the JSON object.
    pub fn load(path: &Path) -> anyhow::Result<Summary> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the seed summary {}", path.display()))?;
        Summary::parse(&text)
            .with_context(|| format!("reading the seed summary {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Summary> {
        let start = text.find('{').context("no JSON object in the summary")?;
        let summary: Summary =
            serde_json::from_str(&text[start..]).context("not a seed-demo summary")?;
        Ok(summary)
    }

    pub fn from_value(value: serde_json::Value) -> anyhow::Result<Summary> {
        Ok(serde_json::from_value(value)?)
    }

    pub fn org(&self, index: usize) -> anyhow::Result<&Organisation> {
        self.organisations.get(index).with_context(|| {
            format!(
                "the summary has {} organisations; there is no index {index}",
                self.organisations.len()
            )
        })
    }

    /// The Twilio account with this SID, in any organisation.
    pub fn twilio_account(&self, account_sid: &str) -> Option<&TwilioAccount> {
        self.organisations
            .iter()
            .filter_map(|o| o.twilio.as_ref())
            .find(|t| t.account_sid == account_sid)
    }

    /// The organisation whose WhatsApp number has this id.
    pub fn whatsapp_org(&self, phone_number_id: &str) -> Option<&Organisation> {
        self.organisations.iter().find(|o| {
            o.whatsapp
                .as_ref()
                .is_some_and(|w| w.phone_number_id == phone_number_id)
        })
    }
}

impl Organisation {
    /// The garage number customers text and call: the first Twilio number.
    pub fn garage_number(&self) -> Option<&str> {
        self.twilio
            .as_ref()
            .and_then(|t| t.numbers.first())
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_seed_summary_is_read_with_its_accounts() {
        let text = r#"2025 INFO seeding
        { "password": "demo-password", "organisations": [
          { "id": 1, "name": "Demo Motors", "users": [],
            "twilio": { "account_sid": "AC1", "auth_token": "t1", "numbers": ["+441632960001"] },
            "whatsapp": { "phone_number_id": "100000000000001" },
            "portal": [{ "customer_id": 4, "customer_name": "Ann", "token": "p" }] },
          { "id": 2, "name": "Northside" } ] }"#;
        let s = Summary::parse(text).unwrap();
        assert_eq!(s.org(0).unwrap().garage_number(), Some("+441632960001"));
        assert_eq!(s.twilio_account("AC1").unwrap().auth_token, "t1");
        assert!(s.twilio_account("AC2").is_none());
        assert_eq!(s.whatsapp_org("100000000000001").unwrap().id, 1);
        assert_eq!(s.org(0).unwrap().portal.len(), 1);
        assert!(s.org(1).unwrap().twilio.is_none());
        assert!(s.org(2).is_err());
    }
}
