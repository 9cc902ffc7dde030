//! The UI's components. Containers (`app`, `login`, `messages`) talk to the shell through `ipc`;
//! everything else renders from props alone, so it renders natively under Yew's SSR in tests.

pub mod app;
pub mod banners;
pub mod composer;
pub mod dashboard;
pub mod dialog;
pub mod filters;
pub mod header;
pub mod list;
pub mod login;
pub mod messages;
pub mod row;
pub mod sidebar;
pub mod thread;

use inbox_core::Channel;
use yew::prelude::*;

use crate::format::{channel_icon, channel_label};

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
