//! The statement layer on PostgreSQL: shared SQL through sqlx, on a pooled connection or inside
//! a write transaction ([`PgTx`]).

use chrono::{DateTime, Utc};
use inbox_core::Id;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, PgConnection, Postgres};

use super::{PgTx, SESSIONS_CHANNEL};
use crate::store::db::{args, Arg, Cells, Db, Dialect, Row, WriteTx};
use crate::store::StoreResult;

fn bind<'q>(
    mut query: Query<'q, Postgres, PgArguments>,
    args: &[Arg<'q>],
) -> Query<'q, Postgres, PgArguments> {
    for arg in args {
        query = match *arg {
            Arg::Int(v) => query.bind(v),
            Arg::Real(v) => query.bind(v),
            Arg::Text(v) => query.bind(v),
            Arg::Bool(v) => query.bind(v),
            Arg::Bytes(v) => query.bind(v),
        };
    }
    query
}

impl Db for PgConnection {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn exec(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64> {
        let done = bind(sqlx::query(AssertSqlSafe(sql)), args)
            .execute(self)
            .await?;
        Ok(done.rows_affected())
    }

    async fn all<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        mut map: impl FnMut(&Row) -> StoreResult<T> + Send,
    ) -> StoreResult<Vec<T>> {
        let rows = bind(sqlx::query(AssertSqlSafe(sql)), args)
            .fetch_all(self)
            .await?;
        rows.iter().map(|r| map(&Cells(r))).collect()
    }

    async fn opt<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        map: impl FnOnce(&Row) -> StoreResult<T> + Send,
    ) -> StoreResult<Option<T>> {
        let row = bind(sqlx::query(AssertSqlSafe(sql)), args)
            .fetch_optional(self)
            .await?;
        row.as_ref().map(|r| map(&Cells(r))).transpose()
    }
}

impl Db for PgTx {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn exec(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64> {
        (**self).exec(sql, args).await
    }

    async fn all<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        map: impl FnMut(&Row) -> StoreResult<T> + Send,
    ) -> StoreResult<Vec<T>> {
        (**self).all(sql, args, map).await
    }

    async fn opt<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        map: impl FnOnce(&Row) -> StoreResult<T> + Send,
    ) -> StoreResult<Option<T>> {
        (**self).opt(sql, args, map).await
    }
}

impl WriteTx for PgTx {
    async fn lock(&mut self, org: Id) -> StoreResult<()> {
        super::lock_org(self, org).await
    }

    /// Noted here; the other instances are told at commit (`commit_on`).
    async fn touch(&mut self, org: Id) -> StoreResult<()> {
        if !self.touched.contains(&org) {
            self.touched.push(org);
        }
        Ok(())
    }

    async fn index_text(
        &mut self,
        doc: i64,
        org: Id,
        conversation: Id,
        text: &str,
    ) -> StoreResult<()> {
        let terms = crate::store::search::index_terms(text);
        if terms.is_empty() {
            self.exec("DELETE FROM search_docs WHERE id = $1", args![doc])
                .await?;
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO search_docs (id, org_id, conversation_id, terms) VALUES ($1, $2, $3, array_to_tsvector($4))
             ON CONFLICT (id) DO UPDATE SET org_id = excluded.org_id, conversation_id = excluded.conversation_id, terms = excluded.terms",
        )
        .bind(doc)
        .bind(org)
        .bind(conversation)
        .bind(terms)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// NOTIFY `inbox_sessions`, delivered at commit to every instance and the CLI's.
    async fn sessions_ended(&mut self, user: Id, _at: DateTime<Utc>) -> StoreResult<()> {
        let payload = user.to_string();
        self.exec(
            "SELECT pg_notify($1, $2)",
            args![SESSIONS_CHANNEL, payload.as_str()],
        )
        .await?;
        Ok(())
    }
}
