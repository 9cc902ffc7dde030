//! The inbox keyboard: ↑/↓ or j/k move through the list, Enter opens, `/` focuses search, Esc goes
//! back. Which key means what is decided here from plain values (tested); listening and focusing
//! touch the DOM and only exist in the webview.

#[cfg(not(target_arch = "wasm32"))]
use yew::NodeRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Up,
    Down,
    Enter,
    Search,
    Escape,
}

/// What a keydown means, given the key, the focused element's tag (upper case, as the DOM gives
/// it) and whether a modifier is held. Typing in a field is left alone, except Esc.
pub fn classify(key: &str, target_tag: &str, modifier: bool) -> Option<Key> {
    if modifier {
        return None;
    }
    let typing = matches!(target_tag, "INPUT" | "TEXTAREA" | "SELECT");
    // Enter on a button or link already activates it.
    let activates = typing || matches!(target_tag, "BUTTON" | "A" | "SUMMARY");
    match key {
        "Escape" if !typing => Some(Key::Escape),
        _ if typing => None,
        "ArrowDown" | "j" => Some(Key::Down),
        "ArrowUp" | "k" => Some(Key::Up),
        "/" => Some(Key::Search),
        "Enter" if !activates => Some(Key::Enter),
        _ => None,
    }
}

#[cfg(target_arch = "wasm32")]
mod dom {
    use gloo_events::{EventListener, EventListenerOptions};
    use wasm_bindgen::JsCast;
    use web_sys::{
        Element, HtmlElement, KeyboardEvent, ScrollIntoViewOptions, ScrollLogicalPosition,
    };
    use yew::NodeRef;

    use super::{classify, Key};

    /// Calls `on_key` for the inbox's keys pressed anywhere in the window.
    pub fn on_keydown(on_key: impl Fn(Key) + 'static) -> Option<EventListener> {
        let document = web_sys::window()?.document()?;
        Some(EventListener::new_with_options(
            &document,
            "keydown",
            EventListenerOptions::enable_prevent_default(),
            move |e| {
                let Some(e) = e.dyn_ref::<KeyboardEvent>() else {
                    return;
                };
                let tag = e
                    .target()
                    .and_then(|t| t.dyn_into::<Element>().ok())
                    .map(|el| el.tag_name())
                    .unwrap_or_default();
                let modifier = e.ctrl_key() || e.meta_key() || e.alt_key();
                if let Some(key) = classify(&e.key(), &tag, modifier) {
                    e.prevent_default();
                    on_key(key);
                }
            },
        ))
    }

    pub fn focus(node: &NodeRef) {
        if let Some(el) = node.cast::<HtmlElement>() {
            let _ = el.focus();
        }
    }

    pub fn scroll_into_view(id: &str) {
        let el = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id));
        if let Some(el) = el {
            let options = ScrollIntoViewOptions::new();
            options.set_block(ScrollLogicalPosition::Nearest);
            el.scroll_into_view_with_scroll_into_view_options(&options);
        }
    }

    /// Below 1024 px the list and the thread take turns (THR-1).
    pub fn is_narrow() -> bool {
        web_sys::window()
            .and_then(|w| w.inner_width().ok())
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w < 1024.0)
    }
}

#[cfg(target_arch = "wasm32")]
pub use dom::{focus, is_narrow, on_keydown, scroll_into_view};

/// Natively there is no window: nothing to listen to (SSR tests never run effects anyway).
#[cfg(not(target_arch = "wasm32"))]
pub struct NoListener;

#[cfg(not(target_arch = "wasm32"))]
pub fn on_keydown(_on_key: impl Fn(Key) + 'static) -> Option<NoListener> {
    None
}

#[cfg(not(target_arch = "wasm32"))]
pub fn focus(_node: &NodeRef) {}

#[cfg(not(target_arch = "wasm32"))]
pub fn scroll_into_view(_id: &str) {}

#[cfg(not(target_arch = "wasm32"))]
pub fn is_narrow() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_keys_move_open_and_search() {
        assert_eq!(classify("ArrowDown", "BODY", false), Some(Key::Down));
        assert_eq!(classify("j", "LI", false), Some(Key::Down));
        assert_eq!(classify("k", "UL", false), Some(Key::Up));
        assert_eq!(classify("ArrowUp", "BODY", false), Some(Key::Up));
        assert_eq!(classify("Enter", "UL", false), Some(Key::Enter));
        assert_eq!(classify("/", "BODY", false), Some(Key::Search));
        assert_eq!(classify("Escape", "BODY", false), Some(Key::Escape));
    }

    #[test]
    fn typing_in_a_field_is_left_alone() {
        assert_eq!(classify("j", "INPUT", false), None);
        assert_eq!(classify("/", "INPUT", false), None);
        assert_eq!(classify("ArrowDown", "TEXTAREA", false), None);
        // The search box clears itself on Esc; the page does not also go back.
        assert_eq!(classify("Escape", "INPUT", false), None);
        assert_eq!(
            classify("Enter", "BUTTON", false),
            None,
            "the button handles it"
        );
        assert_eq!(classify("j", "BODY", true), None, "Ctrl+J is not ours");
    }
}
