//! The window's web engine, tuned for what it hosts (issue 14, lean at run time): one local
//! single-page app that lives all day, never navigates and loads nothing from the network.
//!
//! WebKitGTK's defaults suit a browser: a memory cache of decoded resources and a back-forward
//! cache of whole pages, both sized from the machine's RAM, and GPU compositing through OpenGL.
//! None of that serves this window, so on Linux the context runs WebKit's "document viewer"
//! cache model (no memory or page cache) and the page cache is off. Drawing on the CPU
//! (`HardwareAccelerationPolicy::Never`) saved more in the benchmark, but a desktop end-to-end
//! test hung with it (issue 14's note), so compositing stays as WebKit chooses. WebView2 and
//! WKWebView size their caches for the host app already.

use tauri::{Runtime, WebviewWindow};

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
