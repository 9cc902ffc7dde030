//! What a WhatsApp template must be before an organisation stores it (SET-1): Meta's rules for
//! template names, language codes and body length, checked once for server and clients.

use crate::model::WhatsappTemplate;

/// Meta's longest template name.
pub const NAME_MAX: usize = 512;
/// Meta's longest template body.
pub const BODY_MAX: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("a template needs a name")]
    NoName,
    #[error("a template name is at most {NAME_MAX} characters")]
    NameTooLong,
    #[error("a template name uses only lowercase letters, digits and underscores")]
    NameCharacters,
    #[error("a template needs a language")]
    NoLanguage,
    #[error("the language must be a code like \"en\" or \"en_GB\"")]
    Language,
    #[error("a template needs a text")]
    NoBody,
    #[error("the text is {0} characters; a template allows at most {BODY_MAX}")]
    BodyTooLong(usize),
}

/// A template's fields, trimmed and checked, with the parameter count its body implies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidTemplate {
    pub name: String,
    pub language: String,
    pub body: String,
    pub param_count: u32,
}

/// Trims and checks a template's name, language and body.
pub fn validate(name: &str, language: &str, body: &str) -> Result<ValidTemplate, TemplateError> {
    let (name, language, body) = (name.trim(), language.trim(), body.trim());
    if name.is_empty() {
        return Err(TemplateError::NoName);
    }
    if name.chars().count() > NAME_MAX {
        return Err(TemplateError::NameTooLong);
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(TemplateError::NameCharacters);
    }
    if language.is_empty() {
        return Err(TemplateError::NoLanguage);
    }
    if !language_code(language) {
        return Err(TemplateError::Language);
    }
    if body.is_empty() {
        return Err(TemplateError::NoBody);
    }
    let len = body.chars().count();
    if len > BODY_MAX {
        return Err(TemplateError::BodyTooLong(len));
    }
    Ok(ValidTemplate {
        name: name.to_string(),
        language: language.to_string(),
        body: body.to_string(),
        param_count: WhatsappTemplate::count_params(body),
    })
}

/// Meta's language codes: two or three lowercase letters, optionally `_` and a two-letter
/// uppercase region (`en`, `fil`, `en_GB`, `pt_BR`). Meta matches them exactly, so case counts.
fn language_code(code: &str) -> bool {
    let (lang, region) = match code.split_once('_') {
        Some((lang, region)) => (lang, Some(region)),
        None => (code, None),
    };
    (2..=3).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_lowercase())
        && region.is_none_or(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn set1_a_template_is_trimmed_and_counts_its_parameters() {
        assert_eq!(
            validate(
                "  vehicle_ready_2 ",
                " en_GB\n",
                "\tHi {{1}}, your {{2}} is ready. "
            ),
            Ok(ValidTemplate {
                name: "vehicle_ready_2".into(),
                language: "en_GB".into(),
                body: "Hi {{1}}, your {{2}} is ready.".into(),
                param_count: 2,
            })
        );
        assert_eq!(validate("thanks", "en", "Thanks!").unwrap().param_count, 0);
    }

    #[test]
    fn set1_template_names_follow_metas_rule() {
        for bad in [
            "Vehicle_ready",
            "vehicle-ready",
            "vehicle ready",
            "véhicule",
            "mot!",
        ] {
            assert_eq!(
                validate(bad, "en", "x"),
                Err(TemplateError::NameCharacters),
                "{bad}"
            );
        }
        assert_eq!(validate("  ", "en", "x"), Err(TemplateError::NoName));
        assert!(validate(&"a".repeat(NAME_MAX), "en", "x").is_ok());
        assert_eq!(
            validate(&"a".repeat(NAME_MAX + 1), "en", "x"),
            Err(TemplateError::NameTooLong)
        );
        assert_eq!(
            TemplateError::NameCharacters.to_string(),
            "a template name uses only lowercase letters, digits and underscores"
        );
    }

    #[test]
    fn set1_template_languages_are_metas_codes() {
        for good in ["en", "en_GB", "en_US", "pt_BR", "fil", "zh_HK"] {
            assert!(validate("t", good, "x").is_ok(), "{good}");
        }
        for bad in [
            "e", "english", "en_gb", "EN", "en-GB", "en_GBR", "en_", "_GB", "e1",
        ] {
            assert_eq!(
                validate("t", bad, "x"),
                Err(TemplateError::Language),
                "{bad}"
            );
        }
        assert_eq!(validate("t", " ", "x"), Err(TemplateError::NoLanguage));
    }

    #[test]
    fn set1_template_bodies_are_non_empty_and_at_most_1024_characters() {
        assert_eq!(validate("t", "en", " \n "), Err(TemplateError::NoBody));
        // Characters, not bytes: 1024 accented letters are allowed.
        assert!(validate("t", "en", &"é".repeat(BODY_MAX)).is_ok());
        let long = "x".repeat(BODY_MAX + 1);
        assert_eq!(
            validate("t", "en", &long),
            Err(TemplateError::BodyTooLong(1025))
        );
        assert_eq!(
            TemplateError::BodyTooLong(1025).to_string(),
            "the text is 1025 characters; a template allows at most 1024"
        );
    }

    proptest! {
        #[test]
        fn a_valid_template_is_already_trimmed_and_valid_again(
            name in "[ a-z0-9_]{0,20}",
            language in "[ a-zA-Z_]{0,6}",
            body in "[ a-z{}12]{0,40}",
        ) {
            if let Ok(v) = validate(&name, &language, &body) {
                prop_assert_eq!(validate(&v.name, &v.language, &v.body), Ok(v.clone()));
                prop_assert_eq!(v.name.trim(), v.name.as_str());
                prop_assert_eq!(v.param_count, WhatsappTemplate::count_params(&v.body));
            }
        }
    }
}
