//! Demo data: a believable UK garage ("Demo Motors") and a second one for isolation
//! ("Northside Autos"), generated deterministically from a seed. The same generator, scaled up,
//! fills the benchmarks.

mod text;

use chrono::{DateTime, Duration, Utc};
use inbox_core::providers::status::error_reason;
use inbox_core::providers::Provider;
use inbox_core::routing::route;
use inbox_core::{
    CallOutcome, Capability, CapabilitySet, Channel, DeliveryStatus, Direction, NoteKind,
    WorkOrderStatus,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::store::dataset::{
    ConversationData, CustomerData, ItemData, OrgData, Party, ProviderSettings, UserData,
    WorkOrderData,
};
use crate::store::{Dataset, Store};
use text::*;

pub const DEMO_PASSWORD: &str = "demo-password";

/// A demo reply's failure as its provider reports it (CMP-4), in the words the status webhooks
/// store: SMS and WhatsApp failures name their provider's code; other channels have none.
fn failure_reason(channel: Channel, n: usize) -> Option<String> {
    const TWILIO: [&str; 5] = ["30003", "30005", "21211", "21610", "30006"];
    const WHATSAPP: [&str; 2] = ["131026", "131047"];
    let (provider, codes): (Provider, &[&str]) = match channel {
        Channel::Sms => (Provider::Twilio, &TWILIO),
        Channel::Whatsapp => (Provider::Whatsapp, &WHATSAPP),
        _ => return None,
    };
    Some(error_reason(provider, codes[n % codes.len()], None))
}

/// How big an organisation to generate.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub customers: usize,
    pub work_orders: usize,
    pub conversations: usize,
    /// Messages, calls and notes per customer conversation, on average.
    pub items_per_customer_conversation: usize,
    pub days: i64,
}

impl Scale {
    pub const DEMO: Scale = Scale {
        customers: 200,
        work_orders: 60,
        conversations: 2000,
        items_per_customer_conversation: 14,
        days: 120,
    };

    /// A big garage group for the benchmarks: 60,000 customers, each with one conversation of
    /// up to 2 × 20 − 1 items, plus 40,000 unknown and withheld numbers with a few items each,
    /// over two years: ~1,000,000 messages.
    pub const BENCH: Scale = Scale {
        customers: 60_000,
        work_orders: 6_000,
        conversations: 100_000,
        items_per_customer_conversation: 20,
        days: 730,
    };
}

pub struct Generator {
    rng: StdRng,
    now: DateTime<Utc>,
    phone_seq: u32,
}

impl Generator {
    pub fn new(seed: u64, now: DateTime<Utc>) -> Generator {
        Generator {
            rng: StdRng::seed_from_u64(seed),
            now,
            phone_seq: 0,
        }
    }

    fn weighted(&mut self, choices: &[(Channel, u32)]) -> Channel {
        let total: u32 = choices.iter().map(|c| c.1).sum();
        let mut roll = self.rng.gen_range(0..total.max(1));
        for (channel, weight) in choices {
            if roll < *weight {
                return *channel;
            }
            roll -= weight;
        }
        Channel::Sms
    }

    fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs[self.rng.gen_range(0..xs.len())]
    }

    /// Numbers from Ofcom's ranges for drama (07700 900000–900999); past a thousand, other
    /// 07700 9xxxxx numbers, still unallocated.
    fn mobile(&mut self) -> String {
        let n = self.phone_seq;
        self.phone_seq += 1;
        if n < 1000 {
            format!("+447700900{n:03}")
        } else {
            format!("+4477009{:05}", n % 100_000)
        }
    }

    fn registration(&mut self) -> String {
        const L: &[u8] = b"ABCDEFGHJKLMNOPRSTUVWXY";
        let mut l = || L[self.rng.gen_range(0..L.len())] as char;
        let (a, b, c, d, e) = (l(), l(), l(), l(), l());
        format!("{a}{b}{:02} {c}{d}{e}", self.rng.gen_range(10..75))
    }

    /// A time `days` back at most, skewed towards the present like a real inbox.
    fn recent(&mut self, days: i64) -> DateTime<Utc> {
        let f: f64 = self.rng.gen::<f64>().powf(1.6);
        let secs = (f * (days * 86_400) as f64) as i64;
        let t = self.now - Duration::seconds(secs);
        // Business hours, mostly.
        t - Duration::minutes(self.rng.gen_range(0..90))
    }

    fn users(
        &self,
        domain_users: &[(&str, &str, &str, &[Capability])],
        password_hash: &str,
    ) -> Vec<UserData> {
        domain_users
            .iter()
            .map(|(email, name, role, caps)| UserData {
                email: email.to_string(),
                name: name.to_string(),
                role: role.to_string(),
                capabilities: CapabilitySet::new(caps.iter().copied()),
                password_hash: password_hash.to_string(),
            })
            .collect()
    }

    /// One organisation's data at the given scale.
    pub fn organisation(
        &mut self,
        name: &str,
        users: Vec<UserData>,
        providers: ProviderSettings,
        scale: Scale,
    ) -> OrgData {
        let customers: Vec<CustomerData> = (0..scale.customers)
            .map(|_| {
                let (first, last) = (self.pick(FIRST_NAMES), self.pick(LAST_NAMES));
                let mut phones = vec![self.mobile()];
                if self.rng.gen_bool(0.1) {
                    phones.push(self.mobile());
                }
                let email = self.rng.gen_bool(0.6).then(|| {
                    format!(
                        "{}.{}@example.com",
                        first.to_lowercase(),
                        last.to_lowercase().replace('\'', "")
                    )
                });
                CustomerData {
                    name: format!("{first} {last}"),
                    email,
                    phones,
                }
            })
            .collect();
        let work_orders: Vec<WorkOrderData> = (0..scale.work_orders)
            .map(|i| {
                // A few customers hold two active jobs, so "Pick a work order" shows up (RTE-3).
                let customer = if i % 12 == 11 {
                    (i - 1) % scale.customers.max(1)
                } else {
                    i % scale.customers.max(1)
                };
                let active = i % 5 < 3;
                WorkOrderData {
                    number: format!("WO-{}", 1001 + i),
                    status: if active {
                        WorkOrderStatus::Active
                    } else {
                        WorkOrderStatus::Closed
                    },
                    vehicle_registration: self.registration(),
                    description: format!("{} - {}", self.pick(VEHICLES), self.pick(JOBS)),
                    customer,
                }
            })
            .collect();
        let staff: Vec<usize> = (0..users.len())
            .filter(|u| users[*u].capabilities.can_write())
            .collect();

        let mut conversations = Vec::with_capacity(scale.conversations);
        for i in 0..scale.conversations {
            let party = if i < scale.customers {
                Party::Customer(i)
            } else if i % 4 == 0 {
                Party::Withheld
            } else {
                Party::Number(self.mobile())
            };
            conversations.push(self.conversation(party, &customers, &work_orders, &staff, scale));
        }
        conversations.sort_by_key(|c| c.items.last().map(ItemData::at));
        OrgData {
            name: name.to_string(),
            time_zone: "Europe/London".to_string(),
            ai_enabled: false,
            providers,
            users,
            customers,
            work_orders,
            conversations,
            quick_messages: vec![
                (
                    "ready".into(),
                    "Hi, your vehicle is ready for collection. We're open until 5:30pm today."
                        .into(),
                ),
                (
                    "mot-booked".into(),
                    "Thanks, your MOT is booked in. Please drop the car off by 9am.".into(),
                ),
                (
                    "call-back".into(),
                    "Sorry we missed your call, we'll ring you back shortly.".into(),
                ),
                (
                    "quote".into(),
                    "Thanks for your enquiry. We'll send a quote over within the hour.".into(),
                ),
            ],
            templates: vec![
                (
                    "vehicle_ready".into(),
                    "en_GB".into(),
                    "Hi {{1}}, your vehicle {{2}} is ready for collection.".into(),
                ),
                (
                    "mot_reminder".into(),
                    "en_GB".into(),
                    "Hi {{1}}, the MOT for {{2}} is due on {{3}}. Reply to book.".into(),
                ),
                (
                    "missed_call".into(),
                    "en_GB".into(),
                    "Sorry we missed your call. Reply here and we'll get back to you.".into(),
                ),
            ],
        }
    }

    fn conversation(
        &mut self,
        party: Party,
        customers: &[CustomerData],
        work_orders: &[WorkOrderData],
        staff: &[usize],
        scale: Scale,
    ) -> ConversationData {
        // (channel, weight): how customers of a UK garage tend to get in touch.
        let (n_items, channels): (usize, &[(Channel, u32)]) = match &party {
            Party::Customer(_) => (
                self.rng
                    .gen_range(1..=scale.items_per_customer_conversation.max(1) * 2 - 1),
                &[
                    (Channel::Sms, 35),
                    (Channel::Whatsapp, 35),
                    (Channel::Portal, 15),
                    (Channel::Voice, 15),
                ],
            ),
            Party::Number(_) => (
                self.rng.gen_range(1..=5),
                &[
                    (Channel::Sms, 40),
                    (Channel::Whatsapp, 35),
                    (Channel::Voice, 25),
                ],
            ),
            Party::Withheld => (1, &[(Channel::Voice, 1)]),
        };
        let start = self.recent(scale.days);
        let mut at = start;
        let mut items = Vec::with_capacity(n_items);
        let mut first_text = String::new();
        let main_channel = self.weighted(channels);
        for k in 0..n_items {
            let channel = if self.rng.gen_bool(0.8) {
                main_channel
            } else {
                self.weighted(channels)
            };
            let age = self.now - at;
            let read = age > Duration::hours(6) || self.rng.gen_bool(0.5);
            if channel == Channel::Voice {
                let outcome = match self.rng.gen_range(0..10) {
                    0..=4 => CallOutcome::Answered,
                    5..=7 => CallOutcome::Missed,
                    _ => CallOutcome::Voicemail,
                };
                let recording_secs =
                    (outcome == CallOutcome::Voicemail).then(|| self.rng.gen_range(8..90));
                items.push(ItemData::Call {
                    outcome,
                    duration_secs: if outcome == CallOutcome::Answered {
                        self.rng.gen_range(20..600)
                    } else {
                        0
                    },
                    recording_secs,
                    transcript: recording_secs.map(|_| self.pick(TRANSCRIPTS).to_string()),
                    resolved: age > Duration::days(3) && self.rng.gen_bool(0.9),
                    at,
                });
            } else if k % 2 == 0 || matches!(party, Party::Number(_)) && k == 0 {
                let body = if k == 0 && self.rng.gen_bool(0.5) {
                    self.pick(BOOKING_ASKS)
                } else {
                    self.pick(GENERAL)
                };
                if first_text.is_empty() {
                    first_text = body.to_string();
                }
                items.push(ItemData::Message {
                    direction: Direction::Inbound,
                    channel,
                    body: body.to_string(),
                    status: DeliveryStatus::Delivered,
                    author: None,
                    at,
                    read,
                    error: None,
                });
            } else {
                let status = match self.rng.gen_range(0..20) {
                    0 => DeliveryStatus::Failed,
                    1 => DeliveryStatus::Sent,
                    2..=9 => DeliveryStatus::Delivered,
                    _ if channel == Channel::Whatsapp => DeliveryStatus::Read,
                    _ => DeliveryStatus::Delivered,
                };
                let author = (!staff.is_empty()).then(|| staff[self.rng.gen_range(0..staff.len())]);
                // Chosen by position, not the generator, so the rest of the data stays the same.
                let error = (status == DeliveryStatus::Failed)
                    .then(|| failure_reason(channel, items.len()))
                    .flatten();
                items.push(ItemData::Message {
                    direction: Direction::Outbound,
                    channel,
                    body: self.pick(REPLIES).to_string(),
                    status,
                    author,
                    at,
                    read: true,
                    error,
                });
            }
            if matches!(party, Party::Customer(_)) && self.rng.gen_bool(0.05) {
                let author = (!staff.is_empty()).then(|| staff[self.rng.gen_range(0..staff.len())]);
                items.push(ItemData::Note {
                    kind: NoteKind::Note,
                    body: self.pick(NOTES).to_string(),
                    author,
                    at: at + Duration::minutes(2),
                });
            }
            let gap = Duration::minutes(self.rng.gen_range(3..600))
                + Duration::days(if self.rng.gen_bool(0.2) {
                    self.rng.gen_range(1..10)
                } else {
                    0
                });
            at += gap;
            if at > self.now {
                break;
            }
        }
        let (customer, active): (bool, Vec<usize>) = match &party {
            Party::Customer(c) => (
                true,
                work_orders
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| w.customer == *c && w.status == WorkOrderStatus::Active)
                    .map(|(i, _)| i)
                    .collect(),
            ),
            _ => (false, Vec::new()),
        };
        let active_ids: Vec<i64> = active.iter().map(|i| *i as i64).collect();
        let r = route(customer, &active_ids, &first_text);
        let mut work_order = r.link_work_order.map(|i| i as usize);
        if let Some(w) = work_order {
            let at = items.first().map(ItemData::at).unwrap_or(self.now);
            let wo = &work_orders[w];
            items.insert(
                1.min(items.len()),
                ItemData::Note {
                    kind: NoteKind::System,
                    body: format!(
                        "Work order {} ({}) linked automatically",
                        wo.number, wo.vehicle_registration
                    ),
                    author: None,
                    at,
                },
            );
        }
        if !customer {
            work_order = None;
        }
        let assign_p = if customer { 0.6 } else { 0.2 };
        let assignee = (!staff.is_empty() && self.rng.gen_bool(assign_p))
            .then(|| staff[self.rng.gen_range(0..staff.len())]);
        let _ = customers;
        ConversationData {
            party,
            assignee,
            work_order,
            context_badge: r.badge,
            needs_work_order_pick: r.needs_work_order_pick,
            items,
        }
    }
}

/// What `seed-demo` prints: DESIGN.md's Fixed points.
#[derive(Debug, Serialize)]
pub struct SeedSummary {
    pub password: &'static str,
    pub organisations: Vec<OrgSummary>,
}

#[derive(Debug, Serialize)]
pub struct OrgSummary {
    pub id: i64,
    pub name: String,
    pub time_zone: String,
    pub users: Vec<crate::store::dataset::ImportedUser>,
    pub customers: usize,
    pub work_orders: usize,
    pub conversations: usize,
    pub messages: usize,
    pub calls: usize,
    pub twilio: TwilioSummary,
    pub whatsapp: WhatsappSummary,
    /// Customer-portal sign-ins for a few customers (`Authorization: Bearer <token>` on
    /// `/api/v1/portal/messages`).
    pub portal: Vec<PortalSignIn>,
}

#[derive(Debug, Serialize)]
pub struct PortalSignIn {
    pub customer_id: i64,
    pub customer_name: String,
    pub token: String,
}

#[derive(Debug, Serialize)]
pub struct TwilioSummary {
    pub account_sid: String,
    pub auth_token: String,
    pub numbers: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct WhatsappSummary {
    pub phone_number_id: String,
}

/// `landline` is the number customers call and text; `front_desk` the phone a call rings first.
fn providers(
    rng: &mut StdRng,
    landline: &str,
    front_desk: &str,
    phone_number_id: &str,
) -> ProviderSettings {
    let hex = |rng: &mut StdRng| format!("{:016x}{:016x}", rng.gen::<u64>(), rng.gen::<u64>());
    ProviderSettings {
        twilio_account_sid: format!("AC{}", hex(rng)),
        twilio_auth_token: hex(rng),
        twilio_numbers: vec![landline.to_string()],
        whatsapp_phone_number_id: phone_number_id.to_string(),
        whatsapp_access_token: format!("EAAG{}", hex(rng)),
        voice_forward_to: Some(front_desk.to_string()),
    }
}

/// The demo dataset: Demo Motors at demo scale, and a small Northside Autos.
pub fn demo_dataset(seed: u64, now: DateTime<Utc>, password_hash: &str) -> Dataset {
    use Capability::*;
    let mut g = Generator::new(seed, now);
    let mut keys = StdRng::seed_from_u64(seed ^ 0x5eed);
    let demo_users = g.users(
        &[
            (
                "frontdesk@demo.test",
                "Fran Desk",
                inbox_core::roles::SERVICE_ADVISOR,
                &[MessagesView, MessagesSend],
            ),
            (
                "trainee@demo.test",
                "Toby Trainee",
                "Trainee",
                &[MessagesView, MessagesSendGated],
            ),
            (
                "manager@demo.test",
                "Morgan Manager",
                inbox_core::roles::MANAGER,
                &[
                    MessagesView,
                    MessagesSend,
                    MessagesApprove,
                    SettingsTemplatesManage,
                ],
            ),
            ("viewer@demo.test", "Vic Viewer", "Viewer", &[MessagesView]),
            (
                "mechanic@demo.test",
                "Mel Mechanic",
                inbox_core::roles::TECHNICIAN,
                &[],
            ),
            (
                "owner@demo.test",
                "Olive Owner",
                crate::admin::OWNER_ROLE,
                &inbox_core::roles::OWNER_CAPABILITIES,
            ),
        ],
        password_hash,
    );
    let mut demo = g.organisation(
        "Demo Motors",
        demo_users,
        providers(
            &mut keys,
            "+441632960001",
            "+441632960101",
            "100000000000001",
        ),
        Scale::DEMO,
    );
    // The demo shows the intent badges and the Analytics tab (issue 16).
    demo.ai_enabled = true;
    let north_users = g.users(
        &[(
            "frontdesk@northside.test",
            "Nia Northside",
            "Front desk",
            &[MessagesView, MessagesSend],
        )],
        password_hash,
    );
    let north = g.organisation(
        "Northside Autos",
        north_users,
        providers(
            &mut keys,
            "+441632960002",
            "+441632960102",
            "100000000000002",
        ),
        Scale {
            customers: 20,
            work_orders: 8,
            conversations: 60,
            items_per_customer_conversation: 6,
            days: 60,
        },
    );
    Dataset {
        organisations: vec![demo, north],
    }
}

/// `count` small organisations ("Garage 1" …), each with its own Twilio account and number
/// (+44 1632 9610xx) and a front-desk user `frontdesk@garageN.test`: the ingest benchmark
/// spreads its traffic over them (issue 15).
pub fn garages_dataset(
    seed: u64,
    now: DateTime<Utc>,
    count: usize,
    password_hash: &str,
) -> Dataset {
    use Capability::*;
    let mut g = Generator::new(seed, now);
    let mut keys = StdRng::seed_from_u64(seed ^ 0x6a7a);
    let organisations = (1..=count)
        .map(|n| {
            let email = format!("frontdesk@garage{n}.test");
            let users = g.users(
                &[(
                    &email,
                    "Fran Desk",
                    "Front desk",
                    &[MessagesView, MessagesSend],
                )],
                password_hash,
            );
            g.organisation(
                &format!("Garage {n}"),
                users,
                providers(
                    &mut keys,
                    &format!("+4416329610{n:02}"),
                    &format!("+4416329611{n:02}"),
                    &format!("2000000000000{n:02}"),
                ),
                Scale {
                    customers: 20,
                    work_orders: 8,
                    conversations: 30,
                    items_per_customer_conversation: 4,
                    days: 30,
                },
            )
        })
        .collect();
    Dataset { organisations }
}

/// One large organisation for benchmarks ("Bench Motors", users `*@bench.test` with the demo
/// roles) at `scale`. Unknown senders get numbers from a range of their own (07700 000000
/// upwards, distinct from the customers' 07700 9xxxxx), so every anonymous conversation keeps a
/// distinct number however large the scale.
pub fn bench_dataset(seed: u64, now: DateTime<Utc>, scale: Scale, password_hash: &str) -> Dataset {
    use Capability::*;
    let mut g = Generator::new(seed, now);
    let mut keys = StdRng::seed_from_u64(seed ^ 0xbe4c);
    let users = g.users(
        &[
            (
                "frontdesk@bench.test",
                "Fran Desk",
                "Front desk",
                &[MessagesView, MessagesSend],
            ),
            (
                "trainee@bench.test",
                "Toby Trainee",
                "Trainee",
                &[MessagesView, MessagesSendGated],
            ),
            (
                "manager@bench.test",
                "Morgan Manager",
                "Manager",
                &[
                    MessagesView,
                    MessagesSend,
                    MessagesApprove,
                    SettingsTemplatesManage,
                ],
            ),
            ("viewer@bench.test", "Vic Viewer", "Viewer", &[MessagesView]),
        ],
        password_hash,
    );
    let mut org = g.organisation(
        "Bench Motors",
        users,
        providers(
            &mut keys,
            "+441632960003",
            "+441632960103",
            "100000000000003",
        ),
        scale,
    );
    let mut n = 0u32;
    for c in &mut org.conversations {
        if let Party::Number(number) = &mut c.party {
            *number = format!("+447700{:06}", n % 900_000);
            n += 1;
        }
    }
    Dataset {
        organisations: vec![org],
    }
}

/// Seeds the demo organisations into an empty database and describes them.
pub async fn seed_demo(store: &Store, seed: u64) -> anyhow::Result<SeedSummary> {
    if store.find_login("frontdesk@demo.test").await?.is_some() {
        anyhow::bail!("this database already holds the demo data (frontdesk@demo.test exists); seed a new database instead");
    }
    let hash = crate::auth::password::hash(DEMO_PASSWORD)?;
    let now = Utc::now();
    let data = demo_dataset(seed, now, &hash);
    let settings: Vec<ProviderSettings> = data
        .organisations
        .iter()
        .map(|o| o.providers.clone())
        .collect();
    let imported = store.import(data, now).await?;
    let mut portals = Vec::new();
    for o in &imported.organisations {
        portals.push(portal_sign_ins(store, o.id, 3).await?);
    }
    let organisations = imported
        .organisations
        .into_iter()
        .zip(settings)
        .zip(portals)
        .map(|((o, p), portal)| OrgSummary {
            portal,
            id: o.id,
            name: o.name,
            time_zone: "Europe/London".into(),
            users: o.users,
            customers: o.customers,
            work_orders: o.work_orders,
            conversations: o.conversations,
            messages: o.messages,
            calls: o.calls,
            twilio: TwilioSummary {
                account_sid: p.twilio_account_sid,
                auth_token: p.twilio_auth_token,
                numbers: p.twilio_numbers,
            },
            whatsapp: WhatsappSummary {
                phone_number_id: p.whatsapp_phone_number_id,
            },
        })
        .collect();
    Ok(SeedSummary {
        password: DEMO_PASSWORD,
        organisations,
    })
}

/// Portal tokens for the first `n` customers (by name) of an organisation.
async fn portal_sign_ins(
    store: &Store,
    org_id: i64,
    n: usize,
) -> anyhow::Result<Vec<PortalSignIn>> {
    let actor = crate::store::Actor {
        org_id,
        user_id: 0,
        capabilities: CapabilitySet::default(),
        time_zone: chrono_tz::Europe::London,
    };
    let mut out = Vec::new();
    for c in store
        .search_customers(&actor, "")
        .await?
        .into_iter()
        .take(n)
    {
        let token = crate::auth::token::generate();
        store
            .create_portal_token(org_id, c.id, crate::auth::token::hash(&token), Utc::now())
            .await?;
        out.push(PortalSignIn {
            customer_id: c.id,
            customer_name: c.name,
            token,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CMP-4: every failed demo reply on SMS or WhatsApp says why, as a status webhook would.
    #[test]
    fn cmp4_failed_demo_replies_carry_the_providers_reason() {
        let data = demo_dataset(7, Utc::now(), "hash");
        let mut failed = 0;
        for c in data.organisations.iter().flat_map(|o| &o.conversations) {
            for item in &c.items {
                if let ItemData::Message {
                    status: DeliveryStatus::Failed,
                    channel,
                    error,
                    ..
                } = item
                {
                    failed += 1;
                    match channel {
                        Channel::Sms => assert!(
                            error.as_deref().is_some_and(|e| e.contains("(Twilio ")),
                            "{error:?}"
                        ),
                        Channel::Whatsapp => assert!(
                            error.as_deref().is_some_and(|e| e.contains("(WhatsApp ")),
                            "{error:?}"
                        ),
                        _ => {}
                    }
                }
            }
        }
        assert!(failed > 0, "the demo has failed replies");
        assert_eq!(
            failure_reason(Channel::Sms, 0).as_deref(),
            Some("The phone is unreachable (switched off or out of signal) (Twilio 30003)")
        );
    }
}
