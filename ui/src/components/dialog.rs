//! A modal dialog: a titled panel over a dimmed page, closed by its Cancel, by Esc or by a click
//! on the backdrop. Dialogs hold their own form; this only frames it (SDB-3, VOI-6).

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DialogProps {
    /// The element id tests and labels use (`#{id}`, its title `#{id}-title`).
    pub id: AttrValue,
    pub title: AttrValue,
    pub on_close: Callback<()>,
    #[prop_or_default]
    pub children: Html,
}

#[function_component]
pub fn Dialog(props: &DialogProps) -> Html {
    let title_id = format!("{}-title", props.id);
    let on_backdrop = props.on_close.reform(|_: MouseEvent| ());
    let on_key = {
        let close = props.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.stop_propagation();
                close.emit(());
            }
        })
    };
    let stop = Callback::from(|e: MouseEvent| e.stop_propagation());
    html! {
        <div class="dialog-backdrop" onclick={on_backdrop}>
            <div id={props.id.clone()} class="dialog" role="dialog" aria-modal="true"
                aria-labelledby={title_id.clone()} onclick={stop} onkeydown={on_key}>
                <h2 id={title_id} class="dialog-title">{ props.title.clone() }</h2>
                { props.children.clone() }
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::test_render;

    #[tokio::test]
    async fn a_dialog_is_labelled_by_its_title() {
        let html = test_render::<Dialog>(DialogProps {
            id: "unlink-dialog".into(),
            title: "Unlink WO-1047?".into(),
            on_close: Callback::noop(),
            children: html! { <button>{ "Unlink" }</button> },
        })
        .await;
        assert!(html.contains(r#"id="unlink-dialog""#), "{html}");
        assert!(html.contains(r#"aria-labelledby="unlink-dialog-title""#));
        assert!(html.contains("Unlink WO-1047?"));
        assert!(html.contains("<button>Unlink</button>"));
    }
}
