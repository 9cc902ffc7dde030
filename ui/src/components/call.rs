//! `/calls/:id` (VOI-8): one call — its metadata in the organisation's zone, the recording and
//! the transcript — with "Mark resolved" (VOI-7) and "Reassign" (VOI-6, in `reassign`).

pub mod destination;
pub mod reassign;

use std::rc::Rc;

use chrono::Utc;
use inbox_core::desktop::{cmd, CallRef, CallView, ConnectionState, Session};
use inbox_core::{Call, Channel, Direction, Id};
use yew::prelude::*;

use crate::components::app::unless_signed_out;
use crate::components::header::Section;
use crate::components::page::{data_changed, failure, use_reread_on_update, Load, PageFrame};
use crate::components::player::Player;
use crate::components::{ChannelIcon, NavLink};
use crate::format::{self, outcome_label, Clock};
use crate::ipc;
use crate::route::{conversation_query, Route};
use reassign::{Moved, ReassignDialog};

/// VOI-7: "Mark resolved" is offered for calls the system could not resolve, until someone did.
pub fn can_mark_resolved(call: &Call) -> bool {
    call.outcome.needs_resolution() && !call.resolved
}

/// What the Resolution line says.
pub fn resolution(call: &Call) -> &'static str {
    match (call.outcome.needs_resolution(), call.resolved) {
        (_, true) => "Resolved",
        (true, false) => "Not resolved — stays in Unread until marked resolved",
        (false, false) => "Nothing to resolve",
    }
}

/// The caller's number as given, or that it was withheld (VOI-3).
pub fn caller(call: &Call) -> String {
    call.from_number
        .clone()
        .unwrap_or_else(|| "Withheld number".into())
}

pub fn heading(call: &Call) -> &'static str {
    match call.direction {
        Direction::Inbound => "Incoming call",
        Direction::Outbound => "Outgoing call",
    }
}

/// "Moved to {title}" after a reassignment: the new conversation's title once the page has read
/// it, else the destination as the dialog knew it.
pub fn moved_line(view: &CallView, moved: &Moved) -> String {
    let title = view
        .conversation
        .as_ref()
        .filter(|c| c.id == moved.to_conversation_id)
        .map_or(moved.title.as_str(), |c| c.title.as_str());
    format!("Moved to {title}")
}

#[derive(Properties, PartialEq)]
pub struct CallPageProps {
    pub id: Id,
    pub session: Rc<Session>,
    pub connection: ConnectionState,
    pub on_signed_out: Callback<Option<String>>,
}

#[function_component]
pub fn CallPage(props: &CallPageProps) -> Html {
    let view = use_state(|| Load::<CallView>::Loading);
    let moved = use_state(|| None::<Moved>);
    let reassigning = use_state(|| false);
    let resolving = use_state(|| false);
    let error = use_state(|| None::<String>);
    // The call the page shows now: an answer for another one (the route changed) is dropped.
    let shown = use_mut_ref(|| props.id);
    *shown.borrow_mut() = props.id;
    let on_signed_out = props.on_signed_out.clone();

    // Reads the call; `fresh` shows "Loading…" meanwhile (a re-read keeps what is shown).
    let load = {
        let (view, on_signed_out, shown) = (view.clone(), on_signed_out.clone(), shown.clone());
        let id = props.id;
        Callback::from(move |fresh: bool| {
            if fresh {
                view.set(Load::Loading);
            }
            let (view, on_signed_out, shown) = (view.clone(), on_signed_out.clone(), shown.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let answer = ipc::call::<_, CallView>(cmd::CALL, &CallRef { call_id: id }).await;
                if *shown.borrow() != id {
                    return;
                }
                match answer {
                    Ok(v) => view.set(Load::Loaded(v)),
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            if fresh {
                                view.set(Load::Failed(failure("Could not open the call", &m)));
                            }
                        }
                    }
                }
            });
        })
    };
    {
        let (load, moved, error) = (load.clone(), moved.clone(), error.clone());
        use_effect_with(props.id, move |_| {
            moved.set(None);
            error.set(None);
            load.emit(true);
        });
    }
    use_reread_on_update(data_changed, load.reform(|()| false));

    let on_resolve = {
        let (view, resolving, error) = (view.clone(), resolving.clone(), error.clone());
        let id = props.id;
        Callback::from(move |()| {
            resolving.set(true);
            error.set(None);
            let (view, resolving, error) = (view.clone(), resolving.clone(), error.clone());
            let on_signed_out = on_signed_out.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call::<_, Call>(cmd::RESOLVE_CALL, &CallRef { call_id: id }).await {
                    Ok(call) => {
                        if let Load::Loaded(v) = &*view {
                            view.set(Load::Loaded(CallView { call, ..v.clone() }));
                        }
                    }
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            error.set(Some(failure("Could not mark the call resolved", &m)));
                        }
                    }
                }
                resolving.set(false);
            });
        })
    };
    let on_reassign = {
        let reassigning = reassigning.clone();
        Callback::from(move |()| reassigning.set(true))
    };
    let on_close = {
        let reassigning = reassigning.clone();
        Callback::from(move |()| reassigning.set(false))
    };
    let on_moved = {
        let (view, moved, reassigning, load) = (
            view.clone(),
            moved.clone(),
            reassigning.clone(),
            load.clone(),
        );
        Callback::from(move |m: Moved| {
            if let Load::Loaded(v) = &*view {
                view.set(Load::Loaded(CallView {
                    call: m.call.clone(),
                    ..v.clone()
                }));
            }
            moved.set(Some(m));
            reassigning.set(false);
            // The new conversation's title and counts.
            load.emit(false);
        })
    };

    let clock = Clock::new(Utc::now(), &props.session.organisation.time_zone);
    let can_write = props.session.user.capabilities.can_write();
    html! {
        <PageFrame session={props.session.clone()} connection={props.connection.clone()}
            on_signed_out={props.on_signed_out.clone()} section={Section::Inbox} class="call-page">
            {
                match &*view {
                    Load::Loading => html! {
                        <p class="page-loading muted" role="status">{ "Loading the call…" }</p>
                    },
                    Load::Failed(e) => html! {
                        <>
                            <NavLink id="back-to-inbox" class="back-link" to={Route::Messages}>
                                { "‹ Back to the inbox" }
                            </NavLink>
                            <p class="page-error" role="alert">{ e }</p>
                        </>
                    },
                    Load::Loaded(v) => html! {
                        <div class="call-column">
                            if let Some(m) = &*moved {
                                <p id="call-moved" class="notice" role="status">{ moved_line(v, m) }</p>
                            }
                            if let Some(e) = &*error {
                                <p class="page-error" role="alert">{ e }</p>
                            }
                            <CallDetail view={v.clone()} {clock} {can_write} resolving={*resolving}
                                {on_resolve} {on_reassign} />
                            if *reassigning {
                                <ReassignDialog call={v.call.clone()}
                                    current_customer={v.conversation.as_ref().and_then(|c| c.customer_id)}
                                    {on_moved} {on_close} on_signed_out={props.on_signed_out.clone()} />
                            }
                        </div>
                    },
                }
            }
        </PageFrame>
    }
}

#[derive(Properties, PartialEq)]
pub struct CallDetailProps {
    pub view: CallView,
    pub clock: Clock,
    /// May act on calls (resolve, reassign): direct or gated senders.
    pub can_write: bool,
    #[prop_or_default]
    pub resolving: bool,
    pub on_resolve: Callback<()>,
    pub on_reassign: Callback<()>,
}

/// The call itself (VOI-8).
#[function_component]
pub fn CallDetail(props: &CallDetailProps) -> Html {
    let c = &props.view.call;
    let title = props.view.conversation.as_ref().map(|s| s.title.as_str());
    let on_resolve = props.on_resolve.reform(|_: MouseEvent| ());
    let on_reassign = props.on_reassign.reform(|_: MouseEvent| ());
    let clock = props.clock;
    let open = conversation_query(c.conversation_id);
    html! {
        <article id="call" class="call-detail" data-call-id={c.id.to_string()}
            data-outcome={c.outcome.as_str()} data-conversation-id={c.conversation_id.to_string()}
            data-resolved={c.resolved.to_string()}>
            <NavLink id="back-to-conversation" class="back-link" to={Route::Messages} query={open.clone()}>
                { format!("‹ Back to {}", title.unwrap_or("the conversation")) }
            </NavLink>
            <header class="call-detail-head">
                <ChannelIcon channel={Channel::Voice} />
                <h2 class="call-detail-title">{ heading(c) }</h2>
                <span class={classes!("outcome-pill", c.outcome.as_str())}>{ outcome_label(c.outcome) }</span>
                <div class="call-actions">
                    if props.can_write && can_mark_resolved(c) {
                        <button id="mark-resolved" type="button" class="button primary"
                            onclick={on_resolve} disabled={props.resolving}>
                            { if props.resolving { "Marking…" } else { "Mark resolved" } }
                        </button>
                    } else if c.resolved && c.outcome.needs_resolution() {
                        <span id="resolved" class="resolved-badge">{ "✓ Resolved" }</span>
                    }
                    if props.can_write {
                        <button id="reassign" type="button" class="button" onclick={on_reassign}>
                            { "Reassign" }
                        </button>
                    }
                </div>
            </header>
            <p class="call-summary muted">{ &c.summary }</p>
            <dl class="call-meta">
                <div><dt>{ "Direction" }</dt><dd id="call-direction">
                    { match c.direction { Direction::Inbound => "Incoming", Direction::Outbound => "Outgoing" } }
                </dd></div>
                <div><dt>{ "From" }</dt><dd id="call-from">{ caller(c) }</dd></div>
                <div><dt>{ "Conversation" }</dt><dd id="call-conversation">
                    <NavLink to={Route::Messages} query={open}>
                        { title.unwrap_or("Open the conversation") }
                    </NavLink>
                </dd></div>
                <div><dt>{ "Started" }</dt><dd id="call-started">
                    <time datetime={c.started_at.to_rfc3339()}>{ clock.full_time(c.started_at) }</time>
                </dd></div>
                <div><dt>{ "Duration" }</dt><dd id="call-duration">{ format::duration(c.duration_secs) }</dd></div>
                <div><dt>{ "Outcome" }</dt><dd id="call-outcome">{ outcome_label(c.outcome) }</dd></div>
                <div><dt>{ "Resolution" }</dt>
                    <dd id="call-resolution" data-resolved={c.resolved.to_string()}>{ resolution(c) }</dd></div>
            </dl>
            <section class="call-section call-recording" aria-labelledby="recording-title">
                <h3 id="recording-title">{ "Recording" }</h3>
                if props.view.recording_unavailable {
                    <p id="recording-unavailable" class="muted">{ "Recording unavailable" }</p>
                } else if c.recording_url.is_some() {
                    // Through the engine, which fetches it from the server and keeps it here.
                    <Player id="recording" label="Recording of the call"
                        src={crate::components::attachments::media_url("recording", c.id)}>
                        { "This computer cannot play the recording." }
                    </Player>
                    if let Some(secs) = c.recording_secs {
                        <p class="recording-length muted">{ format!("Length {}", format::duration(secs)) }</p>
                    }
                } else {
                    <p id="no-recording" class="muted">{ "No recording for this call." }</p>
                }
            </section>
            <section class="call-section call-transcript" aria-labelledby="transcript-title">
                <h3 id="transcript-title">{ "Transcript" }</h3>
                if let Some(t) = c.transcript.as_ref().filter(|t| !t.trim().is_empty()) {
                    <p id="transcript" class="transcript-text">{ t }</p>
                } else {
                    <p id="no-transcript" class="muted">{ "No transcript for this call." }</p>
                }
            </section>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::{open_tag, test_render};
    use crate::fixtures::{at, call, row};
    use inbox_core::{CallOutcome, ThreadItem};

    fn voicemail() -> Call {
        let ThreadItem::Call(c) = call(137, 15) else {
            unreachable!()
        };
        c
    }

    fn view(c: Call) -> CallView {
        let mut conversation = row(c.conversation_id, 15);
        conversation.title = "Noah King".into();
        CallView {
            call: c,
            conversation: Some(conversation),
            recording_unavailable: false,
        }
    }

    async fn render(c: Call, can_write: bool) -> String {
        test_render::<CallDetail>(CallDetailProps {
            view: view(c),
            clock: Clock::new(at(60), "Europe/London"),
            can_write,
            resolving: false,
            on_resolve: Callback::noop(),
            on_reassign: Callback::noop(),
        })
        .await
    }

    #[test]
    fn voi7_only_unresolved_calls_the_system_could_not_resolve_offer_mark_resolved() {
        let mut c = voicemail();
        assert!(can_mark_resolved(&c));
        for outcome in [
            CallOutcome::Missed,
            CallOutcome::Escalated,
            CallOutcome::Errored,
        ] {
            c.outcome = outcome;
            assert!(can_mark_resolved(&c), "{outcome}");
        }
        c.resolved = true;
        assert!(!can_mark_resolved(&c));
        assert_eq!(resolution(&c), "Resolved");
        c.resolved = false;
        c.outcome = CallOutcome::Answered;
        assert!(!can_mark_resolved(&c));
        assert_eq!(resolution(&c), "Nothing to resolve");
    }

    #[test]
    fn voi6_moved_line_names_the_new_conversation() {
        let mut v = view(voicemail());
        let moved = Moved {
            call: v.call.clone(),
            to_conversation_id: 327,
            title: "Noah K".into(),
        };
        assert_eq!(moved_line(&v, &moved), "Moved to Noah K", "not read yet");
        if let Some(c) = v.conversation.as_mut() {
            c.id = 327;
        }
        assert_eq!(moved_line(&v, &moved), "Moved to Noah King");
    }

    #[tokio::test]
    async fn voi8_call_detail_shows_metadata_recording_and_transcript() {
        let html = render(voicemail(), true).await;
        assert!(open_tag(&html, r#"id="call""#).contains(r#"data-call-id="137""#));
        assert!(html.contains("Incoming call"), "{html}");
        assert!(html.contains(r#"id="call-from">+447700900123<"#), "{html}");
        // 09:15 UTC is 10:15 in London in June.
        assert!(html.contains("Wednesday 11 June 2025, 10:15"), "{html}");
        assert!(html.contains(r#"id="call-duration">38s<"#), "{html}");
        assert!(html.contains(r#"id="call-outcome">Voicemail<"#), "{html}");
        let audio = open_tag(&html, "<audio");
        assert!(audio.contains("controls"), "{audio}");
        // Issue 17: through the engine, never from the provider.
        assert!(
            audio.contains(r#"data-src="media://localhost/recording/137""#),
            "{audio}"
        );
        assert!(html.contains("Length 38s"), "{html}");
        assert!(html.contains("about the MOT on Friday"), "{html}");
        let back = open_tag(&html, r#"id="back-to-conversation""#);
        assert!(
            back.contains(r##"href="#/messages?conversation=1""##),
            "{back}"
        );
        assert!(html.contains("Back to Noah King"), "{html}");
    }

    #[tokio::test]
    async fn voi8_withheld_calls_without_recording_or_transcript_say_so() {
        let mut c = voicemail();
        c.from_number = None;
        c.recording_url = None;
        c.recording_secs = None;
        c.transcript = None;
        let html = render(c, true).await;
        assert!(
            html.contains(r#"id="call-from">Withheld number<"#),
            "{html}"
        );
        assert!(!html.contains("<audio"), "{html}");
        assert!(html.contains(r#"id="no-recording""#), "{html}");
        assert!(html.contains(r#"id="no-transcript""#), "{html}");
    }

    #[tokio::test]
    async fn voi8_a_recording_from_an_unknown_origin_says_unavailable() {
        let mut v = view(voicemail());
        v.call.recording_url = None;
        v.recording_unavailable = true;
        let html = test_render::<CallDetail>(CallDetailProps {
            view: v,
            clock: Clock::new(at(60), "Europe/London"),
            can_write: true,
            resolving: false,
            on_resolve: Callback::noop(),
            on_reassign: Callback::noop(),
        })
        .await;
        assert!(!html.contains("<audio"), "{html}");
        assert!(
            html.contains(r#"id="recording-unavailable" class="muted">Recording unavailable<"#),
            "{html}"
        );
    }

    #[tokio::test]
    async fn voi7_mark_resolved_until_resolved_then_it_says_so() {
        let html = render(voicemail(), true).await;
        assert!(html.contains(r#"id="mark-resolved""#), "{html}");
        assert!(html.contains("Mark resolved"), "{html}");
        assert!(!html.contains(r#"id="resolved""#), "{html}");
        assert!(html.contains(r#"id="reassign""#), "{html}");

        let mut c = voicemail();
        c.resolved = true;
        let html = render(c, true).await;
        assert!(!html.contains("mark-resolved"), "{html}");
        assert!(html.contains(r#"id="resolved""#), "{html}");
        assert!(html.contains(r#"data-resolved="true""#), "{html}");

        let mut c = voicemail();
        c.outcome = CallOutcome::Answered;
        let html = render(c, true).await;
        assert!(!html.contains("mark-resolved") && !html.contains(r#"id="resolved""#));
    }

    #[tokio::test]
    async fn voi6_readers_without_write_access_get_no_actions() {
        let html = render(voicemail(), false).await;
        assert!(!html.contains("mark-resolved") && !html.contains(r#"id="reassign""#));
        assert!(html.contains("Not resolved"), "{html}");
    }
}
