//! The conversation list panel (LST-1 … LST-11): search, the two filter rows, the "Showing:" line,
//! the rows, the empty state and "Load more". The rows hold still under the pointer or keyboard
//! focus (LST-13); the "N new — show" pill sits on the "Showing:" line, beside them, never over
//! or above them, so its coming and going moves nothing; the pointer holds the list anywhere
//! over that line or the rows, so it can reach the pill.

use chrono::NaiveDate;
use inbox_core::api::ListFilter;
use inbox_core::range::RangePreset;
use inbox_core::Id;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::filters::{showing, CustomRange, FilterRow, RangeRow};
use crate::components::row::ConversationRow;
use crate::format::Clock;
use crate::state::ListState;

#[derive(Properties, PartialEq)]
pub struct ListProps {
    pub list: ListState,
    pub range: RangePreset,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub filter: ListFilter,
    /// The text in the search box (may run ahead of the URL while typing).
    pub search: String,
    /// A search is applied to the list (LST-2).
    pub searching: bool,
    pub open: Option<Id>,
    pub cursor: Option<Id>,
    pub clock: Clock,
    #[prop_or_default]
    pub search_ref: NodeRef,
    pub on_search: Callback<String>,
    pub on_range: Callback<RangePreset>,
    pub on_custom: Callback<(Option<NaiveDate>, Option<NaiveDate>)>,
    pub on_filter: Callback<ListFilter>,
    pub on_open: Callback<Id>,
    pub on_load_more: Callback<()>,
    /// LST-13: the pointer entered (true) or left (false) the rows.
    #[prop_or_default]
    pub on_pointer_over: Callback<bool>,
    /// LST-13: the list gained (true) or lost (false) keyboard focus.
    #[prop_or_default]
    pub on_list_focus: Callback<bool>,
    /// LST-13: "N new — show".
    #[prop_or_default]
    pub on_show_queued: Callback<()>,
}

#[function_component]
pub fn ListPanel(props: &ListProps) -> Html {
    let list = &props.list;
    let on_input = props.on_search.reform(|e: InputEvent| {
        e.target_dyn_into::<HtmlInputElement>()
            .map(|i| i.value())
            .unwrap_or_default()
    });
    // WebDriver's clear (and some input methods) change the value without an input event; the
    // change shows by the time the box loses focus.
    let on_settle = {
        let (on_search, current) = (props.on_search.clone(), props.search.clone());
        move |target: Option<HtmlInputElement>| {
            if let Some(value) = target.map(|i| i.value()) {
                if value != current {
                    on_search.emit(value);
                }
            }
        }
    };
    let on_change = {
        let on_settle = on_settle.clone();
        Callback::from(move |e: Event| on_settle(e.target_dyn_into::<HtmlInputElement>()))
    };
    let on_blur =
        Callback::from(move |e: FocusEvent| on_settle(e.target_dyn_into::<HtmlInputElement>()));
    let on_search_key = {
        let on_search = props.on_search.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                on_search.emit(String::new());
            }
        })
    };
    let on_more = props.on_load_more.reform(|_: MouseEvent| ());
    let on_all_time = props.on_range.reform(|_: MouseEvent| RangePreset::AllTime);
    let on_clear_search = props.on_search.reform(|_: MouseEvent| String::new());
    let active_descendant = props.cursor.map(|id| format!("row-{id}"));
    // A pointer already over the rows when the hold was dropped (a new query, a closed thread)
    // takes it again as soon as it moves, even within the same row (the container passes on
    // changes only).
    let on_pointer_over = props.on_pointer_over.reform(|_: PointerEvent| true);
    let on_pointer_move = props.on_pointer_over.reform(|_: PointerEvent| true);
    let on_pointer_down = props.on_pointer_over.reform(|_: PointerEvent| true);
    let on_pointer_leave = props.on_pointer_over.reform(|_: PointerEvent| false);
    let on_focus_in = props.on_list_focus.reform(|_: FocusEvent| true);
    let on_focus_out = props.on_list_focus.reform(|_: FocusEvent| false);
    let on_show = props.on_show_queued.reform(|_: MouseEvent| ());
    let waiting = list.queued.as_ref().map_or(0, |q| q.new_count());
    // The rows' list is in the page (else "Loading…" or the empty state stands in its place).
    let shows_rows = !list.loading && (!list.rows.is_empty() || list.error.is_some());
    {
        // A focused element that leaves the page reports no focusout: once the list is gone,
        // it has no keyboard focus to hold the rows with (LST-13).
        let on_list_focus = props.on_list_focus.clone();
        let has_rows = !list.rows.is_empty();
        use_effect_with((shows_rows, has_rows), move |(shows, has_rows)| {
            if *has_rows {
                crate::ipc::mark_once("list:rows");
            }
            if !*shows {
                on_list_focus.emit(false);
            }
        });
    }
    html! {
        <section class="list-panel" aria-label="Conversations">
            <div class="list-controls">
                <input id="search" type="search" class="search" ref={props.search_ref.clone()}
                    placeholder="Search name, number or message  ( / )"
                    aria-label="Search conversations" autocomplete="off"
                    value={props.search.clone()} oninput={on_input} onchange={on_change} onblur={on_blur} onkeydown={on_search_key} />
                <RangeRow active={props.range} on_pick={props.on_range.clone()} />
                if props.range == RangePreset::Custom {
                    <CustomRange from={props.from} to={props.to} on_change={props.on_custom.clone()} />
                }
                <FilterRow active={props.filter} counts={list.counts} on_pick={props.on_filter.clone()} />
            </div>
            // LST-13: the held region is the rows and the "Showing:" line with its pill, so the
            // pointer on its way to the pill keeps the list (and the pill) where they are.
            <div class="list-held" onpointerover={on_pointer_over} onpointermove={on_pointer_move}
                onpointerdown={on_pointer_down} onpointerleave={on_pointer_leave}>
            <div class="showing-bar">
                <div class="showing-line">
                    <p id="showing" class="showing">
                        { showing(props.range, props.from, props.to, props.searching) }
                    </p>
                    if waiting > 0 {
                        <button id="show-new" type="button" class="new-pill" onclick={on_show}
                            aria-label={format!("{waiting} conversations with new messages: show them at the top")}>
                            { format!("{waiting} new — show") }
                        </button>
                    }
                </div>
            </div>
            if let Some(e) = &list.error {
                <p class="list-error" role="alert">{ e }</p>
            }
            if list.loading {
                <p class="list-loading muted" role="status">{ "Loading conversations…" }</p>
            } else if list.rows.is_empty() && list.error.is_none() {
                <div id="empty-state" class="empty-state" role="status">
                    <p class="empty-title">{ "No conversations" }</p>
                    if props.searching {
                        <p>{ "Nothing matches your search. " }
                            <button type="button" class="button-link" onclick={on_clear_search}>
                                { "Clear the search" }
                            </button>
                        </p>
                    } else if props.range != RangePreset::AllTime {
                        <p>{ "Nothing in this date range. " }
                            <button id="empty-all-time" type="button" class="button-link"
                                onclick={on_all_time}>{ "All time" }</button>
                        </p>
                    } else if props.filter != ListFilter::All {
                        <p>{ "Switch to the All filter to see every conversation." }</p>
                    }
                </div>
            } else {
                <div class="list-scroll">
                <ul class="conversation-list" role="listbox" aria-label="Conversations"
                    tabindex="0" aria-activedescendant={active_descendant}
                    onfocusin={on_focus_in} onfocusout={on_focus_out}>
                    { for list.rows.iter().map(|row| html! {
                        <ConversationRow key={row.id} row={row.clone()} clock={props.clock}
                            selected={props.open == Some(row.id)}
                            focused={props.cursor == Some(row.id)}
                            highlight={list.highlighted.contains_key(&row.id)}
                            on_open={props.on_open.clone()} />
                    }) }
                </ul>
                if list.next_cursor.is_some() {
                    <button id="load-more" type="button" class="button load-more" onclick={on_more}
                        disabled={list.loading_more}>
                        { if list.loading_more { "Loading…" } else { "Load more" } }
                    </button>
                }
                </div>
            }
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::test_render;
    use crate::fixtures::{at, row};

    fn props(list: ListState) -> ListProps {
        ListProps {
            list,
            range: RangePreset::Last30Days,
            from: None,
            to: None,
            filter: ListFilter::All,
            search: String::new(),
            searching: false,
            open: Some(2),
            cursor: Some(1),
            clock: Clock::new(at(60), "Europe/London"),
            search_ref: NodeRef::default(),
            on_search: Callback::noop(),
            on_range: Callback::noop(),
            on_custom: Callback::noop(),
            on_filter: Callback::noop(),
            on_open: Callback::noop(),
            on_load_more: Callback::noop(),
            on_pointer_over: Callback::noop(),
            on_list_focus: Callback::noop(),
            on_show_queued: Callback::noop(),
        }
    }

    #[tokio::test]
    async fn lst13_waiting_rows_show_as_a_pill_beside_the_list_not_in_it() {
        let list = ListState {
            rows: vec![row(1, 50), row(2, 40)],
            queued: Some(crate::hold::Queued {
                page: inbox_core::api::ConversationPage {
                    items: vec![row(9, 70), row(2, 60), row(1, 50)],
                    next_cursor: None,
                    counts: Default::default(),
                },
                epoch: 3,
                fresh: [9, 2].into(),
            }),
            ..ListState::default()
        };
        let html = test_render::<ListPanel>(props(list)).await;
        assert!(html.contains(">2 new — show</button>"), "{html}");
        let pill = html.find(r#"id="show-new""#).unwrap();
        let rows = html.find(r#"class="list-scroll""#).unwrap();
        assert!(
            pill < rows,
            "on the Showing line, above the scrolling rows: {html}"
        );
        // The pointer holds the list over the pill too: both are in the held region (the
        // search and filters are not).
        let held = html.find(r#"class="list-held""#).unwrap();
        let search = html.find(r#"id="search""#).unwrap();
        assert!(search < held && held < pill && pill < rows, "{html}");
        assert!(
            still_inside(&html[held..rows]),
            "the pill and the rows share the held element: {html}"
        );
        // The rows as shown, not the waiting order.
        let first = html.find(r#"data-conversation-id="1""#).unwrap();
        let second = html.find(r#"data-conversation-id="2""#).unwrap();
        assert!(first < second && !html.contains(r#"data-conversation-id="9""#));
        let html = test_render::<ListPanel>(props(ListState {
            rows: vec![row(1, 50)],
            ..ListState::default()
        }))
        .await;
        assert!(!html.contains("show-new"), "{html}");
    }

    /// Markup that starts inside a `<div>` never closes it.
    fn still_inside(markup: &str) -> bool {
        let mut depth = 1i32;
        let mut rest = markup;
        while let Some(i) = rest.find("div") {
            let before = &rest[..i];
            if before.ends_with("</") {
                depth -= 1;
            } else if before.ends_with('<') {
                depth += 1;
            }
            if depth == 0 {
                return false;
            }
            rest = &rest[i + 3..];
        }
        true
    }

    #[tokio::test]
    async fn lst8_empty_range_offers_all_time() {
        let html = test_render::<ListPanel>(props(ListState::default())).await;
        assert!(html.contains(r#"id="empty-state""#), "{html}");
        assert!(html.contains("No conversations"), "{html}");
        assert!(html.contains(r#"id="empty-all-time""#), "{html}");
        assert!(html.contains("Showing: Last 30 days"), "{html}");
        assert!(!html.contains("custom-from"), "picker only for Custom…");

        let mut p = props(ListState::default());
        p.range = RangePreset::AllTime;
        let html = test_render::<ListPanel>(p).await;
        assert!(
            html.contains("No conversations") && !html.contains("empty-all-time"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn lst2_search_says_it_spans_all_time() {
        let mut p = props(ListState::default());
        p.search = "Patel".into();
        p.searching = true;
        let html = test_render::<ListPanel>(p).await;
        assert!(
            html.contains("Showing: search results across all time"),
            "{html}"
        );
        assert!(html.contains(r#"value="Patel""#), "{html}");
        assert!(!html.contains("empty-all-time"), "{html}");
    }

    #[tokio::test]
    async fn lst11_rows_render_in_order_with_load_more() {
        let list = ListState {
            rows: vec![row(1, 50), row(2, 40)],
            next_cursor: Some("c2".into()),
            highlighted: [(1, 1)].into(),
            ..ListState::default()
        };
        let html = test_render::<ListPanel>(props(list)).await;
        assert!(html.contains(r#"role="listbox""#), "{html}");
        assert!(html.contains(r#"aria-activedescendant="row-1""#), "{html}");
        let first = html.find(r#"data-conversation-id="1""#).unwrap();
        let second = html.find(r#"data-conversation-id="2""#).unwrap();
        assert!(first < second);
        assert!(
            html.contains("conversation-row highlight focused"),
            "{html}"
        );
        assert!(html.contains("conversation-row selected"), "{html}");
        assert!(html.contains(r#"id="load-more""#), "{html}");
        assert!(!html.contains("empty-state"), "{html}");
    }
}
