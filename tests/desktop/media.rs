//! Photos in the real window (issue 17): a customer's WhatsApp photo arrives and shows inline as
//! a thumbnail the engine fetched; the viewer opens it at full size; with the server killed, the
//! photo of a thread seen before still shows from this computer.

use crate::support::{eventually, signed_in, App, Stack, WAIT};

const DESK: &str = "frontdesk@demo.test";

/// Whether the image at `css` has loaded pixels (not a broken image).
async fn loaded(app: &App, css: &str) -> bool {
    app.js(
        "const i = document.querySelector(arguments[0]); return !!i && i.complete && i.naturalWidth > 0;",
        vec![serde_json::json!(css)],
    )
    .await
    .as_bool()
    .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whatsapp_photo_shows_inline_opens_in_the_viewer_and_stays_readable_offline() {
    let mut stack = Stack::start().await;
    let token = stack.token(DESK).await;
    let app = signed_in(&stack, "media-photo", DESK).await;
    stack
        .inbound_whatsapp_photo("447700900777", "The dashboard light this morning")
        .await;
    let conversation = eventually("the photo's conversation", WAIT, || async {
        stack
            .conversations(&token)
            .await
            .into_iter()
            .find(|c| c["preview"] == "The dashboard light this morning")
            .and_then(|c| c["id"].as_i64())
    })
    .await;
    app.go(&format!(
        "/messages?range=all_time&conversation={conversation}"
    ))
    .await;
    let thumb = ".bubble .attachment.photo img";
    app.wait(thumb).await;
    eventually("the thumbnail drawn", WAIT, || async {
        loaded(&app, thumb).await.then_some(())
    })
    .await;
    app.screenshots("photo-inline").await;

    app.click(".bubble .attachment.photo").await;
    app.wait("#photo-viewer .viewer-stage img").await;
    eventually("the full photo drawn", WAIT, || async {
        loaded(&app, "#photo-viewer .viewer-stage img")
            .await
            .then_some(())
    })
    .await;
    // Software rendering paints a freshly decoded photo a moment after it has loaded.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    app.screenshot("photo-viewer").await;
    app.click("#viewer-close").await;
    app.wait_gone("#photo-viewer").await;

    // The server goes; the thread seen before still shows its photo, from this computer.
    stack.kill_server();
    app.wait("#offline-indicator").await;
    app.go("/messages?range=all_time").await;
    app.go(&format!(
        "/messages?range=all_time&conversation={conversation}"
    ))
    .await;
    app.wait(thumb).await;
    eventually("the cached thumbnail drawn offline", WAIT, || async {
        loaded(&app, thumb).await.then_some(())
    })
    .await;
    assert_eq!(app.count(".attachment.photo.unavailable").await, 0);
    app.screenshot("photo-offline").await;
    app.quit().await;
}
