//! `/messages/analytics` (AIA-1): the AI Analytics tab, for anyone who reads conversations
//! while the organisation has AI on. Figures for the same date presets as the inbox, in the
//! organisation's time zone, re-read as the shell reports changes; charts drawn as SVG
//! (`charts`); every table exported as one CSV to the Downloads folder.

pub mod charts;

use std::rc::Rc;

use chrono::{NaiveDate, Utc};
use inbox_core::analytics::csv::csv;
use inbox_core::analytics::{Analytics, AnalyticsQuery};
use inbox_core::desktop::{cmd, ConnectionState, SaveCsv, Session};
use inbox_core::range::RangePreset;
use yew::prelude::*;

use crate::components::app::unless_signed_out;
use crate::components::filters::{CustomRange, RangeRow};
use crate::components::header::Section;
use crate::components::page::{data_changed, failure, use_reread_on_update, Load, PageFrame};
use crate::components::{ChannelIcon, NavLink};
use crate::format::Clock;
use crate::ipc;
use crate::route::{conversation_query, Route};

#[derive(Properties, PartialEq)]
pub struct AnalyticsPageProps {
    pub session: Rc<Session>,
    pub connection: ConnectionState,
    pub on_signed_out: Callback<Option<String>>,
}

/// The query the controls describe; None while a custom range lacks a date.
fn query(
    range: RangePreset,
    custom: (Option<NaiveDate>, Option<NaiveDate>),
) -> Option<AnalyticsQuery> {
    match (range, custom) {
        (RangePreset::Custom, (Some(from), Some(to))) if from <= to => Some(AnalyticsQuery {
            range,
            from: Some(from),
            to: Some(to),
        }),
        (RangePreset::Custom, _) => None,
        _ => Some(AnalyticsQuery {
            range,
            from: None,
            to: None,
        }),
    }
}

#[function_component]
pub fn AnalyticsPage(props: &AnalyticsPageProps) -> Html {
    let range = use_state(|| RangePreset::Last30Days);
    let custom = use_state(|| (None::<NaiveDate>, None::<NaiveDate>));
    let report = use_state(|| Load::<Rc<Analytics>>::Loading);
    let saved = use_state(|| None::<Result<String, String>>);
    let reads = use_mut_ref(|| 0u64);
    let on_signed_out = props.on_signed_out.clone();

    let reread = {
        let (report, on_signed_out) = (report.clone(), on_signed_out.clone());
        let q = query(*range, *custom);
        Callback::from(move |()| {
            let Some(q) = q.clone() else { return };
            let read = {
                let mut n = reads.borrow_mut();
                *n += 1;
                *n
            };
            let (report, on_signed_out, reads) =
                (report.clone(), on_signed_out.clone(), reads.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let answer = ipc::call::<_, Analytics>(cmd::ANALYTICS, &q).await;
                // Only the latest read lands: a slow answer for an old range never shows.
                if *reads.borrow() != read {
                    return;
                }
                match answer {
                    Ok(a) => report.set(Load::Loaded(Rc::new(a))),
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            report.set(Load::Failed(failure("Could not read the analytics", &m)));
                        }
                    }
                }
            });
        })
    };
    {
        let reread = reread.clone();
        use_effect_with((*range, *custom), move |_| reread.emit(()));
    }
    use_reread_on_update(data_changed, reread);

    let on_pick = {
        let range = range.clone();
        Callback::from(move |r: RangePreset| range.set(r))
    };
    let on_custom = {
        let custom = custom.clone();
        Callback::from(move |c: (Option<NaiveDate>, Option<NaiveDate>)| custom.set(c))
    };
    let on_export = {
        let (report, saved) = (report.clone(), saved.clone());
        Callback::from(move |_: MouseEvent| {
            let Load::Loaded(a) = &*report else { return };
            let args = SaveCsv {
                file_name: format!("garage-inbox-analytics-{}-to-{}.csv", a.from, a.to),
                contents: csv(a),
            };
            let saved = saved.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let answer = ipc::call::<_, String>(cmd::SAVE_CSV, &args).await;
                saved.set(Some(
                    answer.map_err(|e| failure("Could not save the CSV", &e.message)),
                ));
            });
        })
    };

    let clock = Clock::new(Utc::now(), &props.session.organisation.time_zone);
    let loaded = matches!(*report, Load::Loaded(_));
    html! {
        <PageFrame session={props.session.clone()} connection={props.connection.clone()}
            on_signed_out={props.on_signed_out.clone()} section={Section::Analytics} class="analytics-page">
            <section class="analytics" aria-labelledby="analytics-title">
                <div class="page-heading">
                    <h2 id="analytics-title">{ "AI Analytics" }</h2>
                    <p class="muted">
                        { "How customers get in touch, how quickly they hear back (in opening hours), \
                           and what they ask for." }
                    </p>
                </div>
                <div class="analytics-controls">
                    <RangeRow active={*range} {on_pick} />
                    <button id="export-csv" type="button" class="button" onclick={on_export} disabled={!loaded}>
                        { "Export CSV" }
                    </button>
                </div>
                if *range == RangePreset::Custom {
                    <CustomRange from={custom.0} to={custom.1} on_change={on_custom} />
                }
                { match &*saved {
                    Some(Ok(path)) => html! { <p id="csv-saved" class="muted" role="status">{ format!("Saved to {path}") }</p> },
                    Some(Err(e)) => html! { <p class="page-error" role="alert">{ e }</p> },
                    None => Html::default(),
                } }
                { match &*report {
                    Load::Loading => html! { <p class="page-loading muted" role="status">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="page-error" role="alert">{ e }</p> },
                    Load::Loaded(a) => html! { <Report analytics={a.clone()} {clock} /> },
                } }
            </section>
        </PageFrame>
    }
}

#[derive(Properties, PartialEq)]
pub struct ReportProps {
    pub analytics: Rc<Analytics>,
    pub clock: Clock,
}

fn minutes(m: Option<i64>) -> String {
    match m {
        None => "–".into(),
        Some(m) if m < 60 => format!("{m} min"),
        Some(m) if m < 1440 => format!("{}h {:02}m", m / 60, m % 60),
        Some(m) => format!("{:.1} days", m as f64 / 1440.0),
    }
}

fn percent(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| "–".into())
}

fn card(id: &'static str, label: &'static str, value: String, note: Option<String>) -> Html {
    html! {
        <div id={id} class="stat-card">
            <p class="stat-label">{ label }</p>
            <p class="stat-value">{ value }</p>
            if let Some(note) = note {
                <p class="stat-note muted">{ note }</p>
            }
        </div>
    }
}

/// The report itself, from props alone.
#[function_component]
pub fn Report(props: &ReportProps) -> Html {
    let a = &props.analytics;
    let change = a.volume.change_pct.map(|c| {
        let sign = if c >= 0.0 { "+" } else { "" };
        format!("{sign}{c:.0}% on the previous period")
    });
    let f = &a.first_response;
    html! {
        <div class="analytics-report" data-from={a.from.to_string()} data-to={a.to.to_string()}>
            <div class="stat-cards">
                { card("stat-inbound", "Customer contacts", a.volume.total.to_string(), change) }
                { card("stat-first-response", "First response (median)", minutes(f.median_minutes),
                    Some(format!("90% within {}", minutes(f.p90_minutes)))) }
                { card("stat-within-hour", "Answered within 1 hour", percent(f.within_hour),
                    Some(format!("{} answered", f.answered))) }
                { card("stat-callbacks", "Missed calls called back", percent(a.calls.callback_rate),
                    Some(format!("median {}", minutes(a.calls.callback_median_minutes)))) }
                { card("stat-waiting", "Waiting now", a.waiting.total.to_string(), None) }
            </div>

            <section class="panel wide" aria-labelledby="volume-title">
                <h3 id="volume-title">{ "Inbound volume" }</h3>
                <ul class="legend">
                    { for charts::STACK.iter().map(|c| html! {
                        <li><span class={classes!("swatch", charts::channel_class(*c))}></span>
                            { format!("{} {}", crate::format::channel_label(*c), a.volume.by_channel.get(*c)) }</li>
                    }) }
                </ul>
                { charts::volume_chart(&a.volume.points, a.granularity) }
            </section>

            <section class="panel" aria-labelledby="response-title">
                <h3 id="response-title">{ "First response" }</h3>
                <p class="muted">{ "Business minutes from a customer's first unanswered message to a reply." }</p>
                <dl class="figures-list">
                    <dt>{ "Answered" }</dt><dd id="response-answered">{ f.answered }</dd>
                    <dt>{ "Median" }</dt><dd>{ minutes(f.median_minutes) }</dd>
                    <dt>{ "90% within" }</dt><dd>{ minutes(f.p90_minutes) }</dd>
                    <dt>{ "Within 1 hour" }</dt><dd>{ percent(f.within_hour) }</dd>
                </dl>
                if let Some(staff) = &a.first_response_by_staff {
                    <table id="staff-table" class="figures">
                        <thead><tr><th>{ "Staff" }</th><th>{ "Answered" }</th><th>{ "Median" }</th>
                            <th>{ "90%" }</th><th>{ "Within 1 h" }</th></tr></thead>
                        <tbody>
                            { for staff.iter().map(|r| html! {
                                <tr><td>{ &r.name }</td><td>{ r.times.answered }</td>
                                    <td>{ minutes(r.times.median_minutes) }</td><td>{ minutes(r.times.p90_minutes) }</td>
                                    <td>{ percent(r.times.within_hour) }</td></tr>
                            }) }
                        </tbody>
                    </table>
                }
            </section>

            <section class="panel" aria-labelledby="calls-title">
                <h3 id="calls-title">{ "Calls" }</h3>
                { charts::calls_bar(a.calls.answered, a.calls.missed, a.calls.voicemail) }
                <dl class="figures-list">
                    <dt>{ "Answered" }</dt><dd id="calls-answered">{ a.calls.answered }</dd>
                    <dt>{ "Missed" }</dt><dd id="calls-missed">{ a.calls.missed }</dd>
                    <dt>{ "Voicemail" }</dt><dd id="calls-voicemail">{ a.calls.voicemail }</dd>
                    <dt>{ "Called back" }</dt><dd>{ format!("{} ({})", a.calls.callbacks, percent(a.calls.callback_rate)) }</dd>
                </dl>
            </section>

            <section class="panel" aria-labelledby="waiting-title">
                <h3 id="waiting-title">{ format!("Waiting now ({})", a.waiting.total) }</h3>
                if a.waiting.items.is_empty() {
                    <p class="muted">{ "Nobody is waiting for a reply." }</p>
                } else {
                    <ol id="waiting-list" class="waiting-list">
                        { for a.waiting.items.iter().map(|w| html! {
                            <li key={w.conversation_id} data-conversation-id={w.conversation_id.to_string()}>
                                <ChannelIcon channel={w.channel} />
                                <NavLink to={Route::Messages} query={conversation_query(w.conversation_id)}
                                    class="waiting-title" title="Open the conversation">{ &w.title }</NavLink>
                                <span class="muted since">{ props.clock.row_time(w.since) }</span>
                                <span class="waiting-preview muted">{ &w.preview }</span>
                            </li>
                        }) }
                    </ol>
                }
            </section>

            <section class="panel" aria-labelledby="approvals-figures-title">
                <h3 id="approvals-figures-title">{ "Approval Queue" }</h3>
                <dl class="figures-list">
                    <dt>{ "Approved" }</dt><dd>{ a.approvals.approved }</dd>
                    <dt>{ "Rejected" }</dt><dd>{ a.approvals.rejected }</dd>
                    <dt>{ "Median time to approve" }</dt><dd>{ minutes(a.approvals.median_minutes_to_approve) }</dd>
                </dl>
            </section>

            <section class="panel wide" aria-labelledby="hours-title">
                <h3 id="hours-title">{ "Busiest hours" }</h3>
                { charts::heat_map(&a.busiest_hours) }
            </section>

            <section class="panel wide" aria-labelledby="intents-title">
                <h3 id="intents-title">{ "What customers asked for" }</h3>
                <p class="muted">
                    { format!("{} messages classified; staff corrected {} ({}).", a.intents.total,
                        a.intents.corrected, percent(a.intents.error_rate)) }
                </p>
                { charts::intent_mix_chart(&a.intents.mix) }
                { charts::intent_trend_chart(&a.intents.trend, a.granularity) }
            </section>
        </div>
    }
}

#[cfg(test)]
mod tests;
