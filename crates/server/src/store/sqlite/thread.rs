//! A conversation's thread on SQLite: `store::scripts::thread`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::api::ThreadPage;
use inbox_core::{Id, Note};
use rusqlite::Connection;

use super::db::Lite;
use super::SqliteStore;
use crate::store::db::now as run;
use crate::store::scripts::thread as script;
use crate::store::{Actor, StoreResult, ThreadCursor, ThreadStore};

/// A page of the thread (`scripts::thread::page`), for the snapshot's first pages.
pub(crate) fn page(
    conn: &Connection,
    org: Id,
    conversation_id: Id,
    before: Option<ThreadCursor>,
) -> StoreResult<ThreadPage> {
    run(script::page(
        &mut Lite::new(conn),
        org,
        conversation_id,
        before,
    ))
}

#[async_trait]
impl ThreadStore for SqliteStore {
    async fn thread_page(
        &self,
        actor: &Actor,
        conversation_id: Id,
        before: Option<ThreadCursor>,
    ) -> StoreResult<ThreadPage> {
        let org = actor.org_id;
        self.read(move |c| page(c, org, conversation_id, before))
            .await
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
        self.write(move |tx| {
            let mut db = Lite::new(tx);
            run(script::add_note(
                &mut db,
                org,
                user,
                conversation_id,
                &body,
                now,
            ))
        })
        .await
    }
}
