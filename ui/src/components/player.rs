//! A voice note or a call's recording that plays (issue 17, VOI-8). WebKitGTK's media player
//! cannot read a custom scheme (WebKit bug 146351: GStreamer has no source for `media:`), so
//! the file is fetched from the engine's `media:` protocol as any request is, and played from a
//! `blob:` URL that is revoked when the player goes. The same path serves every platform. The
//! file is then all here, so the player reads it all (`preload="auto"`): with only its
//! metadata, GStreamer guesses an Ogg voice note's length from its start, about half of it.

use std::cell::Cell;
use std::rc::Rc;

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PlayerProps {
    /// The engine's address of the file (`media://localhost/file/12`).
    pub src: String,
    /// What it is, for a screen reader ("Voice note voice-note-1.ogg").
    pub label: String,
    #[prop_or_default]
    pub id: Option<AttrValue>,
    /// Shown by a webview that cannot play the file's format.
    #[prop_or_default]
    pub children: Html,
}

/// Where the file is while the player lives.
enum Loaded {
    Fetching,
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Ready(Rc<gloo_file::ObjectUrl>),
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Unavailable,
}

#[function_component(Player)]
pub fn player(props: &PlayerProps) -> Html {
    let loaded = use_state(|| Loaded::Fetching);
    // Bumped by "Try again": the same file asked for once more (the network is back, say).
    let attempt = use_state(|| 0u32);
    {
        let loaded = loaded.clone();
        use_effect_with((props.src.clone(), *attempt), move |(src, _)| {
            let gone = Rc::new(Cell::new(false));
            loaded.set(Loaded::Fetching);
            fetch(src.clone(), loaded, Rc::clone(&gone));
            move || gone.set(true)
        });
    }
    let retry = {
        let attempt = attempt.clone();
        Callback::from(move |_: MouseEvent| attempt.set(attempt.wrapping_add(1)))
    };
    match &*loaded {
        Loaded::Ready(url) => html! {
            <audio id={props.id.clone()} controls=true preload="auto" src={url.to_string()}
                aria-label={props.label.clone()}>
                { props.children.clone() }
            </audio>
        },
        Loaded::Fetching => html! {
            <audio id={props.id.clone()} controls=true aria-label={props.label.clone()}
                aria-busy="true" data-src={props.src.clone()} />
        },
        Loaded::Unavailable => html! {
            <span id={props.id.clone()} class="player-unavailable muted" role="note">
                { "Could not be loaded: offline with no copy on this computer, or removed. " }
                <button type="button" class="button-link player-retry" onclick={retry}>{ "Try again" }</button>
            </span>
        },
    }
}

#[cfg(target_arch = "wasm32")]
fn fetch(src: String, loaded: UseStateHandle<Loaded>, gone: Rc<Cell<bool>>) {
    wasm_bindgen_futures::spawn_local(async move {
        let url = blob_url(&src).await;
        if !gone.get() {
            loaded.set(match url {
                Some(url) => Loaded::Ready(Rc::new(url)),
                None => Loaded::Unavailable,
            });
        }
    });
}

/// Nothing plays outside the webview (server-side rendering in tests).
#[cfg(not(target_arch = "wasm32"))]
fn fetch(_src: String, _loaded: UseStateHandle<Loaded>, _gone: Rc<Cell<bool>>) {}

#[cfg(target_arch = "wasm32")]
async fn blob_url(src: &str) -> Option<gloo_file::ObjectUrl> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window()?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(src))
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    if !response.ok() {
        return None;
    }
    let blob: web_sys::Blob = JsFuture::from(response.blob().ok()?)
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    Some(gloo_file::ObjectUrl::from(gloo_file::Blob::from(blob)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::test_render;

    #[tokio::test]
    async fn a_player_waits_for_its_file_from_the_engine() {
        let html = test_render::<Player>(PlayerProps {
            src: "media://localhost/file/4".into(),
            label: "Voice note voice-note-1.ogg".into(),
            id: None,
            children: Html::default(),
        })
        .await;
        assert!(html.contains("<audio"), "{html}");
        assert!(
            html.contains(r#"data-src="media://localhost/file/4""#),
            "{html}"
        );
        assert!(html.contains(r#"aria-busy="true""#), "{html}");
        assert!(
            !html.contains(" src="),
            "nothing plays before the file is here: {html}"
        );
    }
}
