//! Which provider a message came through or left by. The server stores the name in the
//! `provider` column of messages and early statuses (and a downloaded file's `source`), so these
//! names are the database's values and must never change; Rust code passes the enum instead of
//! the bare string, and a misspelt name fails to compile rather than matching no row.

use serde::{Deserialize, Serialize};

crate::model::wire_enum!(
    /// The carrier of a message: Twilio (SMS, MMS and Twilio's WhatsApp), Meta's WhatsApp Cloud
    /// API, or the customer portal, which is our own database and so its own provider. Stored as
    /// "twilio", "whatsapp" and "portal".
    Provider { Twilio = "twilio", Whatsapp = "whatsapp", Portal = "portal" }
);

/// A provider name none of [`Provider`]'s: the stored or given text, to say what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider {0:?}; expected \"twilio\", \"whatsapp\" or \"portal\"")]
pub struct UnknownProvider(pub String);

impl std::str::FromStr for Provider {
    type Err = UnknownProvider;

    /// Exactly the stored names: no other spelling, and not "meta" (the status tables in
    /// [`super::status`] accept it as WhatsApp's, but no row ever says it).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::parse(s).ok_or_else(|| UnknownProvider(s.to_string()))
    }
}

/// The stored name, so a `Provider` goes where a provider's name is taken (the error tables in
/// [`super::status`]).
impl AsRef<str> for Provider {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_reads_back_from_its_stored_name() {
        for &p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>().unwrap(), p);
            assert_eq!(p.to_string(), p.as_str());
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
            assert_eq!(serde_json::from_str::<Provider>(&json).unwrap(), p);
        }
        let names: Vec<&str> = Provider::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(names, ["twilio", "whatsapp", "portal"]);
    }

    #[test]
    fn an_unknown_name_is_refused_and_named() {
        for name in ["meta", "Twilio", " twilio", "sms", ""] {
            let e = name.parse::<Provider>().unwrap_err();
            assert_eq!(e, UnknownProvider(name.to_string()));
            assert!(e.to_string().contains(&format!("{name:?}")), "{e}");
        }
    }
}
