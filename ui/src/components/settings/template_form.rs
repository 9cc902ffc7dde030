//! The template editor's rules (SET-1): a body's `{{n}}` parameters, the media header (CMP-2),
//! and what Save may send — all fields given, parameters numbered from `{{1}}` without gaps.

use inbox_core::desktop::SaveTemplate;
use inbox_core::{Id, TemplateHeader, WhatsappTemplate};

/// The header choices the form offers: (value of the select, label, header).
pub const HEADERS: [(&str, &str, Option<TemplateHeader>); 3] = [
    ("none", "None (text only)", None),
    ("image", "Image (a photo)", Some(TemplateHeader::Image)),
    (
        "document",
        "Document (a PDF)",
        Some(TemplateHeader::Document),
    ),
];

/// The header a select value names; anything unknown is none.
pub fn header_from(value: &str) -> Option<TemplateHeader> {
    HEADERS
        .iter()
        .find(|(v, _, _)| *v == value)
        .and_then(|(_, _, h)| *h)
}

/// The language a new template starts with.
pub const DEFAULT_LANGUAGE: &str = "en_GB";

/// A piece of a template body: text as written, or the parameter `{{n}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Param(u32),
}

/// Splits a body into text and `{{n}}` parameters; anything else in braces stays text.
pub fn pieces(body: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let number = after
            .get(..digits)
            .filter(|_| digits > 0 && after[digits..].starts_with("}}"))
            .and_then(|d| d.parse::<u32>().ok());
        if let Some(n) = number {
            if start > 0 {
                out.push(Piece::Text(&rest[..start]));
            }
            out.push(Piece::Param(n));
            rest = &after[digits + 2..];
        } else {
            out.push(Piece::Text(&rest[..start + 2]));
            rest = after;
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// The form's fields; `id` None creates.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateForm {
    pub id: Option<Id>,
    pub name: String,
    pub language: String,
    pub body: String,
    /// CMP-2: the media header Meta approved the template with.
    pub header: Option<TemplateHeader>,
}

impl Default for TemplateForm {
    fn default() -> Self {
        TemplateForm {
            id: None,
            name: String::new(),
            language: DEFAULT_LANGUAGE.into(),
            body: String::new(),
            header: None,
        }
    }
}

impl TemplateForm {
    pub fn edit(t: &WhatsappTemplate) -> TemplateForm {
        TemplateForm {
            id: Some(t.id),
            name: t.name.clone(),
            language: t.language.clone(),
            body: t.body.clone(),
            header: t.header,
        }
    }

    /// The parameters a customer's message will fill, as core counts them.
    pub fn param_count(&self) -> u32 {
        WhatsappTemplate::count_params(&self.body)
    }

    /// What Save sends, or why it cannot be right: all three fields, and parameters numbered
    /// from `{{1}}` without gaps (a gap would leave a placeholder no reply ever fills).
    pub fn validate(&self) -> Result<SaveTemplate, String> {
        let (name, language, body) = (self.name.trim(), self.language.trim(), self.body.trim());
        if name.is_empty() || language.is_empty() || body.is_empty() {
            return Err("A template needs a name, a language and a text.".into());
        }
        let count = self.param_count();
        let stray = pieces(body).into_iter().find_map(|p| match p {
            Piece::Param(n) if n == 0 || n > count => Some(n),
            _ => None,
        });
        if let Some(n) = stray {
            return Err(format!(
                "Parameter {{{{{n}}}}} is out of order: number the parameters {{{{1}}}}, {{{{2}}}} … without gaps."
            ));
        }
        Ok(SaveTemplate {
            id: self.id,
            name: name.to_string(),
            language: language.to_string(),
            body: body.to_string(),
            header: self.header,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set1_template_body_splits_into_text_and_parameters() {
        assert_eq!(
            pieces("Hi {{1}}, {{2}}!"),
            vec![
                Piece::Text("Hi "),
                Piece::Param(1),
                Piece::Text(", "),
                Piece::Param(2),
                Piece::Text("!")
            ]
        );
        assert_eq!(pieces("{{1}}"), vec![Piece::Param(1)]);
        // Not parameters: kept as text, nothing lost.
        let odd = "{{x}} {{ 1 }} {{}} {{3";
        let text: String = pieces(odd)
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => t.to_string(),
                Piece::Param(n) => format!("<{n}>"),
            })
            .collect();
        assert_eq!(text, odd);
        assert_eq!(
            pieces("café {{1}}"),
            vec![Piece::Text("café "), Piece::Param(1)]
        );
    }

    #[test]
    fn set1_template_form_defaults_to_en_gb_and_counts_parameters() {
        let mut f = TemplateForm::default();
        assert_eq!(f.language, "en_GB");
        assert!(f.validate().is_err(), "blank");
        f.name = " vehicle_ready ".into();
        f.body = "Hi {{1}}, your vehicle {{2}} is ready.".into();
        assert_eq!(f.param_count(), 2);
        let args = f.validate().unwrap();
        assert_eq!(
            (args.name.as_str(), args.language.as_str()),
            ("vehicle_ready", "en_GB")
        );
        f.language = " ".into();
        assert!(f.validate().unwrap_err().contains("language"));
    }

    #[test]
    fn cmp2_the_form_keeps_the_media_header_through_edit_and_save() {
        assert_eq!(TemplateForm::default().header, None);
        let t = WhatsappTemplate {
            id: 4,
            name: "invoice_ready".into(),
            language: "en_GB".into(),
            body: "Hi {{1}}, your invoice is attached.".into(),
            param_count: 1,
            header: Some(TemplateHeader::Document),
        };
        let mut f = TemplateForm::edit(&t);
        assert_eq!(f.validate().unwrap().header, Some(TemplateHeader::Document));
        f.header = header_from("image");
        assert_eq!(f.validate().unwrap().header, Some(TemplateHeader::Image));
        f.header = header_from("none");
        assert_eq!(f.validate().unwrap().header, None);
        assert_eq!(header_from("video"), None);
    }

    #[test]
    fn set1_parameters_must_be_numbered_without_gaps() {
        let mut f = TemplateForm {
            name: "x".into(),
            body: "Hi {{1}}, see {{3}}".into(),
            ..TemplateForm::default()
        };
        assert!(f.validate().unwrap_err().contains("{{3}}"));
        f.body = "Hi {{0}}".into();
        assert!(f.validate().is_err());
        f.body = "{{2}} then {{1}} and {{1}} again".into();
        assert!(f.validate().is_ok(), "order of use does not matter");
    }
}
