//! WhatsApp Cloud API notifications shaped as PROVIDERS.md §3.3–3.5 documents them.

use super::*;
use proptest::prelude::*;

/// One POST with two entries: entry 1 carries a template-status change (skipped) and a
/// `messages` change with seven inbound messages of different types; entry 2 carries statuses
/// (string and numeric timestamps, new- and old-style errors) for a second number, plus a voice
/// note.
const BATCH: &str = r#"{
  "object": "whatsapp_business_account",
  "entry": [
    {
      "id": "102290129340398",
      "changes": [
        {
          "field": "message_template_status_update",
          "value": {"event": "APPROVED", "message_template_id": 594425479261596,
                    "message_template_name": "mot_reminder", "message_template_language": "en_GB",
                    "messages": "a shape we do not model", "metadata": 7}
        },
        {
          "field": "messages",
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "+44 1632 960000", "phone_number_id": "106540352242922"},
            "contacts": [
              {"profile": {"name": "Sam Taylor"}, "wa_id": "447700900123"},
              {"profile": {"name": "Priya S"}, "wa_id": "447700900456", "identity_key_hash": "DF2lS5v2W6x="}
            ],
            "messages": [
              {"from": "447700900123", "id": "wamid.TEXT1", "timestamp": "1736948527", "type": "text",
               "text": {"body": "Is the Golf ready? Caf\u00e9 round the corner \ud83d\ude00"}},
              {"from": "447700900456", "id": "wamid.IMG1", "timestamp": "1736948530", "type": "image",
               "image": {"caption": "The noise comes from here", "mime_type": "image/jpeg",
                         "sha256": "5a1b4f0c8a8d3c0e7f3b0e3a7c1c2e0d", "id": "1003383421387256",
                         "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256"}},
              {"from": "447700900123", "id": "wamid.BTN1", "timestamp": "1736948540", "type": "interactive",
               "context": {"from": "441632960000", "id": "wamid.OUR_QUESTION"},
               "interactive": {"type": "button_reply", "button_reply": {"id": "confirm-slot", "title": "Yes, 10am works"}}},
              {"from": "447700900123", "id": "wamid.LOC1", "timestamp": "1736948550", "type": "location",
               "location": {"latitude": 51.5072, "longitude": -0.1276, "name": "Tesco car park", "address": "High St"}},
              {"from": "447700900456", "id": "wamid.REACT1", "timestamp": "1736948560", "type": "reaction",
               "reaction": {"message_id": "wamid.OUR_QUOTE", "emoji": "\ud83d\udc4d"}},
              {"from": "447700900456", "id": "wamid.UNSUP1", "timestamp": "1736948570", "type": "unsupported",
               "errors": [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                           "error_data": {"details": "Message type is currently not supported."}}],
               "unsupported": {"type": "edit"}},
              {"from": "447700900123", "id": "wamid.FUTURE1", "timestamp": "1736948580", "type": "hologram",
               "hologram": {"depth": 3}, "some_new_field": true}
            ]
          }
        }
      ]
    },
    {
      "id": "102290129340399",
      "changes": [
        {
          "field": "messages",
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "441632960111", "phone_number_id": "106540352242933"},
            "contacts": [{"profile": {"name": "Alex"}, "wa_id": "447700900789"}],
            "messages": [
              {"from": "447700900789", "id": "wamid.VOICE1", "timestamp": 1736948600, "type": "audio",
               "audio": {"mime_type": "audio/ogg; codecs=opus", "sha256": "abc", "id": "1234567890", "voice": true}}
            ],
            "statuses": [
              {"id": "wamid.OUT1", "status": "sent", "timestamp": "1736948601", "recipient_id": "447700900789",
               "conversation": {"id": "c1", "expiration_timestamp": 1737035000, "origin": {"type": "service"}},
               "pricing": {"billable": false, "pricing_model": "PMP", "category": "service", "type": "free_customer_service"}},
              {"id": "wamid.OUT1", "status": "delivered", "timestamp": 1736948602, "recipient_id": "447700900789"},
              {"id": "wamid.OUT1", "status": "read", "timestamp": "1736948603", "recipient_id": "447700900789",
               "biz_opaque_callback_data": "msg-42"},
              {"id": "wamid.OUT2", "status": "failed", "timestamp": "1736948604", "recipient_id": "447700900790",
               "errors": [{"code": 131047, "title": "Re-engagement message",
                           "message": "Re-engagement message",
                           "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
                           "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]},
              {"id": "wamid.OUT3", "status": "failed", "timestamp": "1736948605", "recipient_id": "447700900791",
               "errors": [{"code": 131026, "title": "Message Undeliverable."}]},
              {"id": "wamid.OUT4", "status": "played", "timestamp": "1736948606", "recipient_id": "447700900789"},
              {"id": "wamid.OUT5", "status": "deleted", "timestamp": "1736948607", "recipient_id": "447700900789"}
            ]
          }
        }
      ]
    }
  ]
}"#;

fn batch() -> Parsed {
    parse_notification(BATCH.as_bytes()).unwrap()
}

#[test]
fn every_entry_change_and_item_is_read_in_order() {
    let p = batch();
    let ids: Vec<&str> = p.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "wamid.TEXT1",
            "wamid.IMG1",
            "wamid.BTN1",
            "wamid.LOC1",
            "wamid.REACT1",
            "wamid.UNSUP1",
            "wamid.FUTURE1",
            "wamid.VOICE1"
        ]
    );
    assert_eq!(p.statuses.len(), 7);
    assert!(p.errors.is_empty());
    // Each item carries the phone_number_id of its own change.
    assert!(p.messages[..7]
        .iter()
        .all(|m| m.phone_number_id == "106540352242922"));
    assert_eq!(p.messages[7].phone_number_id, "106540352242933");
    assert!(p
        .statuses
        .iter()
        .all(|s| s.phone_number_id == "106540352242933"));
}

#[test]
fn text_message_keeps_unescaped_unicode_and_profile_name() {
    let m = &batch().messages[0];
    assert_eq!(m.kind, WaKind::Text);
    assert_eq!(m.from_wa_id, "447700900123");
    assert_eq!(m.profile_name.as_deref(), Some("Sam Taylor"));
    assert_eq!(m.timestamp, 1_736_948_527);
    assert_eq!(m.text, "Is the Golf ready? Café round the corner 😀");
    assert_eq!(
        (m.media_id.as_deref(), m.mime_type.as_deref()),
        (None, None)
    );
}

#[test]
fn image_uses_its_caption_and_media_id() {
    let m = &batch().messages[1];
    assert_eq!(m.kind, WaKind::Image);
    assert_eq!(m.profile_name.as_deref(), Some("Priya S"));
    assert_eq!(m.text, "The noise comes from here");
    assert_eq!(m.media_id.as_deref(), Some("1003383421387256"));
    assert_eq!(m.mime_type.as_deref(), Some("image/jpeg"));
}

#[test]
fn button_reply_reads_as_its_title() {
    let m = &batch().messages[2];
    assert_eq!(m.kind, WaKind::Interactive);
    assert_eq!(m.text, "Yes, 10am works");
}

#[test]
fn location_reads_as_coordinates_and_name() {
    let m = &batch().messages[3];
    assert_eq!(m.kind, WaKind::Location);
    assert_eq!(m.text, "Location: 51.5072, -0.1276 (Tesco car park)");
}

#[test]
fn reaction_reads_as_reacted_emoji() {
    let m = &batch().messages[4];
    assert_eq!(m.kind, WaKind::Reaction);
    assert_eq!(m.text, "Reacted 👍 to a message");
}

#[test]
fn unsupported_and_unknown_types_are_kept_with_a_marker() {
    let p = batch();
    let unsupported = &p.messages[5];
    assert_eq!(unsupported.kind, WaKind::Unsupported("edit".into()));
    assert_eq!(unsupported.text, "[Unsupported WhatsApp message: edit]");
    let future = &p.messages[6];
    assert_eq!(future.kind, WaKind::Unsupported("hologram".into()));
    assert_eq!(future.text, "[Unsupported WhatsApp message: hologram]");
    // The typed tree keeps the 131051 error for whoever wants it.
    let n: Notification = serde_json::from_str(BATCH).unwrap();
    let raw = &n.entry[0].changes[1].value.messages[5];
    assert_eq!(raw.errors[0].code, 131051);
    assert_eq!(
        WaError::from(&raw.errors[0]).details.as_deref(),
        Some("Message type is currently not supported.")
    );
}

#[test]
fn voice_note_with_a_numeric_timestamp() {
    let m = &batch().messages[7];
    assert_eq!(m.kind, WaKind::Audio);
    assert_eq!(m.timestamp, 1_736_948_600);
    assert_eq!(m.text, "[Voice message]");
    assert_eq!(m.profile_name.as_deref(), Some("Alex"));
    assert_eq!(m.media_id.as_deref(), Some("1234567890"));
    assert_eq!(m.mime_type.as_deref(), Some("audio/ogg; codecs=opus"));
}

#[test]
fn statuses_read_kind_timestamp_recipient_and_errors() {
    let s = batch().statuses;
    use WaStatusKind::*;
    let kinds: Vec<_> = s.iter().map(|s| s.status.clone()).collect();
    assert_eq!(
        kinds,
        [
            Sent,
            Delivered,
            Read,
            Failed,
            Failed,
            Played,
            Other("deleted".into())
        ]
    );
    assert_eq!(s[0].id, "wamid.OUT1");
    assert_eq!(s[0].timestamp, 1_736_948_601);
    assert_eq!(s[1].timestamp, 1_736_948_602, "numeric timestamp");
    assert_eq!(s[0].recipient_id, "447700900789");
    assert!(s[0].errors.is_empty());
    // Our reference, copied back from the send (issue 13: settles an `unknown` reply).
    assert_eq!(s[2].biz_opaque_callback_data.as_deref(), Some("msg-42"));
    assert_eq!(s[0].biz_opaque_callback_data, None);

    assert_eq!(
        s[3].errors,
        [WaError {
            code: 131047,
            title: "Re-engagement message".into(),
            message: Some("Re-engagement message".into()),
            details: Some(
                "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
                    .into()
            ),
        }]
    );
    // Old style: only code and title.
    assert_eq!(
        s[4].errors,
        [WaError {
            code: 131026,
            title: "Message Undeliverable.".into(),
            message: None,
            details: None,
        }]
    );
}

#[test]
fn the_typed_tree_keeps_what_the_flat_view_leaves_out() {
    let n: Notification = serde_json::from_str(BATCH).unwrap();
    assert_eq!(n.object, OBJECT_WABA);
    assert_eq!(n.entry[0].id, "102290129340398");
    let skipped = &n.entry[0].changes[0];
    assert_eq!(skipped.field, "message_template_status_update");
    assert_eq!(skipped.value, Value::default());
    let v = &n.entry[0].changes[1].value;
    assert_eq!(v.messaging_product, "whatsapp");
    assert_eq!(v.metadata.display_phone_number, "+44 1632 960000");
    assert_eq!(
        v.messages[2].context.as_ref().unwrap().id.as_deref(),
        Some("wamid.OUR_QUESTION")
    );
    let statuses = &n.entry[1].changes[0].value.statuses;
    assert_eq!(
        statuses[2].biz_opaque_callback_data.as_deref(),
        Some("msg-42")
    );
    assert_eq!(
        statuses[0].conversation.as_ref().unwrap()["expiration_timestamp"],
        1_737_035_000
    );
}

fn one_message(message: &str) -> WaInbound {
    let raw = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages",
        "value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"441632960000","phone_number_id":"99"}},
        "messages":[{message}]}}}}]}}]}}"#
    );
    let mut p = parse_notification(raw.as_bytes()).unwrap();
    assert_eq!(p.messages.len(), 1, "{raw}");
    p.messages.remove(0)
}

#[test]
fn every_kind_has_readable_text() {
    let cases = [
        (r#""type":"text","text":{"body":"hi"}"#, WaKind::Text, "hi"),
        (
            r#""type":"text","text":{"body":"   "}"#,
            WaKind::Text,
            "[WhatsApp text message]",
        ),
        (r#""type":"text""#, WaKind::Text, "[WhatsApp text message]"),
        (
            r#""type":"image","image":{"id":"1","mime_type":"image/jpeg"}"#,
            WaKind::Image,
            "[Photo]",
        ),
        (
            r#""type":"video","video":{"id":"2","caption":"Listen to the brakes"}"#,
            WaKind::Video,
            "Listen to the brakes",
        ),
        (
            r#""type":"video","video":{"id":"2"}"#,
            WaKind::Video,
            "[Video]",
        ),
        (
            r#""type":"audio","audio":{"id":"3","voice":false}"#,
            WaKind::Audio,
            "[Audio]",
        ),
        (
            r#""type":"document","document":{"id":"4","filename":"invoice.pdf","mime_type":"application/pdf"}"#,
            WaKind::Document,
            "[Document: invoice.pdf]",
        ),
        (
            r#""type":"document","document":{"id":"4","caption":"My V5C","filename":"v5c.pdf"}"#,
            WaKind::Document,
            "My V5C",
        ),
        (
            r#""type":"document","document":{"id":"4"}"#,
            WaKind::Document,
            "[Document]",
        ),
        (
            r#""type":"sticker","sticker":{"id":"5","animated":false,"mime_type":"image/webp"}"#,
            WaKind::Sticker,
            "[Sticker]",
        ),
        (
            r#""type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"mot","title":"MOT","description":"From £54.85"}}"#,
            WaKind::Interactive,
            "MOT (From £54.85)",
        ),
        (
            r#""type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":"{}"}}"#,
            WaKind::Interactive,
            "Sent",
        ),
        (
            r#""type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"response_json":"{}"}}"#,
            WaKind::Interactive,
            "[Form response]",
        ),
        (
            r#""type":"interactive","interactive":{"type":"something_else"}"#,
            WaKind::Interactive,
            "[WhatsApp interactive message]",
        ),
        (
            r#""type":"button","button":{"payload":"STOP_PROMOS","text":"Stop promotions"}"#,
            WaKind::Button,
            "Stop promotions",
        ),
        (
            r#""type":"button","button":{"payload":"YES"}"#,
            WaKind::Button,
            "YES",
        ),
        (
            r#""type":"reaction","reaction":{"message_id":"wamid.X"}"#,
            WaKind::Reaction,
            "Removed a reaction",
        ),
        (
            r#""type":"reaction","reaction":{"message_id":"wamid.X","emoji":""}"#,
            WaKind::Reaction,
            "Removed a reaction",
        ),
        (
            r#""type":"location","location":{"latitude":"51.5","longitude":"-0.12"}"#,
            WaKind::Location,
            "Location: 51.5, -0.12",
        ),
        (
            r#""type":"location","location":{"latitude":51.5,"longitude":-0.12,"address":"1 High St"}"#,
            WaKind::Location,
            "Location: 51.5, -0.12 (1 High St)",
        ),
        (
            r#""type":"contacts","contacts":[{"name":{"formatted_name":"Dad","first_name":"Dad"},"phones":[{"phone":"+44 7700 900999","type":"CELL","wa_id":"447700900999"}]},{"name":{"formatted_name":"Mum"}}]"#,
            WaKind::Contacts,
            "Shared contact: Dad (+44 7700 900999); Mum",
        ),
        (
            r#""type":"order","order":{"catalog_id":"c","text":"asap","product_items":[{"product_retailer_id":"wipers","quantity":1,"item_price":12.5,"currency":"GBP"}]}"#,
            WaKind::Order,
            "Order: 1 item (asap)",
        ),
        (
            r#""type":"system","system":{"body":"Sam changed their phone number to a new number","type":"user_changed_number","wa_id":"447700900888"}"#,
            WaKind::System,
            "Sam changed their phone number to a new number",
        ),
        (
            r#""type":"unsupported","errors":[{"code":131051,"title":"Message type unknown"}]"#,
            WaKind::Unsupported("unsupported".into()),
            "[Unsupported WhatsApp message: unsupported]",
        ),
        (
            r#""type":"request_welcome""#,
            WaKind::Unsupported("request_welcome".into()),
            "[Unsupported WhatsApp message: request_welcome]",
        ),
        (
            r#""text":{"body":"no type"}"#,
            WaKind::Unsupported("unknown".into()),
            "[Unsupported WhatsApp message: unknown]",
        ),
    ];
    for (fields, kind, text) in cases {
        let m = one_message(&format!(
            r#"{{"from":"447700900123","id":"wamid.1","timestamp":"1700000000",{fields}}}"#
        ));
        assert_eq!(m.kind, kind, "{fields}");
        assert_eq!(m.text, text, "{fields}");
        assert!(!m.text.is_empty());
    }
}

#[test]
fn media_id_and_mime_type_come_only_from_the_object_named_by_type() {
    let m = one_message(
        r#"{"from":"1","id":"w","timestamp":"1","type":"sticker","sticker":{"id":"77","mime_type":"image/webp"},"image":{"id":"88"}}"#,
    );
    assert_eq!(m.media_id.as_deref(), Some("77"));
    assert_eq!(m.mime_type.as_deref(), Some("image/webp"));
    let m = one_message(
        r#"{"from":"1","id":"w","timestamp":"1","type":"text","text":{"body":"x"},"image":{"id":"88"}}"#,
    );
    assert_eq!(m.media_id, None);
}

#[test]
fn profile_name_matches_the_sender_or_a_lone_contact() {
    let raw = |contacts: &str| {
        format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages",
            "value":{{"metadata":{{"phone_number_id":"9"}},"contacts":{contacts},
            "messages":[{{"from":"447700900123","id":"w","timestamp":"1","type":"text","text":{{"body":"x"}}}}]}}}}]}}]}}"#
        )
    };
    let name = |contacts: &str| {
        parse_notification(raw(contacts).as_bytes())
            .unwrap()
            .messages[0]
            .profile_name
            .clone()
    };
    assert_eq!(
        name(
            r#"[{"profile":{"name":"Other"},"wa_id":"1"},{"profile":{"name":"Sam"},"wa_id":"447700900123"}]"#
        ),
        Some("Sam".into())
    );
    assert_eq!(
        name(r#"[{"profile":{"name":"Sam"},"user_id":"GB.123"}]"#),
        Some("Sam".into())
    );
    assert_eq!(
        name(r#"[{"profile":{"name":"A"},"wa_id":"1"},{"profile":{"name":"B"},"wa_id":"2"}]"#),
        None
    );
    assert_eq!(name("[]"), None);
    assert_eq!(
        name(r#"[{"profile":{"name":""},"wa_id":"447700900123"}]"#),
        None
    );
}

#[test]
fn other_objects_and_non_message_fields_give_nothing() {
    let page = r#"{"object":"page","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"w","timestamp":"1","type":"text","text":{"body":"x"}}]}}]}]}"#;
    assert_eq!(
        parse_notification(page.as_bytes()).unwrap(),
        Parsed::default()
    );
    let account = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","time":1700000000,"changes":[
        {"field":"account_update","value":{"event":"VERIFIED_ACCOUNT","statuses":{"odd":true}}},
        {"field":"smb_message_echoes","value":{"message_echoes":[{"from":"1","to":"2"}]}}]}]}"#;
    assert_eq!(
        parse_notification(account.as_bytes()).unwrap(),
        Parsed::default()
    );
    let empty = r#"{"object":"whatsapp_business_account","entry":[]}"#;
    assert_eq!(
        parse_notification(empty.as_bytes()).unwrap(),
        Parsed::default()
    );
    let no_entry = r#"{"object":"whatsapp_business_account"}"#;
    assert_eq!(
        parse_notification(no_entry.as_bytes()).unwrap(),
        Parsed::default()
    );
}

#[test]
fn value_level_errors_are_surfaced() {
    let raw = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",
      "value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1","phone_number_id":"9"},
      "errors":[{"code":"131000","title":"Something went wrong","message":"Something went wrong",
                 "error_data":{"details":"Unknown error"}}]}}]}]}"#;
    let p = parse_notification(raw.as_bytes()).unwrap();
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].code, 131000, "string code accepted");
    assert_eq!(p.errors[0].details.as_deref(), Some("Unknown error"));
}

#[test]
fn malformed_json_is_an_error_not_a_panic() {
    for raw in [
        "",
        "null",
        "[]",
        "{",
        "{}",
        r#"{"object":5}"#,
        r#"{"object":"whatsapp_business_account","entry":{}}"#,
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":{}}}]}]}"#,
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"timestamp":"soon"}]}}]}]}"#,
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"timestamp":1.5}]}}]}]}"#,
    ] {
        assert!(parse_notification(raw.as_bytes()).is_err(), "{raw}");
    }
}

#[test]
fn wa_status_kind_parses_the_documented_values() {
    use WaStatusKind::*;
    for (raw, want) in [
        ("sent", Sent),
        ("delivered", Delivered),
        ("read", Read),
        ("played", Played),
        ("failed", Failed),
        ("warning", Other("warning".into())),
    ] {
        assert_eq!(WaStatusKind::parse(raw), want);
    }
}

#[test]
fn subscription_handshake_echoes_the_challenge_only_for_the_right_token() {
    let q: SubscriptionQuery = serde_json::from_str(
        r#"{"hub.mode":"subscribe","hub.verify_token":"s3cret-token","hub.challenge":"1158201444"}"#,
    )
    .unwrap();
    assert_eq!(q.challenge_if_valid("s3cret-token"), Some("1158201444"));
    assert_eq!(q.challenge_if_valid("s3cret-tokeN"), None);
    assert_eq!(q.challenge_if_valid("s3cret"), None);
    assert_eq!(q.challenge_if_valid(""), None);
    let unsubscribe = SubscriptionQuery {
        mode: Some("unsubscribe".into()),
        ..q.clone()
    };
    assert_eq!(unsubscribe.challenge_if_valid("s3cret-token"), None);
    let empty = SubscriptionQuery {
        verify_token: Some(String::new()),
        ..q.clone()
    };
    assert_eq!(
        empty.challenge_if_valid(""),
        None,
        "unset token never matches"
    );
    assert_eq!(SubscriptionQuery::default().challenge_if_valid("x"), None);
    let shown = format!("{q:?}");
    assert!(
        !shown.contains("s3cret") && shown.contains("1158201444"),
        "{shown}"
    );
}

/// Arbitrary JSON documents, biased towards the envelope's key names.
fn json_strategy() -> impl Strategy<Value = Json> {
    let key = prop::sample::select(vec![
        "object",
        "entry",
        "id",
        "changes",
        "field",
        "value",
        "messages",
        "statuses",
        "contacts",
        "metadata",
        "phone_number_id",
        "from",
        "timestamp",
        "type",
        "text",
        "body",
        "image",
        "caption",
        "location",
        "latitude",
        "errors",
        "code",
        "title",
        "status",
        "recipient_id",
        "whatsapp_business_account",
    ])
    .prop_map(str::to_string);
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_map(Json::from),
        prop::sample::select(vec![
            "messages",
            "whatsapp_business_account",
            "text",
            "1700000000",
            ""
        ])
        .prop_map(Json::from),
        any::<String>().prop_map(Json::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::btree_map(key.clone(), inner, 0..5)
                .prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn prop_arbitrary_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_notification(&raw);
    }

    #[test]
    fn prop_arbitrary_json_never_panics_and_flat_text_is_never_empty(doc in json_strategy()) {
        let raw = serde_json::to_vec(&doc).unwrap();
        if let Ok(p) = parse_notification(&raw) {
            prop_assert!(p.messages.iter().all(|m| !m.text.trim().is_empty()));
        }
    }

    #[test]
    fn prop_mutated_real_payloads_never_panic(cut in 0..BATCH.len(), at in 0..BATCH.len(), byte in any::<u8>()) {
        let mut raw = BATCH.as_bytes().to_vec();
        raw[at] = byte;
        let _ = parse_notification(&raw);
        let _ = parse_notification(&BATCH.as_bytes()[..cut]);
    }

    #[test]
    fn prop_any_message_object_gives_non_empty_text(
        kind in prop::sample::select(vec!["text", "image", "video", "audio", "document", "sticker",
            "interactive", "button", "reaction", "location", "contacts", "order", "system",
            "unsupported", "", "x"]),
        body in any::<String>(),
    ) {
        let message = serde_json::json!({
            "from": "1", "id": "w", "timestamp": "1", "type": kind,
            "text": {"body": body}, "image": {"caption": body}, "video": {"caption": body},
            "document": {"filename": body}, "button": {"text": body}, "reaction": {"emoji": body},
            "location": {"latitude": body, "longitude": body, "name": body},
            "system": {"body": body}, "unsupported": {"type": body},
            "interactive": {"type": "button_reply", "button_reply": {"id": "1", "title": body}},
        });
        let m = one_message(&message.to_string());
        prop_assert!(!m.text.trim().is_empty(), "{:?}", m);
    }
}

// Issue 13 fuzzing: structured mutations of a real batch. Cases: proptest's default (256), or
// `PROPTEST_CASES` for a long run.

/// The ids of the inbound messages of [`BATCH`], in order.
fn batch_ids() -> Vec<String> {
    batch().messages.into_iter().map(|m| m.id).collect()
}

proptest! {
    #[test]
    fn prop_one_odd_field_in_one_message_never_loses_the_rest_of_the_batch(
        which in any::<prop::sample::Index>(),
        field in prop::sample::select(vec!["from", "timestamp", "type", "text", "image", "video",
            "audio", "document", "sticker", "interactive", "button", "reaction", "location",
            "contacts", "context", "errors", "referral", "system", "order", "unsupported",
            "identity", "new_field"]),
        value in json_strategy(),
    ) {
        let mut doc: Json = serde_json::from_str(BATCH).unwrap();
        let messages = doc["entry"][0]["changes"][1]["value"]["messages"].as_array_mut().unwrap();
        let i = which.index(messages.len());
        messages[i][field] = value.clone();
        let raw = serde_json::to_vec(&doc).unwrap();
        let parsed = parse_notification(&raw);
        prop_assert!(parsed.is_ok(), "{field} = {value} in message {i} failed the whole batch: {:?}", parsed.err());
        let ids: Vec<String> = parsed.unwrap().messages.into_iter().map(|m| m.id).collect();
        prop_assert_eq!(ids, batch_ids(), "every message is still there, in order");
    }

    #[test]
    fn prop_a_text_message_round_trips_any_body_and_ids(
        body in any::<String>(),
        from in "[0-9]{6,15}",
        wamid in "wamid\\.[A-Za-z0-9=_-]{1,40}",
        timestamp in 0i64..4_000_000_000,
        as_number in any::<bool>(),
    ) {
        let ts = if as_number { serde_json::json!(timestamp) } else { serde_json::json!(timestamp.to_string()) };
        let doc = serde_json::json!({
            "object": "whatsapp_business_account",
            "entry": [{ "id": "1", "changes": [{ "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": { "display_phone_number": "441632960000", "phone_number_id": "106540352242922" },
                "contacts": [{ "profile": { "name": "Sam" }, "wa_id": from }],
                "messages": [{ "from": from, "id": wamid, "timestamp": ts, "type": "text", "text": { "body": body } }]
            }}]}]
        });
        let p = parse_notification(&serde_json::to_vec(&doc).unwrap()).unwrap();
        prop_assert_eq!(p.messages.len(), 1);
        let m = &p.messages[0];
        prop_assert_eq!(&m.id, &wamid);
        prop_assert_eq!(&m.from_wa_id, &from);
        prop_assert_eq!(m.timestamp, timestamp);
        prop_assert_eq!(m.phone_number_id.as_str(), "106540352242922");
        if !body.trim().is_empty() {
            prop_assert_eq!(&m.text, &body);
        }
    }
}

/// Found by `prop_one_odd_field_in_one_message_never_loses_the_rest_of_the_batch` (issue 13):
/// `"from": null` in one message failed the whole notification, which the server answers 400,
/// so Meta dropped every other message of the batch.
#[test]
fn an_odd_field_in_one_message_loses_only_that_field() {
    let mut doc: Json = serde_json::from_str(BATCH).unwrap();
    let messages = doc["entry"][0]["changes"][1]["value"]["messages"]
        .as_array_mut()
        .unwrap();
    messages[0]["from"] = Json::Null;
    messages[1]["image"] = serde_json::json!("not an object");
    messages[2] = serde_json::json!(7);
    let p = parse_notification(&serde_json::to_vec(&doc).unwrap()).unwrap();
    let ids: Vec<&str> = p.messages.iter().map(|m| m.id.as_str()).collect();
    let want = batch_ids();
    assert_eq!(ids.len(), want.len(), "no message is dropped");
    assert_eq!(ids[0], want[0]);
    assert_eq!(p.messages[0].from_wa_id, "", "only the odd field is lost");
    assert!(p.messages[0].text.starts_with("Is the Golf ready?"));
    assert_eq!(p.messages[1].text, "[Photo]");
    assert_eq!(
        p.messages[2].text, "[Unsupported WhatsApp message: unknown]",
        "an item that is not an object is kept with a marker"
    );
    assert_eq!(ids[3..], want[3..]);
    assert_eq!(p.statuses.len(), batch().statuses.len());
}
