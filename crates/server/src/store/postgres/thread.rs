//! A conversation's thread on PostgreSQL: `store::scripts::thread`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::ThreadPage;
use inbox_core::{Id, Note};

use sqlx::PgConnection;

use super::PgStore;
use crate::store::scripts::thread as script;
use crate::store::{Actor, StoreResult, ThreadCursor, ThreadStore};

/// A page of the thread (`scripts::thread::page`), for the snapshot's first pages.
pub(crate) async fn page(
    c: &mut PgConnection,
    org: Id,
    conversation_id: Id,
    before: Option<ThreadCursor>,
) -> StoreResult<ThreadPage> {
    script::page(c, org, conversation_id, before).await
}

#[async_trait]
impl ThreadStore for PgStore {
    async fn thread_page(
        &self,
        actor: &Actor,
        conversation_id: Id,
        before: Option<ThreadCursor>,
    ) -> StoreResult<ThreadPage> {
        let mut c = self.conn().await?;
        page(&mut c, actor.org_id, conversation_id, before).await
    }

    async fn add_note(
        &self,
        actor: &Actor,
        conversation_id: Id,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Note> {
        let body = crate::store::rows::note_body(body)?;
        let (org, user) = (actor.org_id, actor.user_id);
        let mut tx = self.begin(org).await?;
        let note = script::add_note(&mut tx, org, user, conversation_id, &body, now).await?;
        self.commit(tx).await?;
        Ok(note)
    }
}
