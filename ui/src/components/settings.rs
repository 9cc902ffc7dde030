//! `/settings` (SET-1): for everyone, This computer (`this_computer`: the offline files); for
//! managers, the organisation's quick messages (`quick_messages`) and WhatsApp templates
//! (`templates`), each listed with New, Edit and Delete; the AI switch, roles and users for
//! those who administer them. What the lists share lives here: keeping a list in the server's
//! order after a save, and the delete dialog.

pub mod admin;
pub mod ai;
pub mod model;
pub mod quick_messages;
pub mod roles;
pub mod template_form;
pub mod templates;
pub mod this_computer;
pub mod users;

use std::rc::Rc;

use inbox_core::desktop::{ConnectionState, Session};
use inbox_core::{Capability, Id, QuickMessage, WhatsappTemplate};
use yew::prelude::*;

use crate::components::dialog::Dialog;
use crate::components::header::Section;
use crate::components::page::PageFrame;
use quick_messages::QuickMessages;
use templates::Templates;

/// A row of a settings list.
pub trait Entry: Clone + PartialEq {
    fn id(&self) -> Id;
    /// The server's order (quick messages by name ignoring case; templates by name, then
    /// language).
    fn order(&self) -> (String, String);
}

impl Entry for QuickMessage {
    fn id(&self) -> Id {
        self.id
    }
    fn order(&self) -> (String, String) {
        (self.name.to_lowercase(), String::new())
    }
}

impl Entry for WhatsappTemplate {
    fn id(&self) -> Id {
        self.id
    }
    fn order(&self) -> (String, String) {
        (self.name.to_lowercase(), self.language.clone())
    }
}

/// A saved entry takes its place (or joins) in the list, which stays in the server's order.
pub fn upsert<T: Entry>(list: &mut Vec<T>, saved: T) {
    match list.iter_mut().find(|e| e.id() == saved.id()) {
        Some(slot) => *slot = saved,
        None => list.push(saved),
    }
    list.sort_by_key(|e| (e.order(), e.id()));
}

#[derive(Properties, PartialEq)]
pub struct SettingsPageProps {
    pub session: Rc<Session>,
    pub connection: ConnectionState,
    pub on_signed_out: Callback<Option<String>>,
}

/// The Settings sections a session may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sections {
    pub templates: bool,
    pub ai: bool,
    pub roles: bool,
    pub users: bool,
}

impl Sections {
    pub fn of(session: &Session) -> Sections {
        let caps = &session.user.capabilities;
        Sections {
            templates: caps.has(Capability::SettingsTemplatesManage),
            ai: caps.has(Capability::SettingsAiManage),
            roles: caps.has(Capability::SettingsRolesManage),
            users: caps.has(Capability::SettingsUsersManage),
        }
    }
}

#[function_component]
pub fn SettingsPage(props: &SettingsPageProps) -> Html {
    let sections = Sections::of(&props.session);
    let clock =
        crate::format::Clock::new(chrono::Utc::now(), &props.session.organisation.time_zone);
    html! {
        <PageFrame session={props.session.clone()} connection={props.connection.clone()}
            on_signed_out={props.on_signed_out.clone()} section={Section::Settings} class="settings-page">
            <div class="page-heading">
                <h2>{ "Settings" }</h2>
                <p class="muted">{ if sections.templates || sections.ai || sections.roles || sections.users {
                    "This computer, what staff can pick from when they reply, and who can do what."
                } else {
                    "What this computer keeps for reading offline."
                } }</p>
            </div>
            <div class="settings-grid">
                <this_computer::ThisComputer on_signed_out={props.on_signed_out.clone()} />
                if sections.templates {
                    <QuickMessages on_signed_out={props.on_signed_out.clone()} />
                    <Templates on_signed_out={props.on_signed_out.clone()} />
                }
                if sections.ai {
                    <ai::AiAndHours enabled={props.session.organisation.ai_enabled}
                        on_signed_out={props.on_signed_out.clone()} />
                }
                if sections.roles {
                    <roles::Roles on_signed_out={props.on_signed_out.clone()} />
                }
                if sections.users {
                    <users::Users on_signed_out={props.on_signed_out.clone()} {clock} />
                }
            </div>
        </PageFrame>
    }
}

#[derive(Properties, PartialEq)]
pub struct DeleteDialogProps {
    /// The dialog's title, e.g. `Delete the quick message "brakes"?`.
    pub title: AttrValue,
    #[prop_or_default]
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<String>,
    pub on_confirm: Callback<()>,
    pub on_close: Callback<()>,
}

/// Delete, once confirmed; a refusal shows in the dialog.
#[function_component]
pub fn DeleteDialog(props: &DeleteDialogProps) -> Html {
    let confirm = props.on_confirm.reform(|_: MouseEvent| ());
    let cancel = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <Dialog id="delete-dialog" title={props.title.clone()} on_close={props.on_close.clone()}>
            <p class="muted">{ "Staff will no longer be able to pick it. This cannot be undone." }</p>
            if let Some(e) = &props.error {
                <p class="form-error" role="alert">{ e }</p>
            }
            <div class="dialog-actions">
                <button type="button" class="button" onclick={cancel}>{ "Cancel" }</button>
                <button id="confirm-delete" type="button" class="button danger" onclick={confirm}
                    disabled={props.busy}>
                    { if props.busy { "Deleting…" } else { "Delete" } }
                </button>
            </div>
        </Dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::{open_tag, test_render};

    fn qm(id: Id, name: &str) -> QuickMessage {
        QuickMessage {
            id,
            name: name.into(),
            body: format!("{name} text"),
        }
    }

    fn names(list: &[QuickMessage]) -> Vec<&str> {
        list.iter().map(|q| q.name.as_str()).collect()
    }

    #[test]
    fn set1_saved_entries_keep_the_servers_order() {
        let mut list = vec![qm(1, "brakes"), qm(2, "Call-back")];
        upsert(&mut list, qm(3, "Awaiting parts"));
        assert_eq!(names(&list), ["Awaiting parts", "brakes", "Call-back"]);
        upsert(&mut list, qm(1, "tyres"));
        assert_eq!(names(&list), ["Awaiting parts", "Call-back", "tyres"]);
        assert_eq!(list.len(), 3, "an edit replaces, never duplicates");

        let t = |id, name: &str, language: &str| WhatsappTemplate {
            id,
            name: name.into(),
            language: language.into(),
            body: String::new(),
            param_count: 0,
            header: None,
        };
        let mut templates = vec![t(1, "vehicle_ready", "en_GB")];
        upsert(&mut templates, t(2, "vehicle_ready", "cy_GB"));
        upsert(&mut templates, t(3, "mot_reminder", "en_GB"));
        let ids: Vec<Id> = templates.iter().map(|t| t.id).collect();
        assert_eq!(ids, [3, 2, 1], "by name, then language");
    }

    #[tokio::test]
    async fn set1_delete_asks_first_and_shows_a_refusal() {
        let html = test_render::<DeleteDialog>(DeleteDialogProps {
            title: "Delete the quick message \"brakes\"?".into(),
            busy: false,
            error: Some("Could not delete: not found.".into()),
            on_confirm: Callback::noop(),
            on_close: Callback::noop(),
        })
        .await;
        assert!(html.contains(r#"id="delete-dialog""#), "{html}");
        assert!(html.contains("brakes"), "{html}");
        let confirm = open_tag(&html, r#"id="confirm-delete""#);
        assert!(!confirm.contains("disabled"), "{confirm}");
        assert!(html.contains(r#"class="form-error""#), "{html}");
    }
}
