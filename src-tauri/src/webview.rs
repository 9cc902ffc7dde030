//! The window's web engine, tuned for what it hosts (issue 14, lean at run time): one local
//! single-page app that lives all day, never navigates and loads nothing from the network.
//!
//! WebKitGTK's defaults suit a browser: a memory cache of decoded resources and a back-forward
//! cache of whole pages, both sized from the machine's RAM, and GPU compositing through OpenGL.
//! None of that serves this window, so on Linux:
//! - WebKit paints the page's tiles on the CPU ([`prepare`]) and only composites them through
//!   OpenGL. A list, a thread and a composer gain nothing from GPU painting, and its tiles and
//!   textures were the largest part of the web process's private memory: in the desktop
//!   benchmark (100,000 conversations cached, customers texting for 4 minutes), the app and its
//!   web process went from 503 to 432 MiB proportional set size (docs/ARCHITECTURE.md, "Lean at
//!   run time"). Set in the environment before GTK starts, so the web process starts that way.
//!   `WEBKIT_SKIA_ENABLE_CPU_RENDERING=0` gives GPU painting back.
//!
//!   Turning compositing off altogether saved more (down to 346 MiB), but WebKitGTK 2.50 then stops
//!   answering a WebDriver screenshot taken after the page changed (a desktop test hangs there
//!   every time) and, through the hardware acceleration policy, a window resize: not shipped
//!   until that is understood;
//! - the context runs WebKit's "document viewer" cache model (no memory or page cache) and the
//!   page cache is off ([`tune`]).
//!
//! WebView2 and WKWebView size their caches for the host app already.

use tauri::{Runtime, WebviewWindow};

/// Before anything starts GTK or WebKit, while the process has one thread.
pub fn prepare() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_SKIA_ENABLE_CPU_RENDERING").is_none() {
        std::env::set_var("WEBKIT_SKIA_ENABLE_CPU_RENDERING", "1");
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
