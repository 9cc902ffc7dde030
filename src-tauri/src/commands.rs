//! The commands the UI invokes (names and types: `inbox_core::desktop`). Each is a thin adapter:
//! the engine does the work, the shell holds the session.

use inbox_core::api::{ConversationPage, ConversationQuery};
use inbox_core::desktop::{
    AttentionArgs, CommandError, ConnectionState, ConversationHeader, ConversationRef, Preferences,
    Session, SignIn, ThreadRequest, ThreadView,
};
use tauri::{AppHandle, State};

use crate::shell::{command_error, Shell};

type Answer<T> = Result<T, CommandError>;

#[tauri::command]
pub async fn session(app: AppHandle, shell: State<'_, Shell>) -> Answer<Option<Session>> {
    Ok(shell.session(&app).await)
}

#[tauri::command]
pub async fn sign_in(app: AppHandle, shell: State<'_, Shell>, args: SignIn) -> Answer<Session> {
    shell.sign_in(&app, args).await
}

#[tauri::command]
pub async fn sign_out(app: AppHandle, shell: State<'_, Shell>) -> Answer<()> {
    shell.sign_out(&app).await;
    Ok(())
}

#[tauri::command]
pub async fn list_conversations(
    shell: State<'_, Shell>,
    args: ConversationQuery,
) -> Answer<ConversationPage> {
    let r = shell.running().await?;
    r.engine.list(args).await.map_err(command_error)
}

#[tauri::command]
pub async fn conversation(
    shell: State<'_, Shell>,
    args: ConversationRef,
) -> Answer<ConversationHeader> {
    let r = shell.running().await?;
    r.engine
        .header(args.conversation_id)
        .await
        .map_err(command_error)?
        .ok_or_else(|| CommandError::new("This conversation is not available."))
}

#[tauri::command]
pub async fn thread(shell: State<'_, Shell>, args: ThreadRequest) -> Answer<ThreadView> {
    let r = shell.running().await?;
    r.engine
        .thread(args.conversation_id, args.before.as_ref())
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn mark_read(shell: State<'_, Shell>, args: ConversationRef) -> Answer<()> {
    let r = shell.running().await?;
    r.engine
        .mark_read(args.conversation_id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub fn set_attention(shell: State<'_, Shell>, args: AttentionArgs) {
    shell.set_open_conversation(args.conversation_id);
}

#[tauri::command]
pub async fn refresh(shell: State<'_, Shell>) -> Answer<()> {
    shell.running().await?.engine.refresh();
    Ok(())
}

#[tauri::command]
pub async fn connection_state(shell: State<'_, Shell>) -> Answer<ConnectionState> {
    Ok(shell.running().await?.engine.connection())
}

#[tauri::command]
pub async fn preferences(shell: State<'_, Shell>) -> Answer<Preferences> {
    let r = shell.running().await?;
    r.engine.preferences().await.map_err(command_error)
}

#[tauri::command]
pub async fn set_preferences(shell: State<'_, Shell>, args: Preferences) -> Answer<()> {
    let r = shell.running().await?;
    r.engine.set_preferences(&args).await.map_err(command_error)
}

#[tauri::command]
pub fn take_pending_open(shell: State<'_, Shell>) -> Option<String> {
    shell.take_pending_open()
}
