//! A message's photos, documents and voice notes (issue 17): thumbnails inline (a grid for
//! several) that open a viewer (zoom, previous and next, download), voice notes that play
//! inline, file cards for PDFs and the rest, and a clear card for a file on its way or one that
//! could not be had. Every file comes through the engine (`media:`), which keeps what it fetched
//! for offline reading; a photo never fetched shows a placeholder while offline.

use std::collections::HashSet;

use inbox_core::desktop::{cmd, SaveAttachment};
use inbox_core::media::{self, Attachment, AttachmentStatus, Kind};
use inbox_core::Id;
use yew::prelude::*;

use crate::components::player::Player;
use crate::ipc;

/// Where the webview asks the engine for a file: `media://localhost/…`, or on Windows (whose
/// webview serves custom schemes over http) `http://media.localhost/…`.
pub fn media_url(variant: &str, id: Id) -> String {
    format!("{}/{variant}/{id}", media_base())
}

#[cfg(target_arch = "wasm32")]
fn media_base() -> &'static str {
    let http = web_sys::window()
        .and_then(|w| w.location().protocol().ok())
        .is_some_and(|p| p.starts_with("http"));
    if http {
        "http://media.localhost"
    } else {
        "media://localhost"
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn media_base() -> &'static str {
    "media://localhost"
}

/// "120 KB", "2.4 MB".
pub fn size_label(bytes: u64) -> String {
    match bytes {
        0 => String::new(),
        b if b < 1024 * 1024 => format!("{} KB", b.div_ceil(1024)),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// Photos the viewer shows: ready ones with a thumbnail on the server.
fn viewable(a: &Attachment) -> bool {
    a.status == AttachmentStatus::Ready
        && matches!(
            media::essence(&a.content_type).as_str(),
            "image/jpeg" | "image/jpg" | "image/png" | "image/webp"
        )
}

#[derive(Properties, PartialEq)]
pub struct AttachmentsProps {
    pub attachments: Vec<Attachment>,
    /// Removing a sensitive file (issue 17), for those who may (`messages.approve`).
    #[prop_or_default]
    pub on_remove: Option<Callback<Id>>,
}

#[function_component]
pub fn Attachments(props: &AttachmentsProps) -> Html {
    let open = use_state(|| None::<usize>);
    let missing = use_state(HashSet::<Id>::new);
    let saved = use_state(|| None::<String>);
    let photos: Vec<Attachment> = props
        .attachments
        .iter()
        .filter(|a| viewable(a))
        .cloned()
        .collect();
    let save = {
        let saved = saved.clone();
        Callback::from(move |a: Attachment| {
            let saved = saved.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let args = SaveAttachment {
                    id: a.id,
                    file_name: a.file_name.clone(),
                };
                saved.set(Some(
                    match ipc::call::<_, String>(cmd::SAVE_ATTACHMENT, &args).await {
                        Ok(path) => format!("Saved to {path}"),
                        Err(e) => format!("Not saved: {}", e.message),
                    },
                ));
            });
        })
    };
    let others = props.attachments.iter().filter(|a| !viewable(a)).map(|a| {
        let name = a.file_name.clone();
        let kind = media::kind(&a.content_type).ok();
        match a.status {
            AttachmentStatus::Pending => html! {
                <div class="attachment pending" data-attachment-id={a.id.to_string()} role="status">
                    { format!("Downloading {}…", what(kind)) }
                </div>
            },
            AttachmentStatus::Failed => html! {
                <div class="attachment failed" data-attachment-id={a.id.to_string()} role="note">
                    <span class="attachment-name">{ &name }</span>
                    <span class="attachment-error">{ a.error.clone().unwrap_or_else(|| "Could not be downloaded".into()) }</span>
                </div>
            },
            AttachmentStatus::Ready if kind == Some(Kind::VoiceNote) => {
                let onclick = save.reform({ let a = a.clone(); move |_: MouseEvent| a.clone() });
                html! {
                    <div class="attachment voice" data-attachment-id={a.id.to_string()}>
                        <span class="attachment-name">{ "Voice note" }</span>
                        <Player src={media_url("file", a.id)} label={format!("Voice note {name}")} />
                        // Some formats (AMR) play in no webview: saved, the computer's player opens them.
                        <button type="button" class="button-link save-voice" {onclick}>{ "Save" }</button>
                    </div>
                }
            }
            AttachmentStatus::Ready => {
                let label = match kind {
                    Some(Kind::Pdf) => "PDF",
                    Some(Kind::Photo) => "Photo",
                    _ => "File",
                };
                let onclick = save.reform({ let a = a.clone(); move |_: MouseEvent| a.clone() });
                html! {
                    <button type="button" class="attachment file" data-attachment-id={a.id.to_string()} {onclick}
                        title="Save to Downloads">
                        <span class="attachment-kind">{ label }</span>
                        <span class="attachment-name">{ &name }</span>
                        <span class="attachment-size">{ size_label(a.size) }</span>
                    </button>
                }
            }
        }
    });
    html! {
        <div class="attachments">
            if !photos.is_empty() {
                <div class={classes!("photo-grid", (photos.len() > 1).then_some("several"))}>
                    { for photos.iter().enumerate().map(|(i, a)| {
                        let onclick = { let open = open.clone(); move |_: MouseEvent| open.set(Some(i)) };
                        let onerror = { let missing = missing.clone(); let id = a.id; move |_: Event| {
                            let mut m = (*missing).clone();
                            m.insert(id);
                            missing.set(m);
                        }};
                        if missing.contains(&a.id) {
                            // Not on this computer and the server not reachable (or no
                            // thumbnail): still a file that can be saved once it is.
                            let onclick = save.reform({ let a = a.clone(); move |_: MouseEvent| a.clone() });
                            html! {
                                <button type="button" class="attachment photo unavailable" data-attachment-id={a.id.to_string()}
                                    {onclick} title="Save to Downloads">
                                    <span class="attachment-kind">{ "Photo" }</span>
                                    <span class="attachment-name">{ &a.file_name }</span>
                                    <span class="attachment-note">{ "Not shown: not on this computer yet" }</span>
                                </button>
                            }
                        } else {
                            html! {
                                <button type="button" class="attachment photo" data-attachment-id={a.id.to_string()}
                                    {onclick} aria-label={format!("Open {}", a.file_name)}>
                                    <img src={media_url("thumb", a.id)} alt={a.file_name.clone()} loading="lazy" {onerror} />
                                </button>
                            }
                        }
                    }) }
                </div>
            }
            { for others }
            if let Some(text) = (*saved).clone() {
                <p class="attachment-saved" role="status">{ text }</p>
            }
            if let Some(i) = *open {
                <Viewer photos={photos.clone()} index={i.min(photos.len().saturating_sub(1))}
                    on_close={{ let open = open.clone(); Callback::from(move |_| open.set(None)) }}
                    on_move={{ let open = open.clone(); Callback::from(move |j| open.set(Some(j))) }}
                    on_save={save.clone()}
                    on_remove={props.on_remove.clone().map(|r| {
                        let open = open.clone();
                        Callback::from(move |id| { open.set(None); r.emit(id) })
                    })} />
            }
        </div>
    }
}

fn what(kind: Option<Kind>) -> &'static str {
    match kind {
        Some(Kind::Photo) => "photo",
        Some(Kind::Pdf) => "PDF",
        Some(Kind::VoiceNote) => "voice note",
        None => "file",
    }
}

#[derive(Properties, PartialEq)]
pub struct ViewerProps {
    pub photos: Vec<Attachment>,
    pub index: usize,
    pub on_close: Callback<()>,
    pub on_move: Callback<usize>,
    pub on_save: Callback<Attachment>,
    #[prop_or_default]
    pub on_remove: Option<Callback<Id>>,
}

/// One photo at full size over the window: zoom, previous and next, download, close (Escape).
#[function_component]
pub fn Viewer(props: &ViewerProps) -> Html {
    let zoomed = use_state(|| false);
    let node = use_node_ref();
    {
        // Keys work at once: the dialog takes the focus when it opens.
        let node = node.clone();
        use_effect_with((), move |_| {
            if let Some(el) = node.cast::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        });
    }
    let Some(photo) = props.photos.get(props.index).cloned() else {
        return Html::default();
    };
    let n = props.photos.len();
    let (i, on_move, on_close) = (props.index, props.on_move.clone(), props.on_close.clone());
    let onkeydown = {
        let (on_move, on_close) = (on_move.clone(), on_close.clone());
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" => on_close.emit(()),
            "ArrowLeft" if i > 0 => on_move.emit(i - 1),
            "ArrowRight" if i + 1 < n => on_move.emit(i + 1),
            _ => {}
        })
    };
    let toggle_zoom = {
        let zoomed = zoomed.clone();
        move |_: MouseEvent| zoomed.set(!*zoomed)
    };
    // Removing is for good (a V5C, a bank card): asked twice, never on one click.
    let confirming = use_state(|| false);
    let remove = props.on_remove.clone().map(|r| {
        let (confirming, id) = (confirming.clone(), photo.id);
        Callback::from(move |_: MouseEvent| {
            if *confirming {
                r.emit(id);
            } else {
                confirming.set(true);
            }
        })
    });
    html! {
        <div id="photo-viewer" class="viewer" role="dialog" aria-modal="true" aria-label={photo.file_name.clone()}
            tabindex="0" {onkeydown} ref={node}>
            <div class="viewer-bar">
                <span class="viewer-name">{ &photo.file_name }</span>
                <span class="viewer-count">{ format!("{} of {n}", i + 1) }</span>
                <button type="button" id="viewer-prev" class="button" disabled={i == 0}
                    onclick={{ let on_move = on_move.clone(); move |_: MouseEvent| on_move.emit(i.saturating_sub(1)) }}>{ "Previous" }</button>
                <button type="button" id="viewer-next" class="button" disabled={i + 1 >= n}
                    onclick={{ let on_move = on_move.clone(); move |_: MouseEvent| on_move.emit(i + 1) }}>{ "Next" }</button>
                <button type="button" id="viewer-zoom" class="button" onclick={toggle_zoom.clone()}>
                    { if *zoomed { "Fit" } else { "Zoom" } }
                </button>
                <button type="button" id="viewer-save" class="button"
                    onclick={props.on_save.reform({ let p = photo.clone(); move |_: MouseEvent| p.clone() })}>{ "Download" }</button>
                if let Some(onclick) = remove {
                    <button type="button" id="viewer-remove" class="button danger" {onclick}
                        title="Remove this file from the server and every desktop (audited)">
                        { if *confirming { "Remove for everyone?" } else { "Remove" } }
                    </button>
                }
                <button type="button" id="viewer-close" class="button" onclick={move |_: MouseEvent| on_close.emit(())}>{ "Close" }</button>
            </div>
            <div class={classes!("viewer-stage", zoomed.then_some("zoomed"))} onclick={toggle_zoom}>
                <img src={media_url("file", photo.id)} alt={photo.file_name.clone()} />
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(id: Id, t: &str, status: AttachmentStatus) -> Attachment {
        Attachment {
            id,
            content_type: t.into(),
            size: 120 * 1024,
            file_name: format!("f{id}"),
            status,
            error: (status == AttachmentStatus::Failed).then(|| "Over 10 MB".to_string()),
        }
    }

    async fn render(attachments: Vec<Attachment>) -> String {
        yew::ServerRenderer::<Attachments>::with_props(move || AttachmentsProps {
            attachments,
            on_remove: None,
        })
        .render()
        .await
    }

    #[tokio::test]
    async fn photos_show_as_thumbnails_from_the_engine_and_the_rest_as_cards() {
        let html = render(vec![
            a(1, "image/jpeg", AttachmentStatus::Ready),
            a(2, "image/png", AttachmentStatus::Ready),
            a(3, "application/pdf", AttachmentStatus::Ready),
            a(4, "audio/ogg", AttachmentStatus::Ready),
            a(5, "image/jpeg", AttachmentStatus::Pending),
            a(6, "image/jpeg", AttachmentStatus::Failed),
            a(7, "image/heic", AttachmentStatus::Ready),
        ])
        .await;
        assert_eq!(
            html.matches(r#"src="media://localhost/thumb/"#).count(),
            2,
            "{html}"
        );
        assert!(html.contains("photo-grid several"), "{html}");
        assert!(
            html.contains(r#"data-src="media://localhost/file/4""#),
            "a voice note plays: {html}"
        );
        assert!(html.contains("Downloading photo…"), "{html}");
        assert!(html.contains("Over 10 MB"), "{html}");
        assert!(html.contains("120 KB"), "{html}");
        assert!(!html.contains("https://"), "nothing remote: {html}");
        assert!(!html.contains("thumb/7"), "HEIC has no thumbnail: {html}");
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size_label(0), "");
        assert_eq!(size_label(1), "1 KB");
        assert_eq!(size_label(2_500_000), "2.4 MB");
    }

    async fn viewer(on_remove: Option<Callback<Id>>) -> String {
        crate::components::test_render::<Viewer>(ViewerProps {
            photos: vec![a(1, "image/jpeg", AttachmentStatus::Ready)],
            index: 0,
            on_close: Callback::noop(),
            on_move: Callback::noop(),
            on_save: Callback::noop(),
            on_remove,
        })
        .await
    }

    #[tokio::test]
    async fn only_those_who_may_remove_a_file_see_remove_in_the_viewer() {
        assert!(!viewer(None).await.contains("viewer-remove"));
        let html = viewer(Some(Callback::noop())).await;
        assert!(html.contains(r#"id="viewer-remove""#), "{html}");
        assert!(html.contains(">Remove<"), "asked before it is done: {html}");
    }
}
