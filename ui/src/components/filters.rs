//! The list's scope controls: the date range row with its inline custom picker (LST-3), the read
//! filter row with count badges (LST-4) and the "Showing:" line (LST-5, LST-2).

use chrono::NaiveDate;
use inbox_core::api::{Counts, ListFilter};
use inbox_core::range::RangePreset;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::format;
use crate::route::filter_name;

#[derive(Properties, PartialEq)]
pub struct RangeRowProps {
    pub active: RangePreset,
    pub on_pick: Callback<RangePreset>,
}

#[function_component]
pub fn RangeRow(props: &RangeRowProps) -> Html {
    html! {
        <div class="button-row range-row" role="group" aria-label="Date range">
            { for RangePreset::ALL.into_iter().map(|range| {
                let onclick = props.on_pick.reform(move |_: MouseEvent| range);
                let pressed = range == props.active;
                html! {
                    <button type="button" class={classes!("chip", pressed.then_some("active"))}
                        data-range={range.as_str()} aria-pressed={pressed.to_string()} {onclick}>
                        { range.label() }
                    </button>
                }
            }) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct FilterRowProps {
    pub active: ListFilter,
    pub counts: Counts,
    pub on_pick: Callback<ListFilter>,
}

fn count_of(counts: &Counts, filter: ListFilter) -> u64 {
    match filter {
        ListFilter::All => counts.all,
        ListFilter::Unread => counts.unread,
        ListFilter::Unassigned => counts.unassigned,
        ListFilter::Mine => counts.mine,
    }
}

#[function_component]
pub fn FilterRow(props: &FilterRowProps) -> Html {
    html! {
        <div class="button-row filter-row" role="group" aria-label="Read filter">
            { for ListFilter::ALL.into_iter().map(|filter| {
                let onclick = props.on_pick.reform(move |_: MouseEvent| filter);
                let pressed = filter == props.active;
                let count = count_of(&props.counts, filter);
                html! {
                    <button type="button" class={classes!("chip", pressed.then_some("active"))}
                        data-filter={filter_name(filter)} aria-pressed={pressed.to_string()} {onclick}>
                        { filter.label() }
                        <span class="count" aria-label={format!("{count} conversations")}>{ count }</span>
                    </button>
                }
            }) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct CustomRangeProps {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub on_change: Callback<(Option<NaiveDate>, Option<NaiveDate>)>,
}

/// LST-3's inline picker: the list refetches once both dates are set.
#[function_component]
pub fn CustomRange(props: &CustomRangeProps) -> Html {
    let read = |e: &InputEvent| {
        e.target_dyn_into::<HtmlInputElement>()
            .and_then(|i| i.value().parse::<NaiveDate>().ok())
    };
    let (from, to) = (props.from, props.to);
    let on_from = props.on_change.reform(move |e: InputEvent| (read(&e), to));
    let on_to = props
        .on_change
        .reform(move |e: InputEvent| (from, read(&e)));
    let value = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let invalid = matches!((from, to), (Some(f), Some(t)) if t < f);
    html! {
        <div class="custom-range" role="group" aria-label="Custom date range">
            <label>{ "From" }
                <input id="custom-from" type="date" value={value(from)} oninput={on_from}
                    max={to.map(|d| d.to_string())} />
            </label>
            <label>{ "To" }
                <input id="custom-to" type="date" value={value(to)} oninput={on_to}
                    min={from.map(|d| d.to_string())} />
            </label>
            if invalid {
                <p class="field-error" role="alert">{ "The end date is before the start date." }</p>
            }
        </div>
    }
}

/// LST-5's microcopy, or LST-2's note that a search spans all time.
pub fn showing(
    range: RangePreset,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    searching: bool,
) -> String {
    if searching {
        return "Showing: search results across all time".into();
    }
    match (range, from, to) {
        (RangePreset::Custom, Some(f), Some(t)) => {
            format!("Showing: {} – {}", format::date(f), format::date(t))
        }
        (RangePreset::Custom, _, _) => "Showing: Custom… (pick both dates)".into(),
        (range, _, _) => format!("Showing: {}", range.label()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::test_render;

    #[tokio::test]
    async fn lst4_filter_buttons_carry_counts_and_pressed_state() {
        let html = test_render::<FilterRow>(FilterRowProps {
            active: ListFilter::Unread,
            counts: Counts {
                all: 47,
                unread: 5,
                unassigned: 3,
                mine: 0,
            },
            on_pick: Callback::noop(),
        })
        .await;
        for (name, count, pressed) in [
            ("all", 47, false),
            ("unread", 5, true),
            ("unassigned", 3, false),
            ("mine", 0, false),
        ] {
            let start = html
                .find(&format!(r#"data-filter="{name}""#))
                .unwrap_or_else(|| panic!("{name} missing: {html}"));
            let button = &html[start..start + html[start..].find("</button>").unwrap()];
            assert!(
                button.contains(&format!(r#"aria-pressed="{pressed}""#)),
                "{button}"
            );
            assert!(button.contains(&format!(">{count}</span>")), "{button}");
            assert!(button.contains(r#"class="count""#), "{button}");
        }
    }

    #[tokio::test]
    async fn lst3_range_row_has_six_presets_with_one_pressed() {
        let html = test_render::<RangeRow>(RangeRowProps {
            active: RangePreset::Last30Days,
            on_pick: Callback::noop(),
        })
        .await;
        for name in [
            "all_time",
            "today",
            "this_week",
            "this_month",
            "last_30_days",
            "custom",
        ] {
            assert!(
                html.contains(&format!(r#"data-range="{name}""#)),
                "{name}: {html}"
            );
        }
        assert_eq!(html.matches(r#"aria-pressed="true""#).count(), 1);
        let pressed = html.find(r#"aria-pressed="true""#).unwrap();
        let last30 = html.find(r#"data-range="last_30_days""#).unwrap();
        assert!(pressed.abs_diff(last30) < 80, "{html}");
        assert!(html.contains("Custom…"));
    }

    #[tokio::test]
    async fn lst3_custom_picker_shows_the_chosen_dates() {
        let html = test_render::<CustomRange>(CustomRangeProps {
            from: Some("2025-06-01".parse().unwrap()),
            to: Some("2025-05-01".parse().unwrap()),
            on_change: Callback::noop(),
        })
        .await;
        assert!(html.contains(r#"id="custom-from""#) && html.contains(r#"id="custom-to""#));
        assert!(html.contains(r#"value="2025-06-01""#), "{html}");
        assert!(html.contains("before the start date"), "{html}");
    }

    #[test]
    fn lst5_showing_names_the_preset_and_lst2_search_spans_all_time() {
        assert_eq!(
            showing(RangePreset::Last30Days, None, None, false),
            "Showing: Last 30 days"
        );
        assert_eq!(
            showing(RangePreset::Today, None, None, true),
            "Showing: search results across all time"
        );
        let d = |s: &str| Some(s.parse::<NaiveDate>().unwrap());
        assert_eq!(
            showing(RangePreset::Custom, d("2025-06-01"), d("2025-06-09"), false),
            "Showing: 1 Jun 2025 – 9 Jun 2025"
        );
    }
}
