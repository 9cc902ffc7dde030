//! Bulk import of a whole dataset in one transaction (demo seed, benchmarks). Derived
//! conversation columns come from `dataset::derive`, the same rules the live path keeps.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::Id;
use sqlx::PgConnection;

use super::accounts::{insert_organisation, insert_user};
use super::routing::title_search_text;
use super::Tx;
use super::{activity_kind, fts_kind, search_put, PgStore};
use crate::secrets::Field;
use crate::store::dataset::{
    derive, Imported, ImportedOrg, ImportedUser, ItemData, OrgData, Party,
};
use crate::store::rows::{imported_party, ms, seal};
use crate::store::{Dataset, ImportStore, NewOrganisation, NewUser, StoreResult};

async fn activity(
    c: &mut PgConnection,
    org: Id,
    conv: Id,
    at: DateTime<Utc>,
    kind: &str,
    ref_id: Id,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO activity (org_id, conversation_id, at, kind, ref_id) VALUES ($1, $2, $3, $4, $5)")
        .bind(org)
        .bind(conv)
        .bind(ms(at))
        .bind(kind)
        .bind(ref_id)
        .execute(c)
        .await?;
    Ok(())
}

async fn import_org(
    c: &mut Tx,
    o: &OrgData,
    secrets: &crate::secrets::SecretBox,
    now: DateTime<Utc>,
) -> StoreResult<ImportedOrg> {
    let new = NewOrganisation {
        name: o.name.clone(),
        time_zone: o.time_zone.clone(),
    };
    let org = insert_organisation(c, &new, o.ai_enabled, now).await?;
    // The imported rows are not in the log: a client must start from a snapshot (seq 1).
    sqlx::query("UPDATE organisations SET event_seq = 1, event_floor = 1 WHERE id = $1")
        .bind(org)
        .execute(&mut **c)
        .await?;
    let p = &o.providers;
    sqlx::query(
        "INSERT INTO provider_settings (org_id, twilio_account_sid, twilio_auth_token, whatsapp_phone_number_id, whatsapp_access_token,
                                        voice_forward_to)
         VALUES ($1, nullif($2, ''), nullif($3, ''), nullif($4, ''), nullif($5, ''), $6)",
    )
    .bind(org)
    .bind(&p.twilio_account_sid)
    .bind(seal(secrets, &p.twilio_auth_token, org, Field::TwilioAuthToken)?)
    .bind(&p.whatsapp_phone_number_id)
    .bind(seal(secrets, &p.whatsapp_access_token, org, Field::WhatsappAccessToken)?)
    .bind(&p.voice_forward_to)
    .execute(&mut **c)
    .await?;
    for n in &p.twilio_numbers {
        sqlx::query("INSERT INTO org_numbers (e164, org_id) VALUES ($1, $2)")
            .bind(n)
            .bind(org)
            .execute(&mut **c)
            .await?;
    }
    let mut users = Vec::new();
    for u in &o.users {
        let new = NewUser {
            org_id: org,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.clone(),
            capabilities: u.capabilities.clone(),
            password_hash: u.password_hash.clone(),
        };
        let id = insert_user(c, &new, now).await?;
        users.push(ImportedUser {
            id,
            email: u.email.clone(),
            capabilities: u.capabilities.clone(),
        });
    }
    let mut customers = Vec::with_capacity(o.customers.len());
    for cu in &o.customers {
        let id: Id = sqlx::query_scalar(
            "INSERT INTO customers (org_id, name, email, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(org)
        .bind(&cu.name)
        .bind(&cu.email)
        .bind(ms(now))
        .fetch_one(&mut **c)
        .await?;
        for (pos, e164) in cu.phones.iter().enumerate() {
            sqlx::query(
                "INSERT INTO customer_phones (customer_id, org_id, e164, position) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(org)
            .bind(e164)
            .bind(pos as i64)
            .execute(&mut **c)
            .await?;
        }
        customers.push(id);
    }
    let mut work_orders = Vec::with_capacity(o.work_orders.len());
    for w in &o.work_orders {
        let id: Id = sqlx::query_scalar(
            "INSERT INTO work_orders (org_id, number, status, vehicle_registration, description, customer_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(org)
        .bind(&w.number)
        .bind(w.status.as_str())
        .bind(&w.vehicle_registration)
        .bind(&w.description)
        .bind(customers[w.customer])
        .bind(ms(now))
        .fetch_one(&mut **c)
        .await?;
        work_orders.push(id);
    }
    for (name, body) in &o.quick_messages {
        sqlx::query("INSERT INTO quick_messages (org_id, name, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(org)
            .bind(name)
            .bind(body)
            .bind(ms(now))
            .execute(&mut **c)
            .await?;
    }
    for (name, language, body) in &o.templates {
        sqlx::query("INSERT INTO whatsapp_templates (org_id, name, language, body, param_count) VALUES ($1, $2, $3, $4, $5)")
            .bind(org)
            .bind(name)
            .bind(language)
            .bind(body)
            .bind(i64::from(inbox_core::WhatsappTemplate::count_params(body)))
            .execute(&mut **c)
            .await?;
    }

    let (mut messages, mut calls) = (0, 0);
    for conv in &o.conversations {
        let created = conv.items.first().map(ItemData::at).unwrap_or(now);
        let d = derive(&conv.items, created);
        let (customer, number, withheld) = match &conv.party {
            Party::Customer(i) => (Some(customers[*i]), None, false),
            Party::Number(n) => (None, Some(n.as_str()), false),
            Party::Withheld => (None, None, true),
        };
        let cid: Id = sqlx::query_scalar(
            "INSERT INTO conversations (org_id, customer_id, caller_number, withheld, assignee_id, work_order_id, context_badge,
                 needs_work_order_pick, last_channel, last_activity_at, preview, unread_count, unresolved_calls,
                 last_inbound_whatsapp_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .bind(org)
        .bind(customer)
        .bind(number)
        .bind(withheld)
        .bind(conv.assignee.map(|u| users[u].id))
        .bind(conv.work_order.map(|w| work_orders[w]))
        .bind(conv.context_badge.as_str())
        .bind(conv.needs_work_order_pick)
        .bind(d.last_channel.as_str())
        .bind(ms(d.last_activity_at))
        .bind(&d.preview)
        .bind(i64::from(d.unread_count))
        .bind(i64::from(d.unresolved_calls))
        .bind(d.last_inbound_whatsapp_at.map(ms))
        .bind(ms(created))
        .fetch_one(&mut **c)
        .await?;
        let title = title_search_text(c, cid).await?;
        search_put(c, fts_kind::TITLE, cid, org, cid, &title).await?;
        let (sender, call_from) = imported_party(o, &conv.party);
        for item in &conv.items {
            match item {
                ItemData::Message {
                    direction,
                    channel,
                    body,
                    status,
                    author,
                    at,
                    read,
                    error,
                } => {
                    let (author_id, name, read_at) = crate::store::rows::imported_message_meta(
                        o, &users, &sender, *direction, *author, *at, *read,
                    );
                    let (intent, confidence) =
                        crate::store::rows::imported_intent(*direction, body);
                    let id: Id = sqlx::query_scalar(
                        "INSERT INTO messages (org_id, conversation_id, direction, channel, body, status, author_id, sender_name,
                                               created_at, updated_at, read_at, error, intent, intent_confidence)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13) RETURNING id",
                    )
                    .bind(org)
                    .bind(cid)
                    .bind(direction.as_str())
                    .bind(channel.as_str())
                    .bind(body)
                    .bind(status.as_str())
                    .bind(author_id)
                    .bind(name)
                    .bind(ms(*at))
                    .bind(read_at)
                    .bind(error)
                    .bind(intent)
                    .bind(confidence)
                    .fetch_one(&mut **c)
                    .await?;
                    activity(c, org, cid, *at, activity_kind::MESSAGE, id).await?;
                    search_put(c, fts_kind::MESSAGE, id, org, cid, body).await?;
                    messages += 1;
                }
                ItemData::Call {
                    outcome,
                    duration_secs,
                    recording_secs,
                    transcript,
                    resolved,
                    at,
                } => {
                    let recording_url = recording_secs.map(|_| {
                        crate::store::rows::imported_recording_url(
                            &p.twilio_account_sid,
                            cid,
                            calls,
                        )
                    });
                    let id: Id = sqlx::query_scalar(
                        "INSERT INTO calls (org_id, conversation_id, direction, outcome, from_number, duration_secs, recording_url,
                                            recording_secs, transcript, resolved, started_at, updated_at)
                         VALUES ($1, $2, 'inbound', $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                    )
                    .bind(org)
                    .bind(cid)
                    .bind(outcome.as_str())
                    .bind(&call_from)
                    .bind(i64::from(*duration_secs))
                    .bind(recording_url)
                    .bind(recording_secs.map(i64::from))
                    .bind(transcript)
                    .bind(*resolved)
                    .bind(ms(*at))
                    .fetch_one(&mut **c)
                    .await?;
                    activity(c, org, cid, *at, activity_kind::CALL, id).await?;
                    if let Some(t) = transcript {
                        search_put(c, fts_kind::CALL, id, org, cid, t).await?;
                    }
                    calls += 1;
                }
                ItemData::Note {
                    kind,
                    body,
                    author,
                    at,
                } => {
                    let id: Id = sqlx::query_scalar(
                        "INSERT INTO notes (org_id, conversation_id, kind, body, author_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(org)
                    .bind(cid)
                    .bind(kind.as_str())
                    .bind(body)
                    .bind(author.map(|u| users[u].id))
                    .bind(ms(*at))
                    .fetch_one(&mut **c)
                    .await?;
                    activity(c, org, cid, *at, activity_kind::NOTE, id).await?;
                }
            }
        }
    }
    Ok(ImportedOrg {
        id: org,
        name: o.name.clone(),
        users,
        customers: customers.len(),
        work_orders: work_orders.len(),
        conversations: o.conversations.len(),
        messages,
        calls,
    })
}

#[async_trait]
impl ImportStore for PgStore {
    async fn import(&self, data: Dataset) -> StoreResult<Imported> {
        let now = Utc::now();
        let mut tx = self.begin_any().await?;
        let mut organisations = Vec::with_capacity(data.organisations.len());
        for o in &data.organisations {
            organisations.push(import_org(&mut tx, o, &self.secrets, now).await?);
        }
        super::staff::ensure_system_roles(&mut tx).await?;
        for org in &organisations {
            super::lock_org(&mut tx, org.id).await?;
            super::analytics::rebuild(&mut tx, org.id).await?;
        }
        self.commit(tx).await?;
        Ok(Imported { organisations })
    }
}
