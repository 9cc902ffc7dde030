//! Settings › Users and the audit log (ACC-2), for `settings.users.manage`: add a member of
//! staff (their one-time password shown once), change a role, disable or re-enable (their
//! sessions end at once), reset a password; every change in the audit log below.

use inbox_core::desktop::{cmd, IdRef, UserEdit};
use inbox_core::roles::{AuditEntry, NewStaff, OneTimePassword, Role, StaffAccount, StaffUpdate};
use inbox_core::Id;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::admin::{input, use_admin_list, Notice};
use crate::format::Clock;
use crate::ipc;

#[derive(Properties, PartialEq)]
pub struct UsersProps {
    pub on_signed_out: Callback<Option<String>>,
    pub clock: Clock,
}

/// "Give Sam this one-time password: …" after an add or a reset.
fn handed_over(p: &OneTimePassword) -> String {
    format!(
        "Give {} this one-time password: {} (it will not be shown again).",
        p.user.name, p.password
    )
}

#[function_component]
pub fn Users(props: &UsersProps) -> Html {
    let users = use_admin_list::<StaffAccount>(
        cmd::USERS,
        "Could not read the staff",
        props.on_signed_out.clone(),
    );
    let roles = use_admin_list::<Role>(
        cmd::ROLES,
        "Could not read the roles",
        props.on_signed_out.clone(),
    );
    let audit = use_admin_list::<AuditEntry>(
        cmd::AUDIT,
        "Could not read the audit log",
        props.on_signed_out.clone(),
    );
    let email = use_state(String::new);
    let name = use_state(String::new);
    let role = use_state(|| None::<Id>);
    let role_list = roles.items();

    let on_add = {
        let (users, audit, email, name, role) = (
            users.clone(),
            audit.clone(),
            email.clone(),
            name.clone(),
            role.clone(),
        );
        let first = role_list
            .iter()
            .find(|r| r.system && r.name == inbox_core::roles::SERVICE_ADVISOR)
            .or(role_list.first())
            .map(|r| r.id);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(role_id) = (*role).or(first) else {
                return;
            };
            let args = NewStaff {
                email: (*email).clone(),
                name: (*name).clone(),
                role_id,
            };
            let (email, name, audit) = (email.clone(), name.clone(), audit.clone());
            users.run("Could not add the user", move || async move {
                let made = ipc::call::<_, OneTimePassword>(cmd::CREATE_USER, &args).await?;
                email.set(String::new());
                name.set(String::new());
                audit.run("Could not read the audit log", || async {
                    Ok(String::new())
                });
                Ok(handed_over(&made))
            });
        })
    };
    let update = {
        let (users, audit) = (users.clone(), audit.clone());
        Callback::from(move |(id, update, what): (Id, StaffUpdate, &'static str)| {
            let audit = audit.clone();
            users.run(what, move || async move {
                let u = ipc::call::<_, StaffAccount>(cmd::UPDATE_USER, &UserEdit { id, update })
                    .await?;
                audit.run("Could not read the audit log", || async {
                    Ok(String::new())
                });
                Ok(format!(
                    "{} is now {}, {}.",
                    u.name,
                    u.role,
                    if u.active { "active" } else { "disabled" }
                ))
            });
        })
    };
    let reset = {
        let (users, audit) = (users.clone(), audit.clone());
        Callback::from(move |id: Id| {
            let audit = audit.clone();
            users.run("Could not reset the password", move || async move {
                let p = ipc::call::<_, OneTimePassword>(cmd::RESET_PASSWORD, &IdRef { id }).await?;
                audit.run("Could not read the audit log", || async {
                    Ok(String::new())
                });
                Ok(handed_over(&p))
            });
        })
    };

    html! {
        <>
            <section id="users-section" class="settings-section" aria-labelledby="users-title">
                <h3 id="users-title">{ "Users" }</h3>
                <Notice notice={users.notice()} />
                { users.loading_or_error() }
                <table class="figures user-table">
                    <thead><tr><th>{ "Name" }</th><th>{ "Email" }</th><th>{ "Role" }</th><th>{ "Status" }</th><th></th></tr></thead>
                    <tbody>
                        { for users.items().iter().map(|u| {
                            let id = u.id;
                            let on_role = update.reform(move |e: Event| {
                                let role_id = e.target_dyn_into::<HtmlSelectElement>().and_then(|s| s.value().parse().ok());
                                (id, StaffUpdate { role_id, active: None }, "Could not change the role")
                            });
                            let active = u.active;
                            let on_toggle = update.reform(move |_: MouseEvent| {
                                (id, StaffUpdate { role_id: None, active: Some(!active) },
                                 if active { "Could not disable the user" } else { "Could not enable the user" })
                            });
                            let on_reset = reset.reform(move |_: MouseEvent| id);
                            html! {
                                <tr key={u.id} data-user-id={u.id.to_string()} data-email={u.email.clone()}
                                    class={classes!((!u.active).then_some("disabled"))}>
                                    <td>{ &u.name }</td>
                                    <td class="muted">{ &u.email }</td>
                                    <td>
                                        <select class="user-role" aria-label={format!("Role of {}", u.name)} onchange={on_role}>
                                            { for role_list.iter().map(|r| html! {
                                                <option value={r.id.to_string()} selected={r.id == u.role_id}>{ &r.name }</option>
                                            }) }
                                        </select>
                                    </td>
                                    <td>{ if u.active { "Active" } else { "Disabled" } }</td>
                                    <td class="row-actions">
                                        <button type="button" class="link-button toggle-user" onclick={on_toggle}>
                                            { if u.active { "Disable" } else { "Enable" } }
                                        </button>
                                        <button type="button" class="link-button reset-password" onclick={on_reset}>{ "Reset password" }</button>
                                    </td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
                <form id="new-user" class="inline-form" onsubmit={on_add}>
                    <label>{ "Email" }<input id="new-user-email" type="email" value={(*email).clone()} oninput={input(&email)} /></label>
                    <label>{ "Name" }<input id="new-user-name" type="text" value={(*name).clone()} oninput={input(&name)} /></label>
                    <label>{ "Role" }
                        <select id="new-user-role" onchange={let r = role.clone(); Callback::from(move |e: Event| {
                            if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() { r.set(s.value().parse().ok()); }
                        })}>
                            { for role_list.iter().map(|r| html! {
                                <option value={r.id.to_string()}
                                    selected={(*role).map_or(r.system && r.name == inbox_core::roles::SERVICE_ADVISOR, |x| x == r.id)}>{ &r.name }</option>
                            }) }
                        </select>
                    </label>
                    <button id="add-user" type="submit" class="button">{ "Add user" }</button>
                </form>
            </section>
            <section id="audit-section" class="settings-section" aria-labelledby="audit-title">
                <h3 id="audit-title">{ "Audit log" }</h3>
                { audit.loading_or_error() }
                <AuditList entries={audit.items()} clock={props.clock} />
            </section>
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct AuditListProps {
    pub entries: Vec<AuditEntry>,
    pub clock: Clock,
}

/// The newest changes first: when, who, what.
#[function_component]
pub fn AuditList(props: &AuditListProps) -> Html {
    html! {
        <ol id="audit-list" class="audit-list">
            { for props.entries.iter().map(|a| html! {
                <li key={a.id} data-action={a.action.clone()}>
                    <span class="muted">{ props.clock.row_time(a.at) }</span>
                    <strong>{ a.by.clone().unwrap_or_else(|| "System".into()) }</strong>
                    <span>{ a.action.replace(['.', '_'], " ") }</span>
                    <code class="muted">{ format!("{} {}", a.subject_type, a.subject_id) }</code>
                    <span class="muted detail">{ a.detail.to_string() }</span>
                </li>
            }) }
        </ol>
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::components::test_render;

    #[tokio::test]
    async fn acc2_the_audit_log_says_who_did_what_newest_first() {
        let at = Utc.with_ymd_and_hms(2026, 6, 17, 9, 30, 0).unwrap();
        let html = test_render::<AuditList>(AuditListProps {
            entries: vec![
                AuditEntry {
                    id: 2,
                    at,
                    by: Some("Olive Owner".into()),
                    action: "user.disabled".into(),
                    subject_type: "user".into(),
                    subject_id: 7,
                    detail: serde_json::json!({ "sessions_ended": 1 }),
                },
                AuditEntry {
                    id: 1,
                    at,
                    by: None,
                    action: "settings.ai".into(),
                    subject_type: "organisation".into(),
                    subject_id: 1,
                    detail: serde_json::json!({ "enabled": true }),
                },
            ],
            clock: Clock::new(at, "Europe/London"),
        })
        .await;
        let disabled = html.find("user disabled").unwrap();
        let switched = html.find("settings ai").unwrap();
        assert!(disabled < switched, "{html}");
        assert!(html.contains("Olive Owner") && html.contains("System"));
        assert!(html.contains("sessions_ended"));
    }

    #[test]
    fn acc2_a_one_time_password_is_handed_over_once_in_plain_words() {
        let p = OneTimePassword {
            user: StaffAccount {
                id: 7,
                email: "sam@garage.test".into(),
                name: "Sam".into(),
                role_id: 3,
                role: "Service Advisor".into(),
                active: true,
                created_at: Utc::now(),
            },
            password: "k7Qm2pXz9WbT4r".into(),
        };
        assert_eq!(
            handed_over(&p),
            "Give Sam this one-time password: k7Qm2pXz9WbT4r (it will not be shown again)."
        );
    }
}
