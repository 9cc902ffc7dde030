//! `inbox-ui`: the Garage Inbox Yew app (wasm32), talking to the Tauri shell through the
//! commands and events of `inbox_core::desktop`.
