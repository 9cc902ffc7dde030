//! Settings › This computer (issue 17), for everyone: how much space the photos, documents and
//! voice notes kept for reading offline take here, and the most they may (500 MB unless
//! changed). A smaller cap deletes the least recently opened files at once.

use inbox_core::desktop::{cmd, OfflineFiles, OfflineFilesCap};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::admin::{read_once, Notice, Said};
use crate::components::app::unless_signed_out;
use crate::components::attachments::size_label;
use crate::components::page::failure;
use crate::ipc;

#[derive(Properties, PartialEq)]
pub struct ThisComputerProps {
    pub on_signed_out: Callback<Option<String>>,
    /// What the engine said (tests render it without the shell).
    #[prop_or_default]
    pub files: Option<OfflineFiles>,
}

/// "500 MB", "1 GB", "2.5 GB".
pub fn cap_label(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    match bytes / MB {
        mb if mb < 1024 => format!("{mb} MB"),
        mb if mb % 1024 == 0 => format!("{} GB", mb / 1024),
        mb => format!("{:.1} GB", mb as f64 / 1024.0),
    }
}

/// "12.4 MB of 500 MB used", "Nothing kept yet (up to 500 MB)".
pub fn usage(f: OfflineFiles) -> String {
    match f.used_bytes {
        0 => format!("Nothing kept yet (up to {})", cap_label(f.cap_bytes)),
        used => format!("{} of {} used", size_label(used), cap_label(f.cap_bytes)),
    }
}

#[function_component]
pub fn ThisComputer(props: &ThisComputerProps) -> Html {
    let files = use_state(|| props.files);
    let said = use_state(|| None::<Said>);
    let on_signed_out = props.on_signed_out.clone();
    {
        let (files, said, on_signed_out) = (files.clone(), said.clone(), on_signed_out.clone());
        use_effect_with((), move |_| {
            read_once(
                cmd::OFFLINE_FILES,
                "Could not read the offline files",
                said,
                on_signed_out,
                move |f: OfflineFiles| files.set(Some(f)),
            )
        });
    }
    let on_cap = {
        let (files, said) = (files.clone(), said.clone());
        Callback::from(move |e: Event| {
            let Some(cap_bytes) = e
                .target_dyn_into::<HtmlSelectElement>()
                .and_then(|s| s.value().parse().ok())
            else {
                return;
            };
            let (files, said, on_signed_out) = (files.clone(), said.clone(), on_signed_out.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let args = OfflineFilesCap { cap_bytes };
                match ipc::call::<_, OfflineFiles>(cmd::SET_OFFLINE_FILES, &args).await {
                    Ok(f) => {
                        files.set(Some(f));
                        said.set(Some(Said::Done(format!(
                            "Up to {} of files are kept on this computer.",
                            cap_label(f.cap_bytes)
                        ))));
                    }
                    Err(e) => {
                        if let Some(m) = unless_signed_out(e, &on_signed_out) {
                            said.set(Some(Said::Refused(failure("Not changed", &m))));
                        }
                    }
                }
            });
        })
    };
    html! {
        <section id="this-computer" class="settings-section" aria-labelledby="this-computer-title">
            <h3 id="this-computer-title">{ "This computer" }</h3>
            <Notice notice={(*said).clone()} />
            if let Some(f) = *files {
                <p id="offline-files-used">{ format!("Offline files: {}", usage(f)) }</p>
                <label class="field">
                    <span>{ "Keep up to" }</span>
                    <select id="offline-files-cap" onchange={on_cap}>
                        { for OfflineFilesCap::CHOICES.iter().map(|c| html! {
                            <option value={c.to_string()} selected={*c == f.cap_bytes}>{ cap_label(*c) }</option>
                        }) }
                    </select>
                </label>
                <p class="muted">{ "Photos, documents and voice notes you have opened, and recent threads' thumbnails, stay here so they show when the network is down. Past this size the ones opened longest ago are deleted; they come back from the server when opened again." }</p>
            } else {
                <p class="muted" role="status">{ "Loading…" }</p>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::test_render;

    const MB: u64 = 1024 * 1024;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(cap_label(100 * MB), "100 MB");
        assert_eq!(cap_label(1024 * MB), "1 GB");
        assert_eq!(cap_label(5120 * MB), "5 GB");
        assert_eq!(cap_label(2560 * MB), "2.5 GB");
        let f = |used_bytes| OfflineFiles {
            used_bytes,
            cap_bytes: 500 * MB,
        };
        assert_eq!(usage(f(0)), "Nothing kept yet (up to 500 MB)");
        assert_eq!(usage(f(13 * MB)), "13.0 MB of 500 MB used");
    }

    #[tokio::test]
    async fn the_cap_is_picked_from_the_sizes_offered() {
        let html = test_render::<ThisComputer>(ThisComputerProps {
            on_signed_out: Callback::noop(),
            files: Some(OfflineFiles {
                used_bytes: 12 * MB,
                cap_bytes: 1024 * MB,
            }),
        })
        .await;
        assert!(
            html.contains("Offline files: 12.0 MB of 1 GB used"),
            "{html}"
        );
        assert_eq!(html.matches("<option").count(), 6, "{html}");
        assert!(
            html.contains(&format!(r#"value="{}" selected"#, 1024 * MB)),
            "the current cap is selected: {html}"
        );
    }
}
