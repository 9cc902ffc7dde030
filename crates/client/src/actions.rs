//! What a front desk does in a thread besides reading and replying: notes, assignment, work-order
//! links, approvals, calls, settings and drafts (issue 7). Reads come from the cache where it
//! holds the data; changes go to the server, and its answer is stored at once (the same rows come
//! back as events later, which changes nothing), so every view updates before the event arrives.

use chrono::Utc;
use inbox_core::api::{
    CallDestination, CallMoved, QuickMessageInput, ReassignCallRequest, TemplateInput,
};
use inbox_core::compose::{reply_channels, ReplyContext};
use inbox_core::desktop::{CallView, Draft, Update, WorkOrderView};
use inbox_core::sync::Change;
use inbox_core::whatsapp::window_state;
use inbox_core::{
    ApprovalItem, Call, Channel, ConversationDetail, ConversationSummary, Customer, Id, Message,
    Note, QuickMessage, StaffRef, WhatsappTemplate, WorkOrder,
};

use crate::api::{ApiError, ApiResult};
use crate::engine::{Engine, EngineError, EngineResult};

const DRAFT_KEY: &str = "draft.";

/// A server answer as the engine reports it: unreachable means offline (refused, not queued);
/// a server that failed after the request reached it may have made the change.
fn online<T>(r: ApiResult<T>) -> EngineResult<T> {
    r.map_err(|e| match e {
        ApiError::Unreachable(_) => EngineError::Offline,
        ApiError::Failed(why) => EngineError::Unconfirmed(why),
        other => EngineError::Api(other),
    })
}

impl Engine {
    /// Stores a write's answer and tells the UI which conversations changed.
    async fn store_answer(&self, changes: Vec<Change>) -> EngineResult<()> {
        let touched = self.shared.cache(move |c| c.apply_answer(&changes)).await?;
        let cursor = self.shared.cache(|c| c.cursor()).await?.unwrap_or(0);
        if !touched.is_empty() {
            self.shared.publish(Update::Changed {
                conversations: touched,
                cursor,
            });
        }
        Ok(())
    }

    /// The sidebar and the composer's channels (SDB-2, CMP-5): the server's detail when it is
    /// reachable, else the same built from the cache (no work-order candidates offline).
    pub async fn detail(&self, id: Id) -> EngineResult<ConversationDetail> {
        match self.shared.api.detail(id).await {
            Ok(detail) => {
                // Not the summary: the event log keeps rows in order, and this read may be
                // older than an event already applied.
                let mut changes: Vec<Change> = detail
                    .customer
                    .clone()
                    .map(Change::Customer)
                    .into_iter()
                    .collect();
                changes.extend(detail.linked_work_order.clone().map(Change::WorkOrder));
                self.store_answer(changes).await?;
                Ok(detail)
            }
            Err(ApiError::Refused { status: 404, .. }) => Err(EngineError::Invalid(
                "this conversation no longer exists".into(),
            )),
            Err(ApiError::Unreachable(_) | ApiError::Failed(_)) => self.cached_detail(id).await,
            Err(e) => Err(e.into()),
        }
    }

    async fn cached_detail(&self, id: Id) -> EngineResult<ConversationDetail> {
        let summary = self
            .conversation(id)
            .await?
            .ok_or_else(|| EngineError::Invalid("this conversation is not in the cache".into()))?;
        let customer = match summary.customer_id {
            Some(cid) => self.shared.cache(move |c| c.customer(cid)).await?,
            None => None,
        };
        let linked_work_order = match &summary.work_order {
            Some(w) => {
                let wid = w.id;
                self.shared.cache(move |c| c.work_order(wid)).await?
            }
            None => None,
        };
        let last_inbound = self
            .shared
            .cache(move |c| c.channel_activity(id, Channel::Whatsapp))
            .await?
            .flatten();
        let has_number = !summary.withheld
            && (summary.caller_number.is_some()
                || customer.as_ref().is_some_and(|c| !c.phones.is_empty()));
        let channels = reply_channels(ReplyContext {
            has_customer: summary.customer_id.is_some(),
            has_number,
            last_channel: summary.last_channel,
        });
        Ok(ConversationDetail {
            customer,
            linked_work_order,
            work_order_candidates: Vec::new(),
            whatsapp_window: window_state(last_inbound, Utc::now()),
            reply_channels: channels,
            summary,
        })
    }

    /// CMP-4: a failed message goes back to the send queue.
    pub async fn retry(&self, message_id: Id) -> EngineResult<Message> {
        let m = online(self.shared.api.retry(message_id).await)?;
        self.store_answer(vec![Change::Message(m.clone())]).await?;
        Ok(m)
    }

    /// Issue 17: removes a sensitive file on the server and from this computer; the message
    /// that carried it now shows it removed.
    pub async fn remove_attachment(&self, id: inbox_core::Id) -> EngineResult<Option<Message>> {
        let m = online(self.shared.api.remove_attachment(id).await)?;
        self.shared.files.remove(id);
        if let Some(m) = &m {
            self.store_answer(vec![Change::Message(m.clone())]).await?;
        }
        Ok(m)
    }

    /// AIA-1: a staff member corrects an inbound message's intent; the answer updates the cache.
    pub async fn correct_intent(
        &self,
        message_id: Id,
        label: inbox_core::intent::Intent,
    ) -> EngineResult<Message> {
        let m = online(self.shared.api.correct_intent(message_id, label).await)?;
        self.store_answer(vec![Change::Message(m.clone())]).await?;
        Ok(m)
    }

    /// THR-8: an internal note, never sent to the customer.
    pub async fn add_note(&self, conversation_id: Id, body: &str) -> EngineResult<Note> {
        let n = online(self.shared.api.add_note(conversation_id, body).await)?;
        self.store_answer(vec![Change::Note(n.clone())]).await?;
        Ok(n)
    }

    /// SDB-4's choices, from the cache (synced with the organisation).
    pub async fn staff(&self) -> EngineResult<Vec<StaffRef>> {
        let cached = self.shared.cache(|c| c.staff()).await?;
        if !cached.is_empty() {
            return Ok(cached);
        }
        online(self.shared.api.staff().await)
    }

    /// SDB-4: assigns (or with None unassigns); Mine and Unassigned follow at once.
    pub async fn assign(
        &self,
        conversation_id: Id,
        user_id: Option<Id>,
    ) -> EngineResult<ConversationSummary> {
        let s = online(self.shared.api.assign(conversation_id, user_id).await)?;
        self.store_answer(vec![Change::Conversation(s.clone())])
            .await?;
        Ok(s)
    }

    pub async fn search_work_orders(&self, q: &str) -> EngineResult<Vec<WorkOrder>> {
        online(self.shared.api.search_work_orders(q).await)
    }

    /// SDB-3 / RTE-3: links a work order; the server writes the system note.
    pub async fn link_work_order(
        &self,
        conversation_id: Id,
        work_order_id: Id,
    ) -> EngineResult<ConversationDetail> {
        let d = online(
            self.shared
                .api
                .link_work_order(conversation_id, work_order_id)
                .await,
        )?;
        self.after_link(&d).await?;
        Ok(d)
    }

    pub async fn unlink_work_order(&self, conversation_id: Id) -> EngineResult<ConversationDetail> {
        let d = online(self.shared.api.unlink_work_order(conversation_id).await)?;
        self.after_link(&d).await?;
        Ok(d)
    }

    /// The summary changed and a system note was written: store the one, fetch the other.
    async fn after_link(&self, d: &ConversationDetail) -> EngineResult<()> {
        let mut changes = vec![Change::Conversation(d.summary.clone())];
        changes.extend(d.linked_work_order.clone().map(Change::WorkOrder));
        if let Ok(page) = self.shared.api.thread(d.summary.id, None).await {
            changes.extend(page.items.into_iter().filter_map(|i| match i {
                inbox_core::ThreadItem::Note(n) => Some(Change::Note(n)),
                _ => None,
            }));
        }
        self.store_answer(changes).await
    }

    /// WO-1: the work order and the conversation its Messages tab shows.
    pub async fn work_order(&self, id: Id) -> EngineResult<WorkOrderView> {
        let cached = self.shared.cache(move |c| c.work_order(id)).await?;
        let work_order = match self.shared.api.work_order(id).await {
            Ok(w) => {
                self.store_answer(vec![Change::WorkOrder(w.clone())])
                    .await?;
                w
            }
            Err(ApiError::Unreachable(_) | ApiError::Failed(_)) => {
                cached.ok_or(EngineError::Offline)?
            }
            Err(ApiError::Refused { status: 404, .. }) => {
                return Err(EngineError::Invalid(
                    "this work order no longer exists".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let (wid, customer) = (work_order.id, work_order.customer_id);
        let conversation_id = self
            .shared
            .cache(move |c| c.work_order_conversation(wid, customer))
            .await?;
        Ok(WorkOrderView {
            work_order,
            conversation_id,
        })
    }

    /// AIA-1: read from the server each time (the figures span the whole organisation).
    pub async fn analytics(
        &self,
        q: &inbox_core::analytics::AnalyticsQuery,
    ) -> EngineResult<inbox_core::analytics::Analytics> {
        online(self.shared.api.analytics(q).await)
    }

    /// AIA-1: the AI switch. Every desktop (this one too) follows through the
    /// `organisation` event.
    pub async fn set_ai(&self, enabled: bool) -> EngineResult<inbox_core::api::AiSettings> {
        online(self.shared.api.set_ai(enabled).await)
    }

    pub async fn opening_hours(&self) -> EngineResult<inbox_core::analytics::OpeningHours> {
        online(self.shared.api.opening_hours().await)
    }

    pub async fn set_opening_hours(
        &self,
        hours: &inbox_core::analytics::OpeningHours,
    ) -> EngineResult<inbox_core::analytics::OpeningHours> {
        online(self.shared.api.set_opening_hours(hours).await)
    }

    /// AIA-1: the language model's settings, read from the server each time (an admin page).
    pub async fn language_model(&self) -> EngineResult<inbox_core::api::LanguageModelSettings> {
        online(self.shared.api.language_model().await)
    }

    pub async fn set_language_model(
        &self,
        update: &inbox_core::api::LanguageModelUpdate,
    ) -> EngineResult<inbox_core::api::LanguageModelSettings> {
        online(self.shared.api.set_language_model(update).await)
    }

    /// Issue 17: the space messages' files take on this computer, and the most they may.
    pub fn offline_files(&self) -> inbox_core::desktop::OfflineFiles {
        inbox_core::desktop::OfflineFiles {
            used_bytes: self.shared.files.total(),
            cap_bytes: self.shared.files.cap(),
        }
    }

    /// Issue 17: a new cap on the files kept, remembered for the next start; the least
    /// recently used files beyond it are deleted now.
    pub async fn set_offline_files(
        &self,
        cap: inbox_core::desktop::OfflineFilesCap,
    ) -> EngineResult<inbox_core::desktop::OfflineFiles> {
        if !inbox_core::desktop::OfflineFilesCap::CHOICES.contains(&cap.cap_bytes) {
            return Err(EngineError::Invalid(format!(
                "{} bytes is not one of the sizes offered for offline files",
                cap.cap_bytes
            )));
        }
        let value = cap.cap_bytes.to_string();
        self.shared
            .cache(move |c| c.set_setting(crate::files::CAP_KEY, &value))
            .await?;
        let files = std::sync::Arc::clone(&self.shared.files);
        tokio::task::spawn_blocking(move || files.set_cap(cap.cap_bytes))
            .await
            .map_err(|_| EngineError::Stopped)?;
        Ok(self.offline_files())
    }

    /// Issue 17: a message's file or thumbnail, or a call's recording, from this computer when
    /// it was fetched before, else from the server (then kept, under the cap, for offline
    /// reading).
    pub async fn attachment(
        &self,
        id: inbox_core::Id,
        variant: crate::files::Variant,
    ) -> EngineResult<crate::files::File> {
        let files = std::sync::Arc::clone(&self.shared.files);
        let kept = tokio::task::spawn_blocking(move || files.get(id, variant))
            .await
            .map_err(|_| EngineError::Stopped)?;
        if let Some(file) = kept {
            return Ok(file);
        }
        let file = self
            .shared
            .api
            .media(id, variant)
            .await
            .map_err(|e| match e {
                ApiError::Unreachable(_) => EngineError::FileOffline,
                other => EngineError::Api(other),
            })?;
        let (files, keep) = (std::sync::Arc::clone(&self.shared.files), file.clone());
        let _ = tokio::task::spawn_blocking(move || files.put(id, variant, &keep)).await;
        Ok(file)
    }

    /// SET-1: roles, read from the server each time (an admin page, always online).
    pub async fn roles(&self) -> EngineResult<Vec<inbox_core::roles::Role>> {
        online(self.shared.api.roles().await)
    }

    pub async fn create_role(
        &self,
        req: &inbox_core::roles::NewRole,
    ) -> EngineResult<inbox_core::roles::Role> {
        online(self.shared.api.create_role(req).await)
    }

    pub async fn update_role(
        &self,
        id: Id,
        req: &inbox_core::roles::RoleUpdate,
    ) -> EngineResult<inbox_core::roles::Role> {
        online(self.shared.api.update_role(id, req).await)
    }

    pub async fn delete_role(&self, id: Id) -> EngineResult<()> {
        online(self.shared.api.delete_role(id).await)
    }

    /// ACC-2: staff accounts.
    pub async fn users(&self) -> EngineResult<Vec<inbox_core::roles::StaffAccount>> {
        online(self.shared.api.users().await)
    }

    pub async fn create_user(
        &self,
        req: &inbox_core::roles::NewStaff,
    ) -> EngineResult<inbox_core::roles::OneTimePassword> {
        online(self.shared.api.create_user(req).await)
    }

    pub async fn update_user(
        &self,
        id: Id,
        req: &inbox_core::roles::StaffUpdate,
    ) -> EngineResult<inbox_core::roles::StaffAccount> {
        online(self.shared.api.update_user(id, req).await)
    }

    pub async fn reset_password(&self, id: Id) -> EngineResult<inbox_core::roles::OneTimePassword> {
        online(self.shared.api.reset_password(id).await)
    }

    pub async fn audit(&self) -> EngineResult<Vec<inbox_core::roles::AuditEntry>> {
        online(self.shared.api.audit().await)
    }

    /// APQ-1.
    pub async fn approvals(&self) -> EngineResult<Vec<ApprovalItem>> {
        online(self.shared.api.approvals().await)
    }

    pub async fn approve(&self, message_id: Id) -> EngineResult<Message> {
        let m = online(self.shared.api.approve(message_id).await)?;
        self.store_answer(vec![Change::Message(m.clone())]).await?;
        Ok(m)
    }

    pub async fn reject(&self, message_id: Id, reason: &str) -> EngineResult<Message> {
        let m = online(self.shared.api.reject(message_id, reason).await)?;
        self.store_answer(vec![Change::Message(m.clone())]).await?;
        Ok(m)
    }

    /// VOI-8: the call, from the server when reachable, else the cache.
    pub async fn call(&self, call_id: Id) -> EngineResult<CallView> {
        let call = match self.shared.api.call_detail(call_id).await {
            Ok(c) => {
                self.store_answer(vec![Change::Call(c.clone())]).await?;
                c
            }
            Err(ApiError::Unreachable(_) | ApiError::Failed(_)) => self
                .shared
                .cache(move |c| c.call(call_id))
                .await?
                .ok_or(EngineError::Offline)?,
            Err(ApiError::Refused { status: 404, .. }) => {
                return Err(EngineError::Invalid("this call no longer exists".into()))
            }
            Err(e) => return Err(e.into()),
        };
        let conversation = self.conversation(call.conversation_id).await?;
        let mut call = call;
        let recording_unavailable = self.withhold_recording(&mut call);
        Ok(CallView {
            call,
            conversation,
            recording_unavailable,
        })
    }

    /// VOI-6: moves the call; both conversations' rows are refreshed from the server.
    pub async fn reassign_call(
        &self,
        call_id: Id,
        destination: CallDestination,
        reason: Option<String>,
    ) -> EngineResult<CallMoved> {
        let req = ReassignCallRequest {
            destination,
            reason: reason.filter(|r| !r.trim().is_empty()),
        };
        let mut moved = online(self.shared.api.reassign_call(call_id, &req).await)?;
        let mut changes = vec![Change::Call(moved.call.clone())];
        for id in [moved.from_conversation_id, moved.to_conversation_id] {
            if let Ok(d) = self.shared.api.detail(id).await {
                changes.push(Change::Conversation(d.summary));
            }
        }
        self.store_answer(changes).await?;
        self.withhold_recording(&mut moved.call);
        Ok(moved)
    }

    /// VOI-7: "Mark resolved"; the row leaves Unread when nothing else keeps it there.
    pub async fn resolve_call(&self, call_id: Id) -> EngineResult<Call> {
        let call = online(self.shared.api.resolve_call(call_id).await)?;
        let mut changes = vec![Change::Call(call.clone())];
        if let Ok(d) = self.shared.api.detail(call.conversation_id).await {
            changes.push(Change::Conversation(d.summary));
        }
        self.store_answer(changes).await?;
        let mut call = call;
        self.withhold_recording(&mut call);
        Ok(call)
    }

    /// A recording URL came from a webhook: the UI is given it only from an allowed origin
    /// (`media::recording_allowed`). True when one was withheld.
    fn withhold_recording(&self, call: &mut Call) -> bool {
        let allowed = match call.recording_url.as_deref() {
            Some(url) => crate::media::recording_allowed(url, self.shared.api.base()),
            None => return false,
        };
        if !allowed {
            tracing::warn!(
                call = call.id,
                "withheld a recording URL from an unknown origin"
            );
            call.recording_url = None;
        }
        !allowed
    }

    pub async fn search_customers(&self, q: &str) -> EngineResult<Vec<Customer>> {
        online(self.shared.api.search_customers(q).await)
    }

    /// CMP-6, from the cache; from the server while the first sync is still running.
    pub async fn quick_messages(&self) -> EngineResult<Vec<QuickMessage>> {
        if self.never_synced().await? {
            if let Ok(list) = self.shared.api.quick_messages().await {
                return Ok(list);
            }
        }
        Ok(self.shared.cache(|c| c.quick_messages()).await?)
    }

    /// CMP-2, from the cache; from the server while the first sync is still running.
    pub async fn templates(&self) -> EngineResult<Vec<WhatsappTemplate>> {
        if self.never_synced().await? {
            if let Ok(list) = self.shared.api.templates().await {
                return Ok(list);
            }
        }
        Ok(self.shared.cache(|c| c.templates()).await?)
    }

    /// The cache holds no snapshot yet (a first sign-in still loading).
    async fn never_synced(&self) -> EngineResult<bool> {
        Ok(self.shared.cache(|c| c.cursor()).await?.is_none())
    }

    /// SET-1: creates (`id` None) or edits a quick message.
    pub async fn save_quick_message(
        &self,
        id: Option<Id>,
        name: &str,
        body: &str,
    ) -> EngineResult<QuickMessage> {
        let input = QuickMessageInput {
            name: name.to_string(),
            body: body.to_string(),
        };
        let q = online(self.shared.api.save_quick_message(id, &input).await)?;
        self.store_answer(vec![Change::QuickMessage(q.clone())])
            .await?;
        Ok(q)
    }

    pub async fn delete_quick_message(&self, id: Id) -> EngineResult<()> {
        online(self.shared.api.delete_quick_message(id).await)?;
        self.store_answer(vec![Change::QuickMessageDeleted { id }])
            .await
    }

    /// SET-1: creates (`id` None) or edits a WhatsApp template, with its media header (CMP-2).
    pub async fn save_template(
        &self,
        id: Option<Id>,
        input: &TemplateInput,
    ) -> EngineResult<WhatsappTemplate> {
        let t = online(self.shared.api.save_template(id, input).await)?;
        self.store_answer(vec![Change::Template(t.clone())]).await?;
        Ok(t)
    }

    pub async fn delete_template(&self, id: Id) -> EngineResult<()> {
        online(self.shared.api.delete_template(id).await)?;
        self.store_answer(vec![Change::TemplateDeleted { id }])
            .await
    }

    /// What was typed in this conversation's composer and not sent (kept across restarts).
    pub async fn draft(&self, conversation_id: Id) -> EngineResult<Option<Draft>> {
        let key = format!("{DRAFT_KEY}{conversation_id}");
        let raw = self.shared.cache(move |c| c.setting(&key)).await?;
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
    }

    /// Keeps a draft; an empty body forgets it.
    pub async fn set_draft(&self, draft: Draft) -> EngineResult<()> {
        let key = format!("{DRAFT_KEY}{}", draft.conversation_id);
        if draft.body.trim().is_empty() {
            return Ok(self.shared.cache(move |c| c.remove_setting(&key)).await?);
        }
        let raw = serde_json::to_string(&draft).map_err(|e| EngineError::Invalid(e.to_string()))?;
        Ok(self
            .shared
            .cache(move |c| c.set_setting(&key, &raw))
            .await?)
    }
}
