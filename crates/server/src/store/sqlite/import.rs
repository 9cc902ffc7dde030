//! Bulk import of a whole dataset in one transaction (demo seed, benchmarks). Derived
//! conversation columns come from `dataset::derive`, the same rules the live path keeps.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inbox_core::Id;
use rusqlite::{params, Connection};

use super::accounts::{insert_organisation, insert_user};
use super::routing::title_search_text;
use super::{activity_kind, fts_kind, fts_put, ms, SqliteStore};
use crate::store::dataset::{
    derive, Imported, ImportedOrg, ImportedUser, ItemData, OrgData, Party,
};
use crate::store::{Dataset, ImportStore, NewOrganisation, NewUser, StoreResult};

fn activity(
    tx: &Connection,
    org: Id,
    conv: Id,
    at: DateTime<Utc>,
    kind: &str,
    ref_id: Id,
) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT INTO activity (org_id, conversation_id, at, kind, ref_id) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![org, conv, ms(at), kind, ref_id])?;
    Ok(())
}

use crate::secrets::Field;
use crate::store::rows::{imported_party, seal};

fn import_org(
    tx: &Connection,
    o: &OrgData,
    secrets: &crate::secrets::SecretBox,
    now: DateTime<Utc>,
) -> StoreResult<ImportedOrg> {
    let org = insert_organisation(
        tx,
        &NewOrganisation {
            name: o.name.clone(),
            time_zone: o.time_zone.clone(),
        },
        o.ai_enabled,
        now,
    )?;
    // The imported rows are not in the log: a client must start from a snapshot (seq 1).
    tx.execute(
        "UPDATE organisations SET event_seq = 1, event_floor = 1 WHERE id = ?1",
        [org],
    )?;
    let p = &o.providers;
    tx.execute(
        "INSERT INTO provider_settings (org_id, twilio_account_sid, twilio_auth_token, whatsapp_phone_number_id, whatsapp_access_token,
                                        voice_forward_to)
         VALUES (?1, nullif(?2, ''), nullif(?3, ''), nullif(?4, ''), nullif(?5, ''), ?6)",
        params![
            org,
            p.twilio_account_sid,
            seal(secrets, &p.twilio_auth_token, org, Field::TwilioAuthToken)?,
            p.whatsapp_phone_number_id,
            seal(secrets, &p.whatsapp_access_token, org, Field::WhatsappAccessToken)?,
            p.voice_forward_to
        ],
    )?;
    for n in &p.twilio_numbers {
        tx.execute(
            "INSERT INTO org_numbers (e164, org_id) VALUES (?1, ?2)",
            params![n, org],
        )?;
    }
    let mut users = Vec::new();
    for u in &o.users {
        let id = insert_user(
            tx,
            &NewUser {
                org_id: org,
                email: u.email.clone(),
                name: u.name.clone(),
                role: u.role.clone(),
                capabilities: u.capabilities.clone(),
                password_hash: u.password_hash.clone(),
            },
            now,
        )?;
        users.push(ImportedUser {
            id,
            email: u.email.clone(),
            capabilities: u.capabilities.clone(),
        });
    }
    let mut customers = Vec::with_capacity(o.customers.len());
    for c in &o.customers {
        tx.prepare_cached(
            "INSERT INTO customers (org_id, name, email, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![org, c.name, c.email, ms(now)])?;
        let id = tx.last_insert_rowid();
        for (pos, e164) in c.phones.iter().enumerate() {
            tx.prepare_cached("INSERT OR IGNORE INTO customer_phones (customer_id, org_id, e164, position) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![id, org, e164, pos as i64])?;
        }
        customers.push(id);
    }
    let mut work_orders = Vec::with_capacity(o.work_orders.len());
    for w in &o.work_orders {
        tx.prepare_cached(
            "INSERT INTO work_orders (org_id, number, status, vehicle_registration, description, customer_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![org, w.number, w.status.as_str(), w.vehicle_registration, w.description, customers[w.customer], ms(now)])?;
        work_orders.push(tx.last_insert_rowid());
    }
    for (name, body) in &o.quick_messages {
        tx.execute(
            "INSERT INTO quick_messages (org_id, name, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![org, name, body, ms(now)],
        )?;
    }
    for (name, language, body) in &o.templates {
        tx.execute(
            "INSERT INTO whatsapp_templates (org_id, name, language, body, param_count) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![org, name, language, body, inbox_core::WhatsappTemplate::count_params(body)],
        )?;
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
        tx.prepare_cached(
            "INSERT INTO conversations (org_id, customer_id, caller_number, withheld, assignee_id, work_order_id, context_badge,
                 needs_work_order_pick, last_channel, last_activity_at, preview, unread_count, unresolved_calls,
                 last_inbound_whatsapp_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?
        .execute(params![
            org, customer, number, withheld, conv.assignee.map(|u| users[u].id), conv.work_order.map(|w| work_orders[w]),
            conv.context_badge.as_str(), conv.needs_work_order_pick, d.last_channel.as_str(), ms(d.last_activity_at),
            d.preview, d.unread_count, d.unresolved_calls, d.last_inbound_whatsapp_at.map(ms), ms(created)
        ])?;
        let cid = tx.last_insert_rowid();
        let title = title_search_text(tx, cid)?;
        fts_put(tx, fts_kind::TITLE, cid, org, cid, &title)?;
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
                    tx.prepare_cached(
                        "INSERT INTO messages (org_id, conversation_id, direction, channel, body, status, author_id, sender_name,
                                               created_at, updated_at, read_at, error, intent, intent_confidence)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, ?13)",
                    )?
                    .execute(params![org, cid, direction.as_str(), channel.as_str(), body, status.as_str(), author_id, name, ms(*at), read_at, error, intent, confidence])?;
                    let id = tx.last_insert_rowid();
                    activity(tx, org, cid, *at, activity_kind::MESSAGE, id)?;
                    fts_put(tx, fts_kind::MESSAGE, id, org, cid, body)?;
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
                    tx.prepare_cached(
                        "INSERT INTO calls (org_id, conversation_id, direction, outcome, from_number, duration_secs, recording_url,
                                            recording_secs, transcript, resolved, started_at, updated_at)
                         VALUES (?1, ?2, 'inbound', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                    )?
                    .execute(params![org, cid, outcome.as_str(), call_from, duration_secs, recording_url, recording_secs, transcript, resolved, ms(*at)])?;
                    let id = tx.last_insert_rowid();
                    activity(tx, org, cid, *at, activity_kind::CALL, id)?;
                    if let Some(t) = transcript {
                        fts_put(tx, fts_kind::CALL, id, org, cid, t)?;
                    }
                    calls += 1;
                }
                ItemData::Note {
                    kind,
                    body,
                    author,
                    at,
                } => {
                    tx.prepare_cached(
                        "INSERT INTO notes (org_id, conversation_id, kind, body, author_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?
                    .execute(params![org, cid, kind.as_str(), body, author.map(|u| users[u].id), ms(*at)])?;
                    activity(
                        tx,
                        org,
                        cid,
                        *at,
                        activity_kind::NOTE,
                        tx.last_insert_rowid(),
                    )?;
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
impl ImportStore for SqliteStore {
    async fn import(&self, data: Dataset) -> StoreResult<Imported> {
        let now = Utc::now();
        let secrets = self.secrets.clone();
        self.write(move |tx| {
            let organisations = data
                .organisations
                .iter()
                .map(|o| import_org(tx, o, &secrets, now))
                .collect::<StoreResult<Vec<_>>>()?;
            super::staff::ensure_system_roles(tx)?;
            for org in &organisations {
                super::analytics::rebuild(tx, org.id)?;
            }
            Ok(Imported { organisations })
        })
        .await
    }
}
