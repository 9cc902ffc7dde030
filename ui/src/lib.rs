//! `inbox-ui`: the Garage Inbox Yew app (wasm32), talking to the Tauri shell through the
//! commands and events of `inbox_core::desktop`.

pub mod components;
pub mod compose;
pub mod fade;
pub mod format;
pub mod hold;
pub mod ipc;
pub mod keys;
pub mod route;
pub mod state;

#[cfg(test)]
mod fixtures;

/// The webview's entry point: renders the app into `<body>`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    ipc::mark_once("ui:start");
    yew::Renderer::<components::app::App>::new().render();
}
