//! The test harness: a real server on a loopback port over a temporary database, with a
//! hand-built fixture whose every count is known, and a small HTTP client.
//!
//! One suite, two backends: SQLite (a file in a temporary directory) by default, PostgreSQL when
//! `INBOX_TEST_BACKEND=postgres`, each test in a database of its own created through
//! `INBOX_TEST_POSTGRES_URL` (a URL of the cluster's maintenance database, e.g.
//! `postgres://postgres@127.0.0.1:54329/postgres`) and dropped when the test ends.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use inbox_core::{
    CallOutcome, Capability, CapabilitySet, Channel, ContextBadge, DeliveryStatus, Direction,
    NoteKind, WorkOrderStatus,
};
use inbox_server::clock::Clock;
pub use inbox_server::serve::ServeConfig;
use inbox_server::store::dataset::{
    ConversationData, CustomerData, ItemData, OrgData, Party, ProviderSettings, UserData,
    WorkOrderData,
};
use inbox_server::store::postgres::scratch;
use inbox_server::store::{self, Dataset, Store};
use inbox_server::{app, AppState};
use reqwest::StatusCode;
use serde_json::Value;

pub const PASSWORD: &str = "fixture-password";

/// Wednesday 17 June 2026, 12:00 in London (BST, UTC+1).
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 17, 11, 0, 0).unwrap()
}

pub struct Server {
    pub base: String,
    pub store: Arc<Store>,
    pub db: Arc<TestDb>,
    /// Where this server keeps files, for a dispatcher that sends them.
    pub blobs: Option<Arc<inbox_server::media::Blobs>>,
}

/// Whether this run is against PostgreSQL (`INBOX_TEST_BACKEND=postgres`).
pub fn postgres() -> bool {
    std::env::var("INBOX_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A database for one test: a SQLite file, or a PostgreSQL database dropped at the end.
pub struct TestDb {
    pub url: String,
    _dir: tempfile::TempDir,
    /// (maintenance URL, database name) of a PostgreSQL database to drop.
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        if !postgres() {
            return TestDb {
                url: format!("sqlite://{}", dir.path().join("inbox.db").display()),
                _dir: dir,
                pg: None,
            };
        }
        let admin = std::env::var("INBOX_TEST_POSTGRES_URL")
            .expect("INBOX_TEST_BACKEND=postgres needs INBOX_TEST_POSTGRES_URL");
        let (url, name) = scratch::create(&admin, "inbox_test").await.unwrap();
        TestDb {
            url,
            _dir: dir,
            pg: Some((admin, name)),
        }
    }

    /// Runs one statement straight on the database (to set up what no API writes).
    pub async fn execute(&self, sql: &str) {
        if self.pg.is_some() {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut conn)
                .await
                .unwrap();
            return;
        }
        let path = self.url.trim_start_matches("sqlite://");
        rusqlite::Connection::open(path)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
    }

    /// One row of two text columns, read straight from the database.
    pub async fn two_texts(&self, sql: &str) -> (String, String) {
        if self.pg.is_some() {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
            return sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
                .fetch_one(&mut conn)
                .await
                .unwrap();
        }
        let path = self.url.trim_start_matches("sqlite://");
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
    }
}

/// A lock held on the database that makes writes wait, as a backup or a hung database does.
pub enum Stall {
    Sqlite(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>),
    Postgres(sqlx::PgConnection),
}

impl Stall {
    pub async fn release(self) {
        match self {
            Stall::Sqlite(go, thread) => {
                go.send(()).unwrap();
                tokio::task::spawn_blocking(move || thread.join().unwrap())
                    .await
                    .unwrap();
            }
            Stall::Postgres(mut conn) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
            }
        }
    }
}

impl TestDb {
    /// Holds the database's write lock (SQLite) or an exclusive lock on `messages` (PostgreSQL)
    /// until `release`: writes wait instead of failing.
    pub async fn stall(&self) -> Stall {
        if self.pg.is_some() {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
            sqlx::raw_sql("BEGIN; LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
                .execute(&mut conn)
                .await
                .unwrap();
            return Stall::Postgres(conn);
        }
        let path = self.url.trim_start_matches("sqlite://").to_string();
        let (go, wait) = std::sync::mpsc::channel();
        let (locked, is_locked) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let c = rusqlite::Connection::open(path).unwrap();
            c.execute_batch("BEGIN IMMEDIATE").unwrap();
            locked.send(()).unwrap();
            let _ = wait.recv();
            c.execute_batch("ROLLBACK").unwrap();
        });
        tokio::task::spawn_blocking(move || is_locked.recv().unwrap())
            .await
            .unwrap();
        Stall::Sqlite(go, thread)
    }
}

impl TestDb {
    /// From now on every `op` (INSERT, UPDATE or DELETE) on `table` fails, as on a database
    /// that turned read-only: a real storage error inside the store's own transaction.
    pub async fn refuse(&self, op: &str, table: &str) {
        let name = format!("refuse_{}_{}", op.to_lowercase(), table);
        let sql = if self.pg.is_some() {
            format!(
                "CREATE OR REPLACE FUNCTION refuse_write() RETURNS trigger AS $$
                 BEGIN RAISE EXCEPTION 'the database is read-only for a moment'; END $$ LANGUAGE plpgsql;
                 CREATE TRIGGER {name} BEFORE {op} ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_write();"
            )
        } else {
            format!(
                "CREATE TRIGGER {name} BEFORE {op} ON {table}
                 BEGIN SELECT RAISE(ABORT, 'the database is read-only for a moment'); END;"
            )
        };
        self.execute(&sql).await;
    }

    /// Undoes `refuse`.
    pub async fn allow(&self, op: &str, table: &str) {
        let name = format!("refuse_{}_{}", op.to_lowercase(), table);
        let on = if self.pg.is_some() {
            format!(" ON {table}")
        } else {
            String::new()
        };
        self.execute(&format!("DROP TRIGGER {name}{on}")).await;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else {
            return;
        };
        if let Err(e) = scratch::drop_blocking(&admin, &name) {
            eprintln!("could not drop the test database {name}: {e}");
        }
    }
}

/// Conversation ids of the fixture, in import order (ids start at 1).
pub mod conv {
    pub const ALICE: i64 = 1; // SMS today, unread, assigned to frontdesk
    pub const BOB: i64 = 2; // WhatsApp two days ago (window expired), unassigned
    pub const CAROL: i64 = 3; // portal, 7 June, 55 items, assigned to manager
    pub const UNKNOWN_CALLER: i64 = 4; // missed call 20 days ago, unresolved, unassigned
    pub const DAN: i64 = 5; // old thread with a note today, assigned to frontdesk
    pub const WITHHELD: i64 = 6; // resolved voicemail 60 days ago
    pub const EVE: i64 = 7; // SMS 45 days ago, unassigned
    /// Then `OLD_COUNT` old unknown-number conversations (ids 8..), 200+ days back.
    pub const OLD_FIRST: i64 = 8;
    pub const OLD_COUNT: i64 = 60;
    /// The other organisation's conversation.
    pub const OTHER: i64 = OLD_FIRST + OLD_COUNT;
}

/// User ids of the fixture (import order).
pub mod user {
    pub const FRONTDESK: i64 = 1;
    pub const TRAINEE: i64 = 2;
    pub const MANAGER: i64 = 3;
    pub const VIEWER: i64 = 4;
    pub const MECHANIC: i64 = 5;
    pub const OWNER: i64 = 6;
    pub const OTHER_FRONTDESK: i64 = 7;
}

pub const ALICE_PHONE: &str = "+447700900101";
pub const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TWILIO_TOKEN: &str = "fixture-twilio-auth-token";
pub const GARAGE_NUMBER: &str = "+441632960001";
pub const WA_PHONE_NUMBER_ID: &str = "100000000000001";
pub const WA_APP_SECRET: &str = "fixture-meta-app-secret";
pub const WA_VERIFY_TOKEN: &str = "fixture-verify-token";
pub const UNKNOWN_PHONE: &str = "+447700900555";

fn users(hash: &str, list: &[(&str, &str, &[Capability])]) -> Vec<UserData> {
    list.iter()
        .map(|(email, role, caps)| UserData {
            email: email.to_string(),
            name: role.to_string(),
            role: role.to_string(),
            capabilities: CapabilitySet::new(caps.iter().copied()),
            password_hash: hash.to_string(),
        })
        .collect()
}

fn customer(name: &str, phone: &str) -> CustomerData {
    CustomerData {
        name: name.into(),
        email: None,
        phones: vec![phone.into()],
    }
}

fn inbound(channel: Channel, body: &str, at: DateTime<Utc>, read: bool) -> ItemData {
    ItemData::Message {
        direction: Direction::Inbound,
        channel,
        body: body.into(),
        status: DeliveryStatus::Delivered,
        author: None,
        at,
        read,
        error: None,
    }
}

fn outbound(channel: Channel, body: &str, at: DateTime<Utc>, author: usize) -> ItemData {
    ItemData::Message {
        direction: Direction::Outbound,
        channel,
        body: body.into(),
        status: DeliveryStatus::Delivered,
        author: Some(author),
        at,
        read: true,
        error: None,
    }
}

fn conversation(
    party: Party,
    assignee: Option<usize>,
    badge: ContextBadge,
    items: Vec<ItemData>,
) -> ConversationData {
    ConversationData {
        party,
        assignee,
        work_order: None,
        context_badge: badge,
        needs_work_order_pick: false,
        items,
    }
}

pub fn fixture(hash: &str) -> Dataset {
    use Capability::*;
    let t = now();
    let h = Duration::hours;
    let d = Duration::days;
    let carol_day = t - d(10);
    let mut carol_items = vec![inbound(
        Channel::Portal,
        "Could you quote for brake pads on the Golf?",
        carol_day - h(8),
        true,
    )];
    for i in 1..55 {
        let at = carol_day - h(8) + Duration::minutes(i * 5);
        carol_items.push(if i % 2 == 0 {
            inbound(Channel::Portal, &format!("Carol message {i}"), at, true)
        } else {
            outbound(Channel::Portal, &format!("Reply number {i}"), at, 2)
        });
    }
    let mut conversations = vec![
        conversation(
            Party::Customer(0),
            Some(0),
            ContextBadge::General,
            vec![inbound(
                Channel::Sms,
                "Is my car ready yet?",
                t - h(1),
                false,
            )],
        ),
        conversation(
            Party::Customer(1),
            None,
            ContextBadge::Booking,
            vec![inbound(
                Channel::Whatsapp,
                "Can I book an MOT for next week?",
                t - d(2),
                true,
            )],
        ),
        conversation(
            Party::Customer(2),
            Some(2),
            ContextBadge::General,
            carol_items,
        ),
        conversation(
            Party::Number(UNKNOWN_PHONE.into()),
            None,
            ContextBadge::Unknown,
            vec![ItemData::Call {
                outcome: CallOutcome::Missed,
                duration_secs: 0,
                recording_secs: None,
                transcript: None,
                resolved: false,
                at: t - d(20),
            }],
        ),
        conversation(
            Party::Customer(3),
            Some(0),
            ContextBadge::General,
            vec![
                inbound(
                    Channel::Sms,
                    "Thanks for the service last spring",
                    t - d(90),
                    true,
                ),
                ItemData::Note {
                    kind: NoteKind::Note,
                    body: "Called back about the advisory".into(),
                    author: Some(0),
                    at: t - Duration::minutes(30),
                },
            ],
        ),
        conversation(
            Party::Withheld,
            None,
            ContextBadge::Unknown,
            vec![ItemData::Call {
                outcome: CallOutcome::Voicemail,
                duration_secs: 0,
                recording_secs: Some(38),
                transcript: Some("Hello, my windscreen is cracked, please call me".into()),
                resolved: true,
                at: t - d(60),
            }],
        ),
        conversation(
            Party::Customer(4),
            None,
            ContextBadge::General,
            vec![inbound(
                Channel::Sms,
                "Thanks, see you then",
                t - d(45),
                true,
            )],
        ),
    ];
    for i in 0..conv::OLD_COUNT {
        conversations.push(conversation(
            Party::Number(format!("+447700900{:03}", 600 + i)),
            None,
            ContextBadge::Unknown,
            vec![inbound(
                Channel::Sms,
                "Old enquiry",
                t - d(200) - h(i),
                true,
            )],
        ));
    }
    let fixture = OrgData {
        name: "Fixture Garage".into(),
        time_zone: "Europe/London".into(),
        ai_enabled: false,
        providers: ProviderSettings {
            twilio_account_sid: TWILIO_SID.into(),
            twilio_auth_token: TWILIO_TOKEN.into(),
            twilio_numbers: vec![GARAGE_NUMBER.into()],
            whatsapp_phone_number_id: WA_PHONE_NUMBER_ID.into(),
            whatsapp_access_token: "EAAG-fixture-token".into(),
            voice_forward_to: None,
        },
        users: users(
            hash,
            &[
                (
                    "frontdesk@fixture.test",
                    "Front desk",
                    &[MessagesView, MessagesSend],
                ),
                (
                    "trainee@fixture.test",
                    "Trainee",
                    &[MessagesView, MessagesSendGated],
                ),
                (
                    "manager@fixture.test",
                    "Manager",
                    &[
                        MessagesView,
                        MessagesSend,
                        MessagesApprove,
                        SettingsTemplatesManage,
                    ],
                ),
                ("viewer@fixture.test", "Viewer", &[MessagesView]),
                ("mechanic@fixture.test", "Mechanic", &[]),
                (
                    "owner@fixture.test",
                    "Owner",
                    &inbox_core::roles::OWNER_CAPABILITIES,
                ),
            ],
        ),
        customers: vec![
            customer("Alice Able", ALICE_PHONE),
            customer("Bob Brown", "+447700900102"),
            customer("Carol Cole", "+447700900103"),
            customer("Dan Dare", "+447700900104"),
            customer("Eve Evans", "+447700900105"),
        ],
        work_orders: vec![
            WorkOrderData {
                number: "WO-1".into(),
                status: WorkOrderStatus::Active,
                vehicle_registration: "AB12 CDE".into(),
                description: "Golf - MOT".into(),
                customer: 1,
            },
            WorkOrderData {
                number: "WO-2".into(),
                status: WorkOrderStatus::Closed,
                vehicle_registration: "XY34 ZZZ".into(),
                description: "Fiesta - brakes".into(),
                customer: 2,
            },
        ],
        conversations,
        quick_messages: vec![("ready".into(), "Your car is ready".into())],
        templates: vec![(
            "vehicle_ready".into(),
            "en_GB".into(),
            "Hi {{1}}, your vehicle is ready.".into(),
        )],
    };
    let other = OrgData {
        name: "Other Garage".into(),
        time_zone: "Europe/London".into(),
        ai_enabled: false,
        providers: ProviderSettings::default(),
        users: users(
            hash,
            &[(
                "frontdesk@other.test",
                "Front desk",
                &[
                    MessagesView,
                    MessagesSend,
                    MessagesApprove,
                    SettingsTemplatesManage,
                ],
            )],
        ),
        customers: vec![customer("Zed Zulu", "+447700900999")],
        work_orders: vec![WorkOrderData {
            number: "WO-9".into(),
            status: WorkOrderStatus::Active,
            vehicle_registration: "ZZ99 ZZZ".into(),
            description: "Van - tyres".into(),
            customer: 0,
        }],
        conversations: vec![conversation(
            Party::Customer(0),
            None,
            ContextBadge::General,
            vec![
                inbound(Channel::Sms, "Secret other garage message", t - h(2), false),
                ItemData::Call {
                    outcome: CallOutcome::Missed,
                    duration_secs: 0,
                    recording_secs: None,
                    transcript: None,
                    resolved: false,
                    at: t - h(3),
                },
            ],
        )],
        quick_messages: vec![("other".into(), "Other garage snippet".into())],
        templates: vec![(
            "other_ready".into(),
            "en_GB".into(),
            "Other garage: {{1}} is ready.".into(),
        )],
    };
    Dataset {
        organisations: vec![fixture, other],
    }
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(|_| {}).await
    }

    /// Starts with a last change to the server's state (provider URLs, switches).
    pub async fn start_with(configure: impl FnOnce(&mut AppState)) -> Server {
        Server::start_serving(configure, ServeConfig::default()).await
    }

    /// Starts with the accept loop's limits set too (timeouts, connection cap).
    pub async fn start_serving(
        configure: impl FnOnce(&mut AppState),
        serve: ServeConfig,
    ) -> Server {
        let db = Arc::new(TestDb::new().await);
        let store = store::open(&db.url).await.unwrap();
        let hash = inbox_server::auth::password::hash(PASSWORD).unwrap();
        store
            .import(fixture(&hash), chrono::Utc::now())
            .await
            .unwrap();
        Server::serve(db, store, configure, serve).await
    }

    /// A server over a database as it is (made by the CLI, say), with nothing imported.
    pub async fn over(db: Arc<TestDb>, configure: impl FnOnce(&mut AppState)) -> Server {
        let store = store::open(&db.url).await.unwrap();
        Server::serve(db, store, configure, ServeConfig::default()).await
    }

    /// A second server instance over this one's database (its own store, pool and hub), as a
    /// second `inbox-server` process would be.
    pub async fn peer(&self) -> Server {
        self.peer_with(|_| {}).await
    }

    /// A second instance with a last change to its state.
    pub async fn peer_with(&self, configure: impl FnOnce(&mut AppState)) -> Server {
        let store = store::open(&self.db.url).await.unwrap();
        Server::serve(
            Arc::clone(&self.db),
            store,
            configure,
            ServeConfig::default(),
        )
        .await
    }

    async fn serve(
        db: Arc<TestDb>,
        store: Arc<Store>,
        configure: impl FnOnce(&mut AppState),
        serve: ServeConfig,
    ) -> Server {
        let mut state = AppState {
            clock: Clock::fixed(now()),
            ..AppState::new(Arc::clone(&store))
        };
        // Fast timers so heartbeats and session checks happen within a test.
        state.sync.heartbeat = std::time::Duration::from_millis(300);
        state.sync.session_check = std::time::Duration::from_millis(200);
        state.sync.heartbeat_timeout = std::time::Duration::from_secs(10);
        state.providers.public_url = "https://inbox.fixture.test".into();
        state.providers.whatsapp_app_secret = Some(WA_APP_SECRET.into());
        state.providers.whatsapp_verify_token = Some(WA_VERIFY_TOKEN.into());
        configure(&mut state);
        inbox_server::language_model::start(Arc::clone(&state.store), state.clock.clone());
        if state.blobs.is_none() {
            let dir = std::env::temp_dir().join(format!("inbox-media-{}", rand::random::<u64>()));
            state.blobs = Some(Arc::new(inbox_server::media::Blobs::new(dir)));
        }
        if let Some(blobs) = &state.blobs {
            inbox_server::media::start(
                Arc::clone(&state.store),
                state.clock.clone(),
                Arc::clone(blobs),
                &state.providers,
            );
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let blobs = state.blobs.clone();
        tokio::spawn(async move {
            inbox_server::serve::serve(listener, app(state), serve, std::future::pending())
                .await
                .unwrap()
        });
        Server {
            base,
            store,
            db,
            blobs,
        }
    }

    pub fn anonymous(&self) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: self.base.clone(),
            token: None,
        }
    }

    pub async fn login(&self, email: &str) -> Client {
        self.login_with(email, PASSWORD).await
    }

    pub async fn login_with(&self, email: &str, password: &str) -> Client {
        let c = self.anonymous();
        let (status, body) = c
            .post(
                "/api/v1/auth/login",
                serde_json::json!({ "email": email, "password": password }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {email}: {body}");
        Client {
            token: Some(body["token"].as_str().unwrap().to_string()),
            ..c
        }
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

impl Client {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// GET that must succeed.
    pub async fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// The ids of a list page, in order.
    /// The newest page of a conversation's thread items.
    pub async fn thread_items(&self, conversation: i64) -> Vec<Value> {
        let page = self
            .ok(&format!("/api/v1/conversations/{conversation}/messages"))
            .await;
        page["items"].as_array().unwrap().clone()
    }

    pub async fn ids(&self, query: &str) -> (Vec<i64>, Value) {
        let page = self.ok(&format!("/api/v1/conversations?{query}")).await;
        let ids = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        (ids, page["counts"].clone())
    }
}

/// `{ all, unread, unassigned, mine }` as a tuple, for compact assertions.
pub fn counts(v: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| v[k].as_u64().unwrap();
    (n("all"), n("unread"), n("unassigned"), n("mine"))
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What the test saw on the socket.
#[derive(Debug)]
pub enum Seen {
    Frame(Value),
    Ping,
    Closed(Option<u16>),
}

impl Client {
    /// Opens `/api/v1/sync?since=N` with this client's token (if any).
    pub async fn sync(&self, since: i64) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!(
            "{}/api/v1/sync?since={since}",
            self.base.replacen("http", "ws", 1)
        );
        let mut req = url.into_client_request()?;
        if let Some(t) = &self.token {
            req.headers_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        Ok(tokio_tungstenite::connect_async(req).await?.0)
    }
}

/// The next thing on the socket, or None if nothing comes within `wait`.
pub async fn seen(ws: &mut Socket, wait: std::time::Duration) -> Option<Seen> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let msg = tokio::time::timeout(wait, ws.next()).await.ok()?;
    Some(match msg {
        Some(Ok(Message::Text(t))) => Seen::Frame(serde_json::from_str(&t).unwrap()),
        Some(Ok(Message::Ping(_))) => Seen::Ping,
        Some(Ok(Message::Close(f))) => Seen::Closed(f.map(|f| u16::from(f.code))),
        Some(Ok(other)) => panic!("unexpected {other:?}"),
        None | Some(Err(_)) => Seen::Closed(None),
    })
}

/// The next JSON frame, skipping pings; panics if none comes within five seconds.
pub async fn frame(ws: &mut Socket) -> Value {
    loop {
        match seen(ws, std::time::Duration::from_secs(5)).await {
            Some(Seen::Frame(v)) => return v,
            Some(Seen::Ping) => continue,
            other => panic!("expected a frame, got {other:?}"),
        }
    }
}

/// Waits for the socket to close, skipping frames; returns the close code.
pub async fn closed(ws: &mut Socket) -> (Vec<Value>, Option<u16>) {
    let mut frames = Vec::new();
    loop {
        match seen(ws, std::time::Duration::from_secs(5)).await {
            Some(Seen::Frame(v)) => frames.push(v),
            Some(Seen::Ping) => continue,
            Some(Seen::Closed(code)) => return (frames, code),
            None => panic!("the socket stayed open; frames so far: {frames:?}"),
        }
    }
}
