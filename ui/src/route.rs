//! The app's routes and the `/messages` query (LST-7, THR-3): range, custom dates, read filter,
//! search text and the open conversation live in the URL, so a view can be bookmarked, linked
//! from a notification (`OpenView.query`) and read back by a test from the address.
//! Other pages link into the inbox with `messages_href`.

use chrono::NaiveDate;
use inbox_core::api::{ConversationQuery, ListFilter};
use inbox_core::range::RangePreset;
use inbox_core::Id;
use yew_router::Routable;

#[derive(Debug, Clone, PartialEq, Eq, Routable)]
pub enum Route {
    #[at("/login")]
    Login,
    #[at("/messages")]
    Messages,
    #[at("/dashboard")]
    Dashboard,
    /// APQ-1, for approvers.
    #[at("/messages/approvals")]
    Approvals,
    /// AIA-1, while the organisation has AI on.
    #[at("/messages/analytics")]
    Analytics,
    /// VOI-8: one call, its recording and transcript.
    #[at("/calls/:id")]
    Call { id: Id },
    /// SET-1: quick messages and WhatsApp templates, for approvers.
    #[at("/settings")]
    Settings,
    /// WO-1: one work order.
    #[at("/work-orders/:id")]
    WorkOrder { id: Id },
    #[not_found]
    #[at("/")]
    Home,
}

/// What the `/messages` query says. `range` is None when the URL does not name one: the page then
/// falls back to the remembered preset (LST-7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxView {
    pub range: Option<RangePreset>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub filter: ListFilter,
    pub conversation: Option<Id>,
    /// Search text (LST-2); never empty when Some.
    pub q: Option<String>,
}

impl InboxView {
    /// Reads a query string (`?range=today&filter=unread`, with or without the `?`). Unknown keys
    /// and values that do not parse are ignored: a hand-edited URL still opens the inbox.
    pub fn parse(query: &str) -> InboxView {
        let mut view = InboxView::default();
        let query = query.strip_prefix('?').unwrap_or(query);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value);
            match decode(key).as_str() {
                "range" => view.range = RangePreset::parse(&value),
                "from" => view.from = value.parse().ok(),
                "to" => view.to = value.parse().ok(),
                "filter" => {
                    view.filter = ListFilter::ALL
                        .into_iter()
                        .find(|f| filter_name(*f) == value.trim())
                        .unwrap_or_default()
                }
                "conversation" => view.conversation = value.trim().parse().ok(),
                "q" => view.q = Some(value).filter(|q| !q.trim().is_empty()),
                _ => {}
            }
        }
        view
    }

    /// Reads a view a notification or deep link names: `conversation=5`, `?conversation=5`,
    /// `messages?conversation=5` or `/messages?…` (DSK-4, THR-3).
    pub fn parse_link(link: &str) -> InboxView {
        let link = link.trim().trim_start_matches(['#', '/']);
        InboxView::parse(link.strip_prefix("messages").unwrap_or(link))
    }

    /// The query's key/value pairs in a stable order (for `push_with_query`).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(range) = self.range {
            pairs.push(("range", range.as_str().to_string()));
        }
        if self.range == Some(RangePreset::Custom) {
            if let Some(from) = self.from {
                pairs.push(("from", from.to_string()));
            }
            if let Some(to) = self.to {
                pairs.push(("to", to.to_string()));
            }
        }
        pairs.push(("filter", filter_name(self.filter).to_string()));
        if let Some(id) = self.conversation {
            pairs.push(("conversation", id.to_string()));
        }
        if let Some(q) = &self.q {
            pairs.push(("q", q.clone()));
        }
        pairs
    }

    /// The query string, without the leading `?`.
    pub fn to_query(&self) -> String {
        self.pairs()
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The list request this view asks for, with `fallback` standing in for a missing range.
    /// None while a custom range still lacks a date (LST-3: refetch once both are set), unless a
    /// search is running, which ignores the range anyway (LST-2).
    pub fn list_query(&self, fallback: RangePreset) -> Option<ConversationQuery> {
        let range = self.range.unwrap_or(fallback);
        let searching = self.q.is_some();
        if range == RangePreset::Custom && !searching {
            match (self.from, self.to) {
                (Some(from), Some(to)) if from <= to => {}
                _ => return None,
            }
        }
        Some(ConversationQuery {
            range,
            from: self.from.filter(|_| range == RangePreset::Custom),
            to: self.to.filter(|_| range == RangePreset::Custom),
            filter: self.filter,
            q: self.q.clone(),
            cursor: None,
        })
    }

    pub fn with_conversation(&self, conversation: Option<Id>) -> InboxView {
        InboxView {
            conversation,
            ..self.clone()
        }
    }
}

/// A route's address as a hash link (`#/calls/7`, `#/messages?conversation=5`), for `<a href>`.
pub fn href(route: &Route, query: Option<&str>) -> String {
    match query.filter(|q| !q.is_empty()) {
        Some(q) => format!("#{}?{q}", route.to_path()),
        None => format!("#{}", route.to_path()),
    }
}

/// The `/messages` query that opens one conversation; the inbox fills in the remembered range
/// (LST-7).
pub fn conversation_query(conversation: Id) -> String {
    format!("conversation={conversation}")
}

/// The address of the inbox with `conversation` open.
pub fn messages_href(conversation: Id) -> String {
    href(&Route::Messages, Some(&conversation_query(conversation)))
}

/// The filter's wire name (`ListFilter` serialises in snake case).
pub fn filter_name(filter: ListFilter) -> &'static str {
    match filter {
        ListFilter::All => "all",
        ListFilter::Unread => "unread",
        ListFilter::Unassigned => "unassigned",
        ListFilter::Mine => "mine",
    }
}

/// Percent-decodes a query component; `+` is a space (form encoding, as yew-router writes it).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: Option<&u8>) -> Option<u8> {
    char::from(*b?)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Percent-encodes a query component (unreserved characters stay as they are).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn lst7_view_round_trips_through_the_query() {
        let view = InboxView {
            range: Some(RangePreset::Custom),
            from: Some(date("2025-06-01")),
            to: Some(date("2025-06-09")),
            filter: ListFilter::Unassigned,
            conversation: Some(42),
            q: Some("MOT 07700 900123 & brakes".into()),
        };
        let query = view.to_query();
        assert_eq!(
            query,
            "range=custom&from=2025-06-01&to=2025-06-09&filter=unassigned&conversation=42\
             &q=MOT+07700+900123+%26+brakes"
        );
        assert_eq!(InboxView::parse(&query), view);
        assert_eq!(InboxView::parse(&format!("?{query}")), view);
    }

    #[test]
    fn thr3_conversation_link_opens_the_thread() {
        let view = InboxView::parse("conversation=7");
        assert_eq!(view.conversation, Some(7));
        assert_eq!(view.range, None, "the remembered preset fills in");
        assert_eq!(view.filter, ListFilter::All);
    }

    #[test]
    fn dsk4_notification_links_open_their_conversation() {
        for link in [
            "conversation=5",
            "?conversation=5",
            "messages?conversation=5",
            "/messages?conversation=5",
            "#/messages?conversation=5",
        ] {
            assert_eq!(InboxView::parse_link(link).conversation, Some(5), "{link}");
        }
        let full = InboxView::parse_link("range=today&filter=unread&conversation=9");
        assert_eq!(full.range, Some(RangePreset::Today));
        assert_eq!(full.filter, ListFilter::Unread);
    }

    #[test]
    fn lst7_bad_values_fall_back_instead_of_failing() {
        let view = InboxView::parse("range=yesterday&filter=starred&conversation=x&q=&from=June");
        assert_eq!(view, InboxView::default());
        // Case and stray spaces are forgiven for the range, as core's parser does.
        assert_eq!(
            InboxView::parse("range=%20This_Week").range,
            Some(RangePreset::ThisWeek)
        );
        // A truncated escape is kept as text rather than dropped.
        assert_eq!(InboxView::parse("q=100%").q.as_deref(), Some("100%"));
        assert_eq!(InboxView::parse("q=caf%C3%A9").q.as_deref(), Some("café"));
    }

    #[test]
    fn lst7_every_range_and_filter_uses_its_wire_name() {
        for range in RangePreset::ALL {
            for filter in ListFilter::ALL {
                let view = InboxView {
                    range: Some(range),
                    filter,
                    ..InboxView::default()
                };
                assert_eq!(InboxView::parse(&view.to_query()), view);
                let wire = serde_json::to_value(filter).unwrap();
                assert_eq!(wire, filter_name(filter));
            }
        }
    }

    #[test]
    fn lst3_custom_range_waits_for_both_dates() {
        let mut view = InboxView {
            range: Some(RangePreset::Custom),
            from: Some(date("2025-06-01")),
            ..InboxView::default()
        };
        assert_eq!(view.list_query(RangePreset::Last30Days), None);
        view.to = Some(date("2025-05-01"));
        assert_eq!(
            view.list_query(RangePreset::Last30Days),
            None,
            "ends before it starts"
        );
        view.to = Some(date("2025-06-30"));
        let q = view.list_query(RangePreset::Last30Days).unwrap();
        assert_eq!(q.range, RangePreset::Custom);
        assert_eq!(q.from, Some(date("2025-06-01")));
        assert_eq!(q.to, Some(date("2025-06-30")));
    }

    #[test]
    fn lst2_search_runs_even_while_custom_dates_are_missing() {
        let view = InboxView {
            range: Some(RangePreset::Custom),
            q: Some("Patel".into()),
            ..InboxView::default()
        };
        let q = view.list_query(RangePreset::Last30Days).unwrap();
        assert_eq!(q.q.as_deref(), Some("Patel"));
    }

    #[test]
    fn pages_have_their_own_addresses() {
        assert_eq!(
            Route::recognize("/messages/approvals"),
            Some(Route::Approvals)
        );
        assert_eq!(
            Route::recognize("/calls/137"),
            Some(Route::Call { id: 137 })
        );
        assert_eq!(Route::recognize("/settings"), Some(Route::Settings));
        assert_eq!(
            Route::recognize("/work-orders/12"),
            Some(Route::WorkOrder { id: 12 })
        );
        assert_eq!(Route::Call { id: 137 }.to_path(), "/calls/137");
        // A call id that is not a number is no call page.
        assert_eq!(Route::recognize("/calls/abc"), Some(Route::Home));
    }

    #[test]
    fn thr3_links_from_other_pages_open_the_conversation() {
        let link = messages_href(236);
        assert_eq!(link, "#/messages?conversation=236");
        assert_eq!(InboxView::parse_link(&link).conversation, Some(236));
        assert_eq!(href(&Route::Call { id: 137 }, None), "#/calls/137");
        assert_eq!(href(&Route::Approvals, Some("")), "#/messages/approvals");
    }

    #[test]
    fn lst7_missing_range_uses_the_remembered_preset_and_drops_stray_dates() {
        let view = InboxView {
            from: Some(date("2025-06-01")),
            to: Some(date("2025-06-02")),
            ..InboxView::default()
        };
        let q = view.list_query(RangePreset::ThisWeek).unwrap();
        assert_eq!(q.range, RangePreset::ThisWeek);
        assert_eq!((q.from, q.to), (None, None));
        assert!(!view.to_query().contains("from"));
    }
}
