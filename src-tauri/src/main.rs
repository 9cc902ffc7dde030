//! Garage Inbox, the desktop app: a Tauri 2 window hosting the Yew UI (`ui/`) over the desktop
//! engine (`inbox-client`). This crate is the only one that knows Tauri: commands, events,
//! notifications, the keychain, and the window.

// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod app_id;
mod badge;
mod commands;
mod downloads;
mod files;
mod links;
mod notifications;
mod session;
mod shell;
mod updates;
mod webview;
mod window;

use std::process::ExitCode;

use tauri::{Manager, RunEvent, WindowEvent};

use crate::shell::{Shell, ShellConfig};

/// `identifier` in tauri.conf.json.
const IDENTIFIER: &str = "app.garageinbox.desktop";

fn main() -> ExitCode {
    webview::prepare();
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
    let profile = std::env::var_os("GARAGE_INBOX_DATA_DIR").map(|_| config.data_dir.clone());
    let window_state_file = config.data_dir.join("window-state.json");
    let launch_view = links::view_in_args(&std::env::args().collect::<Vec<_>>());
    // Toasts carry the app's name only under a registered AppUserModelID.
    #[cfg(windows)]
    app_id::register();
    let result = tauri::Builder::default()
        // First: a second launch hands its link to this one and exits before anything else.
        .plugin(links::single_instance(
            profile.as_deref(),
            IDENTIFIER,
            |app, args| links::second_launch(app, &args),
        ))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        // DSK-1: the updater, with the public key of tauri.conf.json; no endpoint is configured
        // there (the signed-in server is, at run time: `updates`).
        .plugin(tauri_plugin_updater::Builder::new().build())
        // The window's size and position, remembered in the data directory.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_filename(window_state_file.to_string_lossy())
                .with_state_flags(window::remembered())
                .build(),
        )
        // No files are touched here: a second launch builds this too before the plugin ends it.
        .manage(Shell::new(config))
        .manage(updates::Updates::default())
        .register_asynchronous_uri_scheme_protocol(files::SCHEME, files::handle)
        .on_page_load(window::show_when_loaded)
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
            commands::conversation_detail,
            commands::send_reply,
            commands::retry_message,
            commands::remove_attachment,
            commands::offline_files,
            commands::set_offline_files,
            commands::correct_intent,
            commands::discard_reply,
            commands::add_note,
            commands::staff,
            commands::assign,
            commands::search_work_orders,
            commands::link_work_order,
            commands::unlink_work_order,
            commands::work_order,
            commands::approvals,
            commands::set_ai,
            commands::opening_hours,
            commands::set_opening_hours,
            commands::language_model,
            commands::set_language_model,
            commands::roles,
            commands::create_role,
            commands::update_role,
            commands::delete_role,
            commands::users,
            commands::create_user,
            commands::update_user,
            commands::reset_password,
            commands::audit,
            commands::analytics,
            commands::save_csv,
            commands::save_attachment,
            commands::approve,
            commands::reject,
            commands::call,
            commands::reassign_call,
            commands::resolve_call,
            commands::search_customers,
            commands::quick_messages,
            commands::save_quick_message,
            commands::delete_quick_message,
            commands::templates,
            commands::save_template,
            commands::delete_template,
            commands::draft,
            commands::set_draft,
            commands::copy_link,
            commands::update_status,
            commands::install_update,
            commands::dismiss_update,
        ])
        .setup(move |app| {
            // Only now is this the one running instance: the single-instance plugin has already
            // sent a second launch's link to the first and ended it.
            app.state::<Shell>().wipe_leftovers();
            if let Some(w) = app.get_webview_window(window::MAIN) {
                webview::tune(&w);
            }
            window::show_at_the_latest(app.handle());
            // LST-7: a link the app was started with opens once the UI asks for it.
            if let Some(view) = &launch_view {
                app.state::<Shell>().set_pending_open(view.query.clone());
            }
            links::listen_for_links(app.handle());
            updates::check_daily(app.handle());
            // DSK-2: open the saved session's cache and start syncing while the UI loads.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                handle.state::<Shell>().restore(&handle).await;
            });
            Ok(())
        })
        .on_window_event(|window, event| match event {
            WindowEvent::Focused(focused) => {
                window.state::<Shell>().set_window_focused(*focused);
            }
            WindowEvent::Resized(_) | WindowEvent::Moved(_) => {
                window::remember_soon(window.app_handle());
            }
            _ => {}
        })
        .build(tauri::generate_context!("../tauri.conf.json"));
    let app = match result {
        Ok(app) => {
            // Started: what this process launches (the updater's restart) counts afresh.
            links::started();
            app
        }
        Err(e) => {
            let message = format!("{e:#}");
            if links::previous_instance_was_exiting(&message) {
                // Opened again while the last window was still closing: start once it is gone.
                return links::relaunch_when_free(&message);
            }
            eprintln!("garage-inbox: {message}");
            return ExitCode::FAILURE;
        }
    };
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            // The engine stops cleanly, and a session-only cache does not outlive the app.
            tauri::async_runtime::block_on(app.state::<Shell>().exit());
        }
    });
    ExitCode::SUCCESS
}
