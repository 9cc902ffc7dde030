//! A thread's pages, notes, and composing replies with an idempotency key.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use inbox_core::api::{ComposeRequest, NoteRequest, ThreadPage, ThreadQuery};
use inbox_core::compose::validate_reply;
use inbox_core::{limits, Capability, Channel, Message, Note};

use super::{ApiJson, ApiQuery, IdPath};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::NewOutbound;

/// THR-6: newest first; `before` pages back.
pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<ThreadQuery>,
) -> AppResult<Json<ThreadPage>> {
    caller.require(Capability::MessagesView)?;
    let before = match q.before.as_deref() {
        Some(c) => Some(crate::cursor::decode_thread(c).ok_or_else(|| {
            AppError::Invalid("the cursor is not one this server gave out".into())
        })?),
        None => None,
    };
    Ok(Json(
        state.store.thread_page(&caller.actor, id, before).await?,
    ))
}

/// THR-8.
pub async fn add_note(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<NoteRequest>,
) -> AppResult<(StatusCode, Json<Note>)> {
    caller.require_write()?;
    limits::check("body", &req.body, limits::NOTE_BODY_MAX)?;
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store
                .add_note(&caller.actor, id, &req.body, state.clock.now())
                .await?,
        ),
    ))
}

/// CMP-1 … CMP-5: 201 with the new message, or 200 with the earlier one for a repeated client id.
pub async fn compose(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<ComposeRequest>,
) -> AppResult<(StatusCode, Json<Message>)> {
    caller.require(Capability::MessagesView)?;
    let caps = &caller.actor.capabilities;
    if !caps.can_write() {
        return Err(AppError::missing(Capability::MessagesSend));
    }
    let client_id = req.client_id.trim();
    if client_id.is_empty() {
        return Err(AppError::Invalid("client_id must not be empty".into()));
    }
    limits::check("client_id", client_id, limits::CLIENT_ID_MAX)?;
    if let Some(existing) = state
        .store
        .message_by_client_id(&caller.actor, client_id)
        .await?
    {
        if existing.conversation_id != id {
            return Err(AppError::Conflict(
                "this client_id was already used for another conversation".into(),
            ));
        }
        return Ok((StatusCode::OK, Json(existing)));
    }
    let now = state.clock.now();
    let detail = state.store.conversation(&caller.actor, id, now).await?;
    let templates = match req.template {
        Some(_) => state.store.templates(&caller.actor).await?,
        None => Vec::new(),
    };
    let owner = crate::store::media::UploadOwner::Staff(caller.actor.user_id);
    let files =
        super::media::check_uploads(&state, caller.actor.org_id, owner, &req.attachments).await?;
    // The rules see each file as stored (its type read from its bytes), not as the desktop
    // described it: a template's header takes only its own kind (CMP-2).
    let kinds: Vec<&str> = files.iter().map(|a| a.content_type.as_str()).collect();
    let reply = validate_reply(
        &detail.reply_channels,
        req.channel,
        req.body.as_deref(),
        req.template.as_ref(),
        detail.whatsapp_window,
        &templates,
        &kinds,
    )
    .map_err(|e| AppError::Invalid(e.to_string()))?;
    if reply.channel == Channel::Sms && !files.is_empty() {
        // Where MMS does not reach, each file goes as a link line in the text: it must fit.
        let base = state.providers.public_url.chars().count();
        let links: usize = files
            .iter()
            .map(|a| crate::dispatch::link_line_len(&a.content_type, &a.file_name, base))
            .sum();
        let len = reply.body.chars().count() + links;
        let max = inbox_core::compose::max_body_chars(Channel::Sms);
        if len > max {
            return Err(AppError::Invalid(format!(
                "with a link to each file this text would be {len} characters, over the {max} an SMS takes; shorten it or send fewer files"
            )));
        }
    }
    let msg = NewOutbound {
        client_id: client_id.to_string(),
        channel: reply.channel,
        body: reply.body,
        template: reply.template,
        needs_approval: caps.replies_need_approval(),
        attachments: req.attachments,
    };
    let (message, created) = state
        .store
        .create_outbound(&caller.actor, id, msg, now)
        .await?;
    if message.conversation_id != id {
        return Err(AppError::Conflict(
            "this client_id was already used for another conversation".into(),
        ));
    }
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(message),
    ))
}

/// CMP-4: a failed message goes back to the send queue.
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> AppResult<Json<Message>> {
    caller.require_write()?;
    Ok(Json(
        state
            .store
            .retry_message(&caller.actor, id, state.clock.now())
            .await?,
    ))
}
