//! The commands the UI invokes (names and types: `inbox_core::desktop`). Each is a thin adapter:
//! the engine does the work, the shell holds the session.

use inbox_core::analytics::{Analytics, AnalyticsQuery, OpeningHours};
use inbox_core::api::{
    AiSettings, CallMoved, ConversationPage, ConversationQuery, LanguageModelSettings,
    LanguageModelUpdate, TemplateInput,
};
use inbox_core::desktop::{
    AppUpdate, AssignArgs, AttentionArgs, CallRef, CallView, ClientRef, CommandError,
    ConnectionState, ConversationHeader, ConversationRef, Draft, IdRef, IntentArgs, LinkArgs,
    MessageRef, NoteArgs, OfflineFiles, OfflineFilesCap, OpenView, OutboxEntry, Preferences,
    ReassignArgs, RejectArgs, ReplyArgs, RoleEdit, SaveAttachment, SaveCsv, SaveQuickMessage,
    SaveTemplate, SearchArgs, Session, SignIn, ThreadRequest, ThreadView, UserEdit, WorkOrderArgs,
    WorkOrderView,
};
use inbox_core::roles::{AuditEntry, NewRole, NewStaff, OneTimePassword, Role, StaffAccount};
use inbox_core::{
    ApprovalItem, Call, ConversationDetail, ConversationSummary, Customer, Message, Note,
    QuickMessage, StaffRef, WhatsappTemplate, WorkOrder,
};
use tauri::{AppHandle, State};

use inbox_client::engine::NewFile;

use crate::shell::{command_error, Shell};
use crate::updates::Updates;

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

#[tauri::command]
pub async fn conversation_detail(
    shell: State<'_, Shell>,
    args: ConversationRef,
) -> Answer<ConversationDetail> {
    let r = shell.running().await?;
    r.engine
        .detail(args.conversation_id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn send_reply(shell: State<'_, Shell>, args: ReplyArgs) -> Answer<OutboxEntry> {
    use base64::Engine as _;
    let mut files = Vec::with_capacity(args.files.len());
    for f in args.files {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&f.base64)
            .map_err(|_| CommandError::new(format!("{} could not be read", f.file_name)))?;
        files.push(NewFile {
            file_name: f.file_name,
            content_type: f.content_type,
            bytes,
        });
    }
    let r = shell.running().await?;
    r.engine
        .reply_with_files(
            args.conversation_id,
            args.body,
            args.template,
            args.channel,
            files,
        )
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn retry_message(shell: State<'_, Shell>, args: MessageRef) -> Answer<Message> {
    let r = shell.running().await?;
    r.engine.retry(args.message_id).await.map_err(command_error)
}

#[tauri::command]
pub async fn remove_attachment(shell: State<'_, Shell>, args: IdRef) -> Answer<Option<Message>> {
    let r = shell.running().await?;
    r.engine
        .remove_attachment(args.id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn offline_files(shell: State<'_, Shell>) -> Answer<OfflineFiles> {
    Ok(shell.running().await?.engine.offline_files())
}

#[tauri::command]
pub async fn set_offline_files(
    shell: State<'_, Shell>,
    args: OfflineFilesCap,
) -> Answer<OfflineFiles> {
    let r = shell.running().await?;
    r.engine
        .set_offline_files(args)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn correct_intent(shell: State<'_, Shell>, args: IntentArgs) -> Answer<Message> {
    let r = shell.running().await?;
    r.engine
        .correct_intent(args.message_id, args.label)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn discard_reply(shell: State<'_, Shell>, args: ClientRef) -> Answer<()> {
    let r = shell.running().await?;
    r.engine
        .discard_reply(&args.client_id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn add_note(shell: State<'_, Shell>, args: NoteArgs) -> Answer<Note> {
    let r = shell.running().await?;
    r.engine
        .add_note(args.conversation_id, &args.body)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn staff(shell: State<'_, Shell>) -> Answer<Vec<StaffRef>> {
    let r = shell.running().await?;
    r.engine.staff().await.map_err(command_error)
}

#[tauri::command]
pub async fn assign(shell: State<'_, Shell>, args: AssignArgs) -> Answer<ConversationSummary> {
    let r = shell.running().await?;
    r.engine
        .assign(args.conversation_id, args.user_id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn search_work_orders(
    shell: State<'_, Shell>,
    args: SearchArgs,
) -> Answer<Vec<WorkOrder>> {
    let r = shell.running().await?;
    r.engine
        .search_work_orders(&args.q)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn link_work_order(
    shell: State<'_, Shell>,
    args: LinkArgs,
) -> Answer<ConversationDetail> {
    let r = shell.running().await?;
    r.engine
        .link_work_order(args.conversation_id, args.work_order_id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn unlink_work_order(
    shell: State<'_, Shell>,
    args: ConversationRef,
) -> Answer<ConversationDetail> {
    let r = shell.running().await?;
    r.engine
        .unlink_work_order(args.conversation_id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn work_order(shell: State<'_, Shell>, args: WorkOrderArgs) -> Answer<WorkOrderView> {
    let r = shell.running().await?;
    r.engine
        .work_order(args.work_order_id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn analytics(shell: State<'_, Shell>, args: AnalyticsQuery) -> Answer<Analytics> {
    let r = shell.running().await?;
    r.engine.analytics(&args).await.map_err(command_error)
}

#[tauri::command]
pub async fn save_csv(app: tauri::AppHandle, args: SaveCsv) -> Answer<String> {
    let name = args.file_name.trim();
    if !name.ends_with(".csv") || crate::downloads::plain(name) != name {
        return Err(CommandError::new(format!(
            "{name:?} is not a plain CSV file name"
        )));
    }
    crate::downloads::save(&app, name, args.contents.as_bytes())
        .map(|p| p.display().to_string())
        .map_err(CommandError::new)
}

/// Issue 17: a message's file, saved to Downloads under its own name (never over a file).
#[tauri::command]
pub async fn save_attachment(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    args: SaveAttachment,
) -> Answer<String> {
    let r = shell.running().await?;
    let file = r
        .engine
        .attachment(args.id, inbox_client::files::Variant::Original)
        .await
        .map_err(command_error)?;
    drop(r);
    let name = crate::downloads::plain(&args.file_name);
    let name = if name.is_empty() {
        format!("file-{}", args.id)
    } else {
        name
    };
    crate::downloads::save(&app, &name, &file.bytes)
        .map(|p| p.display().to_string())
        .map_err(CommandError::new)
}

#[tauri::command]
pub async fn set_ai(shell: State<'_, Shell>, args: AiSettings) -> Answer<AiSettings> {
    let r = shell.running().await?;
    r.engine.set_ai(args.enabled).await.map_err(command_error)
}

#[tauri::command]
pub async fn opening_hours(shell: State<'_, Shell>) -> Answer<OpeningHours> {
    let r = shell.running().await?;
    r.engine.opening_hours().await.map_err(command_error)
}

#[tauri::command]
pub async fn set_opening_hours(
    shell: State<'_, Shell>,
    args: OpeningHours,
) -> Answer<OpeningHours> {
    let r = shell.running().await?;
    r.engine
        .set_opening_hours(&args)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn language_model(shell: State<'_, Shell>) -> Answer<LanguageModelSettings> {
    let r = shell.running().await?;
    r.engine.language_model().await.map_err(command_error)
}

#[tauri::command]
pub async fn set_language_model(
    shell: State<'_, Shell>,
    args: LanguageModelUpdate,
) -> Answer<LanguageModelSettings> {
    let r = shell.running().await?;
    r.engine
        .set_language_model(&args)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn roles(shell: State<'_, Shell>) -> Answer<Vec<Role>> {
    let r = shell.running().await?;
    r.engine.roles().await.map_err(command_error)
}

#[tauri::command]
pub async fn create_role(shell: State<'_, Shell>, args: NewRole) -> Answer<Role> {
    let r = shell.running().await?;
    r.engine.create_role(&args).await.map_err(command_error)
}

#[tauri::command]
pub async fn update_role(shell: State<'_, Shell>, args: RoleEdit) -> Answer<Role> {
    let r = shell.running().await?;
    r.engine
        .update_role(args.id, &args.update)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn delete_role(shell: State<'_, Shell>, args: IdRef) -> Answer<()> {
    let r = shell.running().await?;
    r.engine.delete_role(args.id).await.map_err(command_error)
}

#[tauri::command]
pub async fn users(shell: State<'_, Shell>) -> Answer<Vec<StaffAccount>> {
    let r = shell.running().await?;
    r.engine.users().await.map_err(command_error)
}

#[tauri::command]
pub async fn create_user(shell: State<'_, Shell>, args: NewStaff) -> Answer<OneTimePassword> {
    let r = shell.running().await?;
    r.engine.create_user(&args).await.map_err(command_error)
}

#[tauri::command]
pub async fn update_user(shell: State<'_, Shell>, args: UserEdit) -> Answer<StaffAccount> {
    let r = shell.running().await?;
    r.engine
        .update_user(args.id, &args.update)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn reset_password(shell: State<'_, Shell>, args: IdRef) -> Answer<OneTimePassword> {
    let r = shell.running().await?;
    r.engine
        .reset_password(args.id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn audit(shell: State<'_, Shell>) -> Answer<Vec<AuditEntry>> {
    let r = shell.running().await?;
    r.engine.audit().await.map_err(command_error)
}

#[tauri::command]
pub async fn approvals(shell: State<'_, Shell>) -> Answer<Vec<ApprovalItem>> {
    let r = shell.running().await?;
    r.engine.approvals().await.map_err(command_error)
}

#[tauri::command]
pub async fn approve(shell: State<'_, Shell>, args: MessageRef) -> Answer<Message> {
    let r = shell.running().await?;
    r.engine
        .approve(args.message_id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn reject(shell: State<'_, Shell>, args: RejectArgs) -> Answer<Message> {
    let r = shell.running().await?;
    r.engine
        .reject(args.message_id, &args.reason)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn call(shell: State<'_, Shell>, args: CallRef) -> Answer<CallView> {
    let r = shell.running().await?;
    r.engine.call(args.call_id).await.map_err(command_error)
}

#[tauri::command]
pub async fn reassign_call(shell: State<'_, Shell>, args: ReassignArgs) -> Answer<CallMoved> {
    let r = shell.running().await?;
    r.engine
        .reassign_call(args.call_id, args.destination, args.reason)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn resolve_call(shell: State<'_, Shell>, args: CallRef) -> Answer<Call> {
    let r = shell.running().await?;
    r.engine
        .resolve_call(args.call_id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn search_customers(shell: State<'_, Shell>, args: SearchArgs) -> Answer<Vec<Customer>> {
    let r = shell.running().await?;
    r.engine
        .search_customers(&args.q)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn quick_messages(shell: State<'_, Shell>) -> Answer<Vec<QuickMessage>> {
    let r = shell.running().await?;
    r.engine.quick_messages().await.map_err(command_error)
}

#[tauri::command]
pub async fn save_quick_message(
    shell: State<'_, Shell>,
    args: SaveQuickMessage,
) -> Answer<QuickMessage> {
    let r = shell.running().await?;
    r.engine
        .save_quick_message(args.id, &args.name, &args.body)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn delete_quick_message(shell: State<'_, Shell>, args: IdRef) -> Answer<()> {
    let r = shell.running().await?;
    r.engine
        .delete_quick_message(args.id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn templates(shell: State<'_, Shell>) -> Answer<Vec<WhatsappTemplate>> {
    let r = shell.running().await?;
    r.engine.templates().await.map_err(command_error)
}

#[tauri::command]
pub async fn save_template(
    shell: State<'_, Shell>,
    args: SaveTemplate,
) -> Answer<WhatsappTemplate> {
    let r = shell.running().await?;
    r.engine
        .save_template(
            args.id,
            &TemplateInput {
                name: args.name,
                language: args.language,
                body: args.body,
                header: args.header,
            },
        )
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn delete_template(shell: State<'_, Shell>, args: IdRef) -> Answer<()> {
    let r = shell.running().await?;
    r.engine
        .delete_template(args.id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn draft(shell: State<'_, Shell>, args: ConversationRef) -> Answer<Option<Draft>> {
    let r = shell.running().await?;
    r.engine
        .draft(args.conversation_id)
        .await
        .map_err(command_error)
}

#[tauri::command]
pub async fn set_draft(shell: State<'_, Shell>, args: Draft) -> Answer<()> {
    let r = shell.running().await?;
    r.engine.set_draft(args).await.map_err(command_error)
}

#[tauri::command]
pub fn copy_link(app: AppHandle, args: OpenView) -> Answer<String> {
    crate::links::copy(&app, &args)
}

#[tauri::command]
pub fn update_status(updates: State<'_, Updates>) -> AppUpdate {
    updates.card()
}

#[tauri::command]
pub async fn install_update(app: AppHandle) -> Answer<()> {
    crate::updates::install(&app).await
}

#[tauri::command]
pub fn dismiss_update(app: AppHandle, updates: State<'_, Updates>) {
    updates.dismiss(&app);
}
