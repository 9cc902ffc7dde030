//! The window's web engine, tuned for what it hosts (issue 14, lean at run time): one local
//! single-page app that lives all day, never navigates and loads nothing from the network.
//!
//! WebKitGTK's defaults suit a browser: a memory cache of decoded resources and a back-forward
//! cache of whole pages, both sized from the machine's RAM, and GPU compositing through OpenGL.
//! None of that serves this window, so on Linux ([`prepare`], before GTK starts, so that the
//! web process starts that way; a value the user set in the environment wins):
//! - WebKit does not composite the page (`WEBKIT_DISABLE_COMPOSITING_MODE=1`): the web process
//!   paints it on the CPU into shared memory and the app draws that. A list, a thread and a
//!   composer gain nothing from compositing, and its layers, tiles and their textures in
//!   OpenGL were most of the web process's private memory, growing with the traffic. In the
//!   desktop benchmark (100,000 conversations cached, customers texting for minutes) the app
//!   and its web process hold 69–87 MiB less (proportional set size) and a new message reaches
//!   its row about 15% sooner (docs/ARCHITECTURE.md, "Lean at run time"). Without compositing
//!   WebKit's DMA-BUF renderer is not used either, the one that leaves Tauri windows blank on
//!   some NVIDIA, AMD and KWin setups. It costs nothing at start because the window is shown
//!   only once its page has loaded (`window::show_when_loaded`). `=0` gives compositing back;
//! - if compositing is given back, WebKit paints its tiles on the CPU
//!   (`WEBKIT_SKIA_ENABLE_CPU_RENDERING=1`), the lighter of the two compositing modes (503 →
//!   432 MiB in the same benchmark);
//! - the context runs WebKit's "document viewer" cache model (no memory or page cache) and the
//!   page cache is off ([`tune`]).
//!
//! WebKitGTK's WebDriver waits for the page's next frame before it answers a screenshot, and a
//! page painted without compositing that has nothing left to repaint draws none: the
//! end-to-end harness keeps a frame coming while it takes one (`tests/desktop/support/app.rs`).
//! The window itself shows every change.
//!
//! WebView2 and WKWebView size their caches for the host app already.

use tauri::{Runtime, WebviewWindow};

/// Before anything starts GTK or WebKit, while the process has one thread. A setting the user
/// already made in the environment wins.
pub fn prepare() {
    #[cfg(target_os = "linux")]
    for (name, value) in [
        ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
        ("WEBKIT_SKIA_ENABLE_CPU_RENDERING", "1"),
    ] {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
}

/// Applies the settings to `window`'s web view; a failure is logged, never fatal.
pub fn tune<R: Runtime>(window: &WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    if let Err(e) = window.with_webview(|webview| {
        use webkit2gtk::{CacheModel, SettingsExt, WebContextExt, WebViewExt};
        let view = webview.inner();
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_enable_page_cache(false);
        }
    }) {
        tracing::warn!(error = %e, "could not tune the web view");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}
