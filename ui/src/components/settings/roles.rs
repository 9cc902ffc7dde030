//! Settings › Roles (SET-1): the system roles, read-only, and custom roles made as a copy of
//! one, renamed, given capabilities (grouped, in plain English) and deleted when nobody holds
//! them. Needs `settings.roles.manage`.

use inbox_core::desktop::{cmd, IdRef, RoleEdit};
use inbox_core::roles::{NewRole, Role, RoleUpdate};
use inbox_core::{Capability, CapabilitySet, Id};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::admin::{use_admin_list, AdminList, Notice};
use crate::ipc;

#[derive(Properties, PartialEq)]
pub struct RolesProps {
    pub on_signed_out: Callback<Option<String>>,
}

/// The capabilities, grouped as the page shows them.
pub fn groups() -> Vec<(&'static str, Vec<Capability>)> {
    let mut out: Vec<(&'static str, Vec<Capability>)> = Vec::new();
    for c in Capability::ALL {
        match out.iter_mut().find(|(g, _)| *g == c.group()) {
            Some((_, list)) => list.push(c),
            None => out.push((c.group(), vec![c])),
        }
    }
    out
}

#[function_component]
pub fn Roles(props: &RolesProps) -> Html {
    let list: AdminList<Role> = use_admin_list(
        cmd::ROLES,
        "Could not read the roles",
        props.on_signed_out.clone(),
    );
    let editing = use_state(|| None::<(Id, String, CapabilitySet)>);
    let new_name = use_state(String::new);
    let copy_of = use_state(|| None::<Id>);

    let roles: Vec<Role> = list.items();
    let on_create = {
        let (list, new_name, copy_of) = (list.clone(), new_name.clone(), copy_of.clone());
        let first = roles.first().map(|r| r.id);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(source) = (*copy_of).or(first) else {
                return;
            };
            let args = NewRole {
                name: (*new_name).clone(),
                copy_of: source,
            };
            let new_name = new_name.clone();
            list.run("Could not create the role", move || async move {
                let role = ipc::call::<_, Role>(cmd::CREATE_ROLE, &args).await?;
                new_name.set(String::new());
                Ok(format!("Role \"{}\" created.", role.name))
            });
        })
    };
    let on_save = {
        let (list, editing) = (list.clone(), editing.clone());
        Callback::from(move |_: MouseEvent| {
            let Some((id, name, caps)) = (*editing).clone() else {
                return;
            };
            let args = RoleEdit {
                id,
                update: RoleUpdate {
                    name: Some(name),
                    capabilities: Some(caps),
                },
            };
            let editing = editing.clone();
            list.run("Could not save the role", move || async move {
                let role = ipc::call::<_, Role>(cmd::UPDATE_ROLE, &args).await?;
                editing.set(None);
                Ok(format!("Role \"{}\" saved.", role.name))
            });
        })
    };
    let delete = {
        let list = list.clone();
        Callback::from(move |(id, name): (Id, String)| {
            list.run("Could not delete the role", move || async move {
                ipc::call::<_, ()>(cmd::DELETE_ROLE, &IdRef { id }).await?;
                Ok(format!("Role \"{name}\" deleted."))
            });
        })
    };

    html! {
        <section id="roles-section" class="settings-section" aria-labelledby="roles-title">
            <h3 id="roles-title">{ "Roles" }</h3>
            <p class="muted">{ "System roles cannot be changed. Make a custom role as a copy of one." }</p>
            <Notice notice={list.notice()} />
            { list.loading_or_error() }
            <ul class="role-list">
                { for roles.iter().map(|r| {
                    let is_editing = editing.as_ref().is_some_and(|(id, _, _)| *id == r.id);
                    if is_editing {
                        let Some((_, name, caps)) = (*editing).clone() else { return Html::default() };
                        let on_name = {
                            let editing = editing.clone();
                            let caps = caps.clone();
                            let id = r.id;
                            Callback::from(move |e: InputEvent| {
                                if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
                                    editing.set(Some((id, i.value(), caps.clone())));
                                }
                            })
                        };
                        let cancel = { let editing = editing.clone(); Callback::from(move |_: MouseEvent| editing.set(None)) };
                        html! {
                            <li key={r.id} class="role editing" data-role-id={r.id.to_string()}>
                                <label>{ "Name" }<input id="role-name" type="text" value={name.clone()} oninput={on_name} /></label>
                                { for groups().into_iter().map(|(group, caps_in)| html! {
                                    <fieldset class="capability-group">
                                        <legend>{ group }</legend>
                                        { for caps_in.into_iter().map(|c| {
                                            let checked = caps.has(c);
                                            let toggle = {
                                                let (editing, name, caps) = (editing.clone(), name.clone(), caps.clone());
                                                let id = r.id;
                                                Callback::from(move |_: Event| {
                                                    let mut v: Vec<Capability> = caps.iter().filter(|x| *x != c).collect();
                                                    if !checked { v.push(c); }
                                                    editing.set(Some((id, name.clone(), CapabilitySet::new(v))));
                                                })
                                            };
                                            html! {
                                                <label class="capability">
                                                    <input type="checkbox" data-capability={c.as_str()} {checked} onchange={toggle} />
                                                    <span>{ c.description() }</span>
                                                    <code class="muted">{ c.as_str() }</code>
                                                </label>
                                            }
                                        }) }
                                    </fieldset>
                                }) }
                                <div class="form-actions">
                                    <button type="button" class="button" onclick={cancel}>{ "Cancel" }</button>
                                    <button id="save-role" type="button" class="button primary" onclick={on_save.clone()}>{ "Save role" }</button>
                                </div>
                            </li>
                        }
                    } else {
                        role_row(r, &editing, &delete)
                    }
                }) }
            </ul>
            <form id="new-role" class="inline-form" onsubmit={on_create}>
                <label>{ "New role" }
                    <input id="new-role-name" type="text" placeholder="e.g. Apprentice" value={(*new_name).clone()}
                        oninput={let n = new_name.clone(); Callback::from(move |e: InputEvent| {
                            if let Some(i) = e.target_dyn_into::<HtmlInputElement>() { n.set(i.value()); }
                        })} />
                </label>
                <label>{ "Copy of" }
                    <select id="new-role-copy" onchange={let c = copy_of.clone(); Callback::from(move |e: Event| {
                        if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() { c.set(s.value().parse().ok()); }
                    })}>
                        { for roles.iter().map(|r| html! {
                            <option value={r.id.to_string()} selected={*copy_of == Some(r.id)}>{ &r.name }</option>
                        }) }
                    </select>
                </label>
                <button id="create-role" type="submit" class="button">{ "Create" }</button>
            </form>
        </section>
    }
}

fn role_row(
    r: &Role,
    editing: &UseStateHandle<Option<(Id, String, CapabilitySet)>>,
    delete: &Callback<(Id, String)>,
) -> Html {
    let edit = {
        let editing = editing.clone();
        let (id, name, caps) = (r.id, r.name.clone(), r.capabilities.clone());
        Callback::from(move |_: MouseEvent| editing.set(Some((id, name.clone(), caps.clone()))))
    };
    let remove = {
        let (id, name) = (r.id, r.name.clone());
        delete.reform(move |_: MouseEvent| (id, name.clone()))
    };
    html! {
        <li key={r.id} class="role" data-role-id={r.id.to_string()} data-role={r.name.clone()}>
            <div class="role-head">
                <strong class="role-name">{ &r.name }</strong>
                if r.system { <span class="badge">{ "System" }</span> }
                <span class="muted">{ if r.users == 1 { "1 person".to_string() } else { format!("{} people", r.users) } }</span>
                if !r.system {
                    <button type="button" class="link-button edit-role" onclick={edit}>{ "Edit" }</button>
                    <button type="button" class="link-button delete-role" onclick={remove} disabled={r.users > 0}
                        title={if r.users > 0 { "Give its holders another role first" } else { "Delete this role" }}>{ "Delete" }</button>
                }
            </div>
            <ul class="capability-chips">
                { for r.capabilities.iter().map(|c| html! { <li title={c.as_str()}>{ c.description() }</li> }) }
                if r.capabilities.iter().next().is_none() {
                    <li class="muted">{ "No access to messages or settings" }</li>
                }
            </ul>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set1_capabilities_are_grouped_and_described() {
        let g = groups();
        assert_eq!(
            g.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
            ["Messages", "Settings"]
        );
        assert_eq!(
            g.iter().map(|(_, caps)| caps.len()).sum::<usize>(),
            Capability::ALL.len()
        );
        assert!(g
            .iter()
            .flat_map(|(_, c)| c)
            .all(|c| !c.description().is_empty()));
    }
}
