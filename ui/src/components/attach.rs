//! Attaching files to a reply (issue 17): picked with the file dialog, dropped on the composer
//! or pasted (a screenshot), checked as the server checks them, and previewed before sending.

use base64::Engine as _;
use inbox_core::desktop::ReplyFile;
use inbox_core::media::{self, Kind, Refused, FILES_MAX, FILE_MAX, MESSAGE_MAX};
use yew::prelude::*;

/// A file waiting in the composer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picked {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// The bytes in base64: what the IPC carries, and a photo's preview as a `data:` URL.
    pub base64: String,
}

impl Picked {
    pub fn to_reply_file(&self) -> ReplyFile {
        ReplyFile {
            file_name: self.file_name.clone(),
            content_type: self.content_type.clone(),
            base64: self.base64.clone(),
        }
    }
}

/// What is accepted, for the file dialog.
pub const ACCEPT: &str = "image/jpeg,image/png,image/webp,image/heic,application/pdf,audio/*";

/// Adds `more` to `have` within the limits; the reason for the first one refused.
pub fn add(have: &[Picked], more: Vec<Picked>) -> (Vec<Picked>, Option<String>) {
    let mut out = have.to_vec();
    let mut refused = None;
    for p in more {
        let why = match media::kind(&p.content_type) {
            Err(r) => Some(r),
            Ok(_) if p.size > FILE_MAX => Some(Refused::TooLarge),
            Ok(_) if out.len() >= FILES_MAX => Some(Refused::TooMany),
            Ok(_) if out.iter().map(|f| f.size).sum::<u64>() + p.size > MESSAGE_MAX => {
                Some(Refused::MessageTooLarge)
            }
            Ok(_) => None,
        };
        match why {
            None => out.push(p),
            Some(r) if refused.is_none() => refused = Some(format!("{}: {r}", p.file_name)),
            Some(_) => {}
        }
    }
    (out, refused)
}

/// Reads files from a file list (the dialog, a drop, a paste). A pasted screenshot has no
/// name of its own (WebKit calls it `image.png`): it is called `screenshot.png` (or `.jpg`).
pub async fn read(list: web_sys::FileList) -> Vec<Picked> {
    let mut out = Vec::new();
    for i in 0..list.length() {
        let Some(f) = list.get(i) else { continue };
        let file = gloo_file::File::from(f);
        let content_type = media::essence(&file.raw_mime_type());
        let name = match file.name() {
            n if n.trim().is_empty() || n == "image.png" => {
                format!(
                    "screenshot.{}",
                    media::extension(&content_type).unwrap_or("png")
                )
            }
            n => n,
        };
        let size = file.size();
        // Too large to read at all: refused by `add` from its size alone.
        let bytes = if size <= FILE_MAX {
            gloo_file::futures::read_as_bytes(&file)
                .await
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        out.push(Picked {
            file_name: name,
            content_type,
            size,
            base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        });
    }
    out
}

#[derive(Properties, PartialEq)]
pub struct PickedFilesProps {
    pub files: Vec<Picked>,
    pub on_remove: Callback<usize>,
}

/// The files a reply will carry, before it is sent: a photo's preview, a file's card.
#[function_component]
pub fn PickedFiles(props: &PickedFilesProps) -> Html {
    if props.files.is_empty() {
        return html! {};
    }
    html! {
        <ul id="composer-files" class="composer-files" aria-label="Attached files">
            { for props.files.iter().enumerate().map(|(i, f)| {
                let remove = props.on_remove.clone();
                let label = media::preview(&[(f.content_type.clone(), f.file_name.clone())]);
                html! {
                    <li class="composer-file" data-name={f.file_name.clone()}>
                        if media::kind(&f.content_type) == Ok(Kind::Photo) && f.content_type != "image/heic" {
                            <img class="composer-file-preview" alt={f.file_name.clone()}
                                src={format!("data:{};base64,{}", f.content_type, f.base64)} />
                        } else {
                            <span class="composer-file-card">{ label }</span>
                        }
                        <span class="composer-file-name" title={f.file_name.clone()}>{ &f.file_name }</span>
                        <button type="button" class="composer-file-remove button-link"
                            aria-label={format!("Remove {}", f.file_name)}
                            onclick={Callback::from(move |_: MouseEvent| remove.emit(i))}>{ "✕" }</button>
                    </li>
                }
            }) }
        </ul>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, t: &str, size: u64) -> Picked {
        Picked {
            file_name: name.into(),
            content_type: t.into(),
            size,
            base64: String::new(),
        }
    }

    #[test]
    fn files_are_checked_as_the_server_checks_them() {
        let (ok, why) = add(
            &[],
            vec![
                p("a.jpg", "image/jpeg", 10),
                p("q.pdf", "application/pdf", 10),
            ],
        );
        assert_eq!((ok.len(), why), (2, None));
        let (ok, why) = add(&ok, vec![p("clip.mp4", "video/mp4", 10)]);
        assert_eq!(ok.len(), 2);
        assert!(why.unwrap().contains("Video not accepted"));
        let (ok, why) = add(&ok, vec![p("big.png", "image/png", FILE_MAX + 1)]);
        assert_eq!(ok.len(), 2);
        assert!(why.unwrap().contains("Over 10 MB"));
        let (ok, why) = add(
            &ok,
            vec![
                p("c.png", "image/png", 1),
                p("d.png", "image/png", 1),
                p("e.png", "image/png", 1),
            ],
        );
        assert_eq!(ok.len(), 4);
        assert!(why.unwrap().starts_with("e.png: More than 4 files"));
    }
}
