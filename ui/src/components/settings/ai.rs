//! Settings › AI and opening hours (AIA-1), for `settings.ai.manage`: the organisation's AI
//! switch (intent badges and the Analytics tab, for everyone at once) and the opening hours
//! that response times are measured in.

use chrono::NaiveTime;
use inbox_core::analytics::{DayHours, OpeningHours};
use inbox_core::api::AiSettings;
use inbox_core::desktop::cmd;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::admin::{read_once, Notice, Said};
use crate::components::app::unless_signed_out;
use crate::components::page::failure;
use crate::ipc;

#[derive(Properties, PartialEq)]
pub struct AiSettingsProps {
    pub enabled: bool,
    pub on_signed_out: Callback<Option<String>>,
}

pub const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn hhmm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

fn parse(v: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(v, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(v, "%H:%M:%S"))
        .ok()
}

#[function_component]
pub fn AiAndHours(props: &AiSettingsProps) -> Html {
    let hours = use_state(|| None::<OpeningHours>);
    let said = use_state(|| None::<Said>);
    let on_signed_out = props.on_signed_out.clone();
    {
        let (hours, said, on_signed_out) = (hours.clone(), said.clone(), on_signed_out.clone());
        use_effect_with((), move |_| {
            read_once(
                cmd::OPENING_HOURS,
                "Could not read the opening hours",
                said,
                on_signed_out,
                move |h: OpeningHours| hours.set(Some(h)),
            )
        });
    }
    let on_switch = {
        let (said, on_signed_out) = (said.clone(), on_signed_out.clone());
        let enabled = props.enabled;
        Callback::from(move |_: Event| {
            let (said, on_signed_out) = (said.clone(), on_signed_out.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let args = AiSettings { enabled: !enabled };
                match ipc::call::<_, AiSettings>(cmd::SET_AI, &args).await {
                    Ok(s) => said.set(Some(Said::Done(if s.enabled {
                        "AI is on: intent badges and the Analytics tab, for everyone.".into()
                    } else {
                        "AI is off: no badges, no Analytics tab.".into()
                    }))),
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            said.set(Some(Said::Refused(failure(
                                "Could not change the AI switch",
                                &m,
                            ))));
                        }
                    }
                }
            });
        })
    };
    let edit_day = {
        let hours = hours.clone();
        Callback::from(move |(i, day): (usize, Option<DayHours>)| {
            if let Some(mut h) = *hours {
                h.days[i] = day;
                hours.set(Some(h));
            }
        })
    };
    let on_save = {
        let (hours, said, on_signed_out) = (hours.clone(), said.clone(), on_signed_out.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(h) = *hours else { return };
            if let Err(why) = h.validate() {
                return said.set(Some(Said::Refused(failure("Not saved", &why.to_string()))));
            }
            let (hours, said, on_signed_out) = (hours.clone(), said.clone(), on_signed_out.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, OpeningHours>(cmd::SET_OPENING_HOURS, &h).await {
                    Ok(saved) => {
                        hours.set(Some(saved));
                        said.set(Some(Said::Done(
                            "Opening hours saved; the analytics are recounted in them.".into(),
                        )));
                    }
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            said.set(Some(Said::Refused(failure(
                                "Could not save the opening hours",
                                &m,
                            ))));
                        }
                    }
                }
            });
        })
    };

    html! {
        <section id="ai-section" class="settings-section" aria-labelledby="ai-title">
            <h3 id="ai-title">{ "AI and opening hours" }</h3>
            <Notice notice={(*said).clone()} />
            <label class="switch">
                <input id="ai-switch" type="checkbox" checked={props.enabled} onchange={on_switch} />
                <span>{ "AI intents and analytics" }</span>
            </label>
            <p class="muted">{ "Classifies each customer message on this server (nothing leaves it unless you add a language model below) and shows the AI Analytics tab to everyone who reads the inbox." }</p>
            <super::model::LanguageModel on_signed_out={on_signed_out.clone()} />
            if let Some(h) = *hours {
                <form id="opening-hours" onsubmit={on_save}>
                    <table class="figures hours-table">
                        <thead><tr><th>{ "Day" }</th><th>{ "Open" }</th><th>{ "From" }</th><th>{ "To" }</th></tr></thead>
                        <tbody>
                            { for DAYS.iter().enumerate().map(|(i, name)| {
                                let day = h.days[i];
                                let open = day.is_some();
                                let default = DayHours { open: parse("08:00").unwrap_or_default(), close: parse("17:30").unwrap_or_default() };
                                let toggle = edit_day.reform(move |_: Event| (i, if open { None } else { Some(default) }));
                                let current = day.unwrap_or(default);
                                let from = edit_day.reform(move |e: Event| {
                                    let t = e.target_dyn_into::<HtmlInputElement>().and_then(|x| parse(&x.value()));
                                    (i, Some(DayHours { open: t.unwrap_or(current.open), ..current }))
                                });
                                let to = edit_day.reform(move |e: Event| {
                                    let t = e.target_dyn_into::<HtmlInputElement>().and_then(|x| parse(&x.value()));
                                    (i, Some(DayHours { close: t.unwrap_or(current.close), ..current }))
                                });
                                html! {
                                    <tr data-day={i.to_string()}>
                                        <td>{ *name }</td>
                                        <td><input type="checkbox" class="day-open" checked={open} onchange={toggle}
                                            aria-label={format!("Open on {name}")} /></td>
                                        <td><input type="time" class="day-from" value={hhmm(current.open)} disabled={!open} onchange={from}
                                            aria-label={format!("{name} opening time")} /></td>
                                        <td><input type="time" class="day-to" value={hhmm(current.close)} disabled={!open} onchange={to}
                                            aria-label={format!("{name} closing time")} /></td>
                                    </tr>
                                }
                            }) }
                        </tbody>
                    </table>
                    <button id="save-hours" type="submit" class="button">{ "Save opening hours" }</button>
                </form>
            }
        </section>
    }
}
