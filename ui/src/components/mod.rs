//! The UI's components. Containers (`app`, `login`, `messages`, and the pages `approvals`,
//! `call`, `settings` with their sections and dialogs) talk to the shell through `ipc`;
//! everything else renders from props alone, so it renders natively under Yew's SSR in tests.

pub mod analytics;
pub mod app;
pub mod approvals;
pub mod attach;
pub mod attachments;
pub mod attention;
pub mod banners;
pub mod call;
pub mod composer;
pub mod conversation;
pub mod dashboard;
pub mod dialog;
pub mod filters;
pub mod header;
pub mod list;
pub mod login;
pub mod messages;
pub mod page;
pub mod player;
pub mod row;
pub mod scope;
pub mod settings;
pub mod sidebar;
pub mod thread;
pub mod update;
pub mod work_order;

use inbox_core::Channel;
use yew::prelude::*;
use yew_router::prelude::use_navigator;
use yew_router::query::Raw;

use crate::format::{channel_icon, channel_label};
use crate::route::{self, Route};

#[derive(Properties, PartialEq)]
pub struct ChannelIconProps {
    pub channel: Channel,
}

/// The channel's icon (LST-10: portal grey bubble, WhatsApp green, SMS blue phone, voice purple).
#[function_component]
pub fn ChannelIcon(props: &ChannelIconProps) -> Html {
    html! {
        <img class="channel-icon" data-channel={props.channel.as_str()}
            src={channel_icon(props.channel)} alt={channel_label(props.channel)}
            width="18" height="18" />
    }
}

#[derive(Properties, PartialEq)]
pub struct NavLinkProps {
    pub to: Route,
    /// The query, without `?` (e.g. `conversation=5`).
    #[prop_or_default]
    pub query: Option<AttrValue>,
    #[prop_or_default]
    pub id: Option<AttrValue>,
    #[prop_or_default]
    pub class: Classes,
    #[prop_or_default]
    pub title: Option<AttrValue>,
    /// The page shown now (`aria-current="page"`).
    #[prop_or_default]
    pub current: bool,
    #[prop_or_default]
    pub children: Html,
}

/// A link to another page of the app: a real `<a href="#/…">` (open it elsewhere, read it in a
/// test) that moves through the router when clicked. Unlike yew-router's `Link`, it renders
/// without a router too (SSR tests).
#[function_component]
pub fn NavLink(props: &NavLinkProps) -> Html {
    let navigator = use_navigator();
    let href = route::href(&props.to, props.query.as_deref());
    let onclick = navigator.map(|n| {
        let (to, query) = (props.to.clone(), props.query.clone());
        Callback::from(move |e: MouseEvent| {
            if e.ctrl_key() || e.meta_key() || e.shift_key() || e.button() != 0 {
                return;
            }
            e.prevent_default();
            let _ = match &query {
                Some(q) => n.push_with_query(&to, Raw(q.as_str())),
                None => {
                    n.push(&to);
                    Ok(())
                }
            };
        })
    });
    html! {
        <a id={props.id.clone()} class={props.class.clone()} {href} {onclick}
            title={props.title.clone()} aria-current={props.current.then_some("page")}>
            { props.children.clone() }
        </a>
    }
}

/// Renders a component to HTML the way the tests read it (no hydration markers).
#[cfg(test)]
pub async fn test_render<C>(props: C::Properties) -> String
where
    C: BaseComponent,
{
    yew::LocalServerRenderer::<C>::with_props(props)
        .hydratable(false)
        .render()
        .await
}

/// The opening tag in `html` that carries `attr` (e.g. `data-message-id="7"`), attributes in
/// whatever order the renderer wrote them.
#[cfg(test)]
pub fn open_tag<'a>(html: &'a str, attr: &str) -> &'a str {
    let at = html
        .find(attr)
        .unwrap_or_else(|| panic!("no tag with {attr} in {html}"));
    let start = html[..at].rfind('<').unwrap_or(0);
    let end = at + html[at..].find('>').unwrap_or(html.len() - at);
    &html[start..=end.min(html.len() - 1)]
}
