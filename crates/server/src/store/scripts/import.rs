//! Bulk import of a whole dataset in one transaction (demo seed, benchmarks). Derived
//! conversation columns come from `dataset::derive`, the same rules the live path keeps.
//!
//! The organisation's own row and its users go through the accounts rules
//! (`accounts::insert_organisation` and `insert_user`); everything after them is written here.

use chrono::{DateTime, Utc};
use inbox_core::Id;

use super::routing::title_search_text;
use super::{accounts, analytics, index, staff};
use crate::secrets::{Field, SecretBox};
use crate::store::backend::script;
use crate::store::dataset::{
    derive, ConversationData, Imported, ImportedOrg, ImportedUser, ItemData, OrgData, Party,
    UserData,
};
use crate::store::db::{args, Arg, Db, Dialect, WriteTx};
use crate::store::rows::{activity_kind, fts_kind, ms};
use crate::store::rules::{
    imported_intent, imported_message_meta, imported_party, imported_recording_url, seal,
};
use crate::store::Store;
use crate::store::{Dataset, NewOrganisation, NewUser, StoreResult};

/// The organisation's row, for `accounts::insert_organisation`.
pub(crate) fn new_organisation(o: &OrgData) -> NewOrganisation {
    NewOrganisation {
        name: o.name.clone(),
        time_zone: o.time_zone.clone(),
    }
}

/// A user's row, for `accounts::insert_user`.
pub(crate) fn new_user(org: Id, u: &UserData) -> NewUser {
    NewUser {
        org_id: org,
        email: u.email.clone(),
        name: u.name.clone(),
        role: u.role.clone(),
        capabilities: u.capabilities.clone(),
        password_hash: u.password_hash.clone(),
    }
}

/// What the import reports of a user it stored as `id`.
pub(crate) fn imported_user(id: Id, u: &UserData) -> ImportedUser {
    ImportedUser {
        id,
        email: u.email.clone(),
        capabilities: u.capabilities.clone(),
    }
}

/// Ids of the organisation's rows, by their index in the dataset.
struct Ids<'a> {
    org: Id,
    users: &'a [ImportedUser],
    customers: Vec<Id>,
    work_orders: Vec<Id>,
}

/// How many messages and calls were stored.
#[derive(Default)]
struct Counts {
    messages: usize,
    calls: usize,
}

/// Everything of one organisation after its own row (`org`) and its users.
pub(crate) async fn org_rows(
    db: &mut impl WriteTx,
    o: &OrgData,
    (org, users): (Id, Vec<ImportedUser>),
    secrets: &SecretBox,
    now: DateTime<Utc>,
) -> StoreResult<ImportedOrg> {
    // The imported rows are not in the log: a client must start from a snapshot (seq 1).
    db.exec(
        "UPDATE organisations SET event_seq = 1, event_floor = 1 WHERE id = $1",
        args![org],
    )
    .await?;
    providers(db, o, org, secrets).await?;
    let customers = customers(db, o, org, now).await?;
    let work_orders = work_orders(db, o, org, &customers, now).await?;
    texts(db, o, org, now).await?;
    let ids = Ids {
        org,
        users: &users,
        customers,
        work_orders,
    };
    let mut counts = Counts::default();
    for conv in &o.conversations {
        conversation(db, o, &ids, conv, &mut counts, now).await?;
    }
    Ok(ImportedOrg {
        id: org,
        name: o.name.clone(),
        customers: ids.customers.len(),
        work_orders: ids.work_orders.len(),
        users,
        conversations: o.conversations.len(),
        messages: counts.messages,
        calls: counts.calls,
    })
}

/// Provider settings (secrets sealed) and the organisation's numbers.
async fn providers(db: &mut impl Db, o: &OrgData, org: Id, secrets: &SecretBox) -> StoreResult<()> {
    let p = &o.providers;
    let token = seal(secrets, &p.twilio_auth_token, org, Field::TwilioAuthToken)?;
    let access = seal(
        secrets,
        &p.whatsapp_access_token,
        org,
        Field::WhatsappAccessToken,
    )?;
    db.exec(
        "INSERT INTO provider_settings (org_id, twilio_account_sid, twilio_auth_token, whatsapp_phone_number_id, whatsapp_access_token,
                                        voice_forward_to)
         VALUES ($1, nullif($2, ''), nullif($3, ''), nullif($4, ''), nullif($5, ''), $6)",
        args![
            org,
            &p.twilio_account_sid,
            &token,
            &p.whatsapp_phone_number_id,
            &access,
            &p.voice_forward_to
        ],
    )
    .await?;
    for n in &p.twilio_numbers {
        db.exec(
            "INSERT INTO org_numbers (e164, org_id) VALUES ($1, $2)",
            args![n, org],
        )
        .await?;
    }
    Ok(())
}

async fn customers(
    db: &mut impl Db,
    o: &OrgData,
    org: Id,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Id>> {
    let mut customers = Vec::with_capacity(o.customers.len());
    for c in &o.customers {
        let id = insert(
            db,
            "INSERT INTO customers (org_id, name, email, created_at) VALUES ($1, $2, $3, $4)",
            args![org, &c.name, &c.email, ms(now)],
        )
        .await?;
        for (pos, e164) in c.phones.iter().enumerate() {
            db.exec(
                "INSERT INTO customer_phones (customer_id, org_id, e164, position) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING",
                args![id, org, e164, pos as i64],
            )
            .await?;
        }
        customers.push(id);
    }
    Ok(customers)
}

async fn work_orders(
    db: &mut impl Db,
    o: &OrgData,
    org: Id,
    customers: &[Id],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Id>> {
    let mut work_orders = Vec::with_capacity(o.work_orders.len());
    for w in &o.work_orders {
        let id = insert(
            db,
            "INSERT INTO work_orders (org_id, number, status, vehicle_registration, description, customer_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            args![
                org,
                &w.number,
                w.status.as_str(),
                &w.vehicle_registration,
                &w.description,
                customers[w.customer],
                ms(now)
            ],
        )
        .await?;
        work_orders.push(id);
    }
    Ok(work_orders)
}

/// Quick messages and templates.
async fn texts(db: &mut impl Db, o: &OrgData, org: Id, now: DateTime<Utc>) -> StoreResult<()> {
    for (name, body) in &o.quick_messages {
        db.exec(
            "INSERT INTO quick_messages (org_id, name, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
            args![org, name, body, ms(now)],
        )
        .await?;
    }
    for (name, language, body) in &o.templates {
        let params = inbox_core::WhatsappTemplate::count_params(body);
        db.exec(
            "INSERT INTO whatsapp_templates (org_id, name, language, body, param_count) VALUES ($1, $2, $3, $4, $5)",
            args![org, name, language, body, params],
        )
        .await?;
    }
    Ok(())
}

/// A conversation with its derived columns, its search title and its items.
async fn conversation(
    db: &mut impl WriteTx,
    o: &OrgData,
    ids: &Ids<'_>,
    conv: &ConversationData,
    counts: &mut Counts,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let org = ids.org;
    let created = conv.items.first().map(ItemData::at).unwrap_or(now);
    let d = derive(&conv.items, created);
    let (customer, number, withheld) = match &conv.party {
        Party::Customer(i) => (Some(ids.customers[*i]), None, false),
        Party::Number(n) => (None, Some(n.as_str()), false),
        Party::Withheld => (None, None, true),
    };
    let cid = insert(
        db,
        "INSERT INTO conversations (org_id, customer_id, caller_number, withheld, assignee_id, work_order_id, context_badge,
             needs_work_order_pick, last_channel, last_activity_at, preview, unread_count, unresolved_calls,
             last_inbound_whatsapp_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        args![
            org,
            customer,
            number,
            withheld,
            conv.assignee.map(|u| ids.users[u].id),
            conv.work_order.map(|w| ids.work_orders[w]),
            conv.context_badge.as_str(),
            conv.needs_work_order_pick,
            d.last_channel.as_str(),
            ms(d.last_activity_at),
            &d.preview,
            d.unread_count,
            d.unresolved_calls,
            d.last_inbound_whatsapp_at.map(ms),
            ms(created)
        ],
    )
    .await?;
    let title = title_search_text(db, cid).await?;
    index(db, fts_kind::TITLE, cid, org, cid, &title).await?;
    let party = imported_party(o, &conv.party);
    for item in &conv.items {
        store_item(db, o, ids, (cid, &party), item, counts).await?;
    }
    Ok(())
}

/// One message, call or note of conversation `cid`, whose party is `(sender, call_from)`.
async fn store_item(
    db: &mut impl WriteTx,
    o: &OrgData,
    ids: &Ids<'_>,
    (cid, (sender, call_from)): (Id, &(String, Option<String>)),
    item: &ItemData,
    counts: &mut Counts,
) -> StoreResult<()> {
    let org = ids.org;
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
            let (author_id, name, read_at) =
                imported_message_meta(o, ids.users, sender, *direction, *author, *at, *read);
            let (intent, confidence) = imported_intent(*direction, body);
            let id = insert(
                db,
                "INSERT INTO messages (org_id, conversation_id, direction, channel, body, status, author_id, sender_name,
                                       created_at, updated_at, read_at, error, intent, intent_confidence)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13)",
                args![
                    org,
                    cid,
                    direction.as_str(),
                    channel.as_str(),
                    body,
                    status.as_str(),
                    author_id,
                    &name,
                    ms(*at),
                    read_at,
                    error,
                    intent,
                    confidence
                ],
            )
            .await?;
            activity(db, (org, cid), *at, activity_kind::MESSAGE, id).await?;
            index(db, fts_kind::MESSAGE, id, org, cid, body).await?;
            counts.messages += 1;
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
                imported_recording_url(&o.providers.twilio_account_sid, cid, counts.calls)
            });
            let id = insert(
                db,
                "INSERT INTO calls (org_id, conversation_id, direction, outcome, from_number, duration_secs, recording_url,
                                    recording_secs, transcript, resolved, started_at, updated_at)
                 VALUES ($1, $2, 'inbound', $3, $4, $5, $6, $7, $8, $9, $10, $10)",
                args![
                    org,
                    cid,
                    outcome.as_str(),
                    call_from,
                    *duration_secs,
                    &recording_url,
                    *recording_secs,
                    transcript,
                    *resolved,
                    ms(*at)
                ],
            )
            .await?;
            activity(db, (org, cid), *at, activity_kind::CALL, id).await?;
            if let Some(t) = transcript {
                index(db, fts_kind::CALL, id, org, cid, t).await?;
            }
            counts.calls += 1;
        }
        ItemData::Note {
            kind,
            body,
            author,
            at,
        } => {
            let id = insert(
                db,
                "INSERT INTO notes (org_id, conversation_id, kind, body, author_id, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                args![
                    org,
                    cid,
                    kind.as_str(),
                    body,
                    author.map(|u| ids.users[u].id),
                    ms(*at)
                ],
            )
            .await?;
            activity(db, (org, cid), *at, activity_kind::NOTE, id).await?;
        }
    }
    Ok(())
}

/// Inserts a row and returns its id. SQLite reads `last_insert_rowid()` rather than
/// `RETURNING id`: a statement with RETURNING opens a statement savepoint, at which SQLite's
/// full-text index writes out its pending terms, so an import would leave one small index
/// segment per row (and spend its time merging them) instead of one write at commit.
async fn insert(db: &mut impl Db, sql: &str, args: &[Arg<'_>]) -> StoreResult<Id> {
    match db.dialect() {
        Dialect::Sqlite => {
            db.exec(sql, args).await?;
            db.int("SELECT last_insert_rowid()", args![]).await
        }
        Dialect::Postgres => db.int(&format!("{sql} RETURNING id"), args).await,
    }
}

/// The item's activity row. Unlike `record_activity` it leaves the conversation's
/// last-activity time alone: `derive` has set it from all the items already.
async fn activity(
    db: &mut impl Db,
    (org, conversation): (Id, Id),
    at: DateTime<Utc>,
    kind: &str,
    ref_id: Id,
) -> StoreResult<()> {
    db.exec(
        "INSERT INTO activity (org_id, conversation_id, at, kind, ref_id) VALUES ($1, $2, $3, $4, $5)",
        args![org, conversation, ms(at), kind, ref_id],
    )
    .await?;
    Ok(())
}

/// The whole dataset, then the system roles every organisation gets and its analytics counters.
async fn import(
    db: &mut impl WriteTx,
    data: &Dataset,
    secrets: &SecretBox,
    now: DateTime<Utc>,
) -> StoreResult<Imported> {
    let mut organisations = Vec::with_capacity(data.organisations.len());
    for o in &data.organisations {
        let org =
            accounts::insert_organisation(db, &new_organisation(o), o.ai_enabled, now).await?;
        let mut users = Vec::with_capacity(o.users.len());
        for u in &o.users {
            let id = accounts::insert_user(db, &new_user(org, u), now).await?;
            users.push(imported_user(id, u));
        }
        organisations.push(org_rows(db, o, (org, users), secrets, now).await?);
    }
    staff::ensure_system_roles(db, now).await?;
    for org in &organisations {
        db.lock(org.id).await?;
        analytics::rebuild(db, org.id).await?;
    }
    Ok(Imported { organisations })
}

/// Bulk loading of a whole dataset (demo seed, benchmarks).
impl Store {
    /// Writes the dataset in one transaction and returns the ids the database gave it.
    pub async fn import(&self, data: Dataset, now: DateTime<Utc>) -> StoreResult<Imported> {
        let secrets = self.secret_box().clone();
        self.write(None, script!(|tx| import(tx, &data, &secrets, now)))
            .await
    }
}
