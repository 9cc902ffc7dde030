//! Garage Inbox, the desktop app: a Tauri 2 window hosting the Yew UI (`ui/`) over the desktop
//! engine (`inbox-client`). This crate is the only one that knows Tauri: commands, events,
//! notifications, the keychain, and the window.

// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod notifications;
mod session;
mod shell;
mod window;

use std::process::ExitCode;

use tauri::{Manager, WindowEvent};

use crate::shell::{Shell, ShellConfig};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tao=warn,wry=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match ShellConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("garage-inbox: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = tauri::Builder::default()
        .manage(Shell::new(config))
        .invoke_handler(tauri::generate_handler![
            commands::session,
            commands::sign_in,
            commands::sign_out,
            commands::list_conversations,
            commands::conversation,
            commands::thread,
            commands::mark_read,
            commands::set_attention,
            commands::refresh,
            commands::connection_state,
            commands::preferences,
            commands::set_preferences,
            commands::take_pending_open,
        ])
        .setup(|app| {
            // DSK-2: open the saved session's cache and start syncing while the UI loads.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                handle.state::<Shell>().restore(&handle).await;
            });
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::Focused(focused) = event {
                window.state::<Shell>().set_window_focused(*focused);
            }
        })
        .run(tauri::generate_context!("../tauri.conf.json"));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("garage-inbox: {e:#}");
            ExitCode::FAILURE
        }
    }
}
