//! The window's web engine, tuned for what it hosts (issue 14, lean at run time): one local
//! single-page app that lives all day, never navigates and loads nothing from the network.
//!
//! WebKitGTK's defaults suit a browser: a memory cache of decoded resources and a back-forward
//! cache of whole pages, both sized from the machine's RAM, and GPU compositing through OpenGL.
//! None of that serves this window, so on Linux the context runs WebKit's "document viewer"
//! cache model (no memory or page cache), the page cache is off, and the page is drawn on the
//! CPU: lists of text need no GPU, and OpenGL cost both processes the GL driver (Mesa's llvmpipe
//! alone is 45–60 MiB resident in each under a display without a GPU) and its buffers, and is
//! behind WebKitGTK's best-known blank-window faults on some drivers. WebView2 and WKWebView size
//! their caches for the host app already.

use tauri::{Runtime, WebviewWindow};

/// Applies the settings to `window`'s web view; a failure is logged, never fatal.
pub fn tune<R: Runtime>(window: &WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    if let Err(e) = window.with_webview(|webview| {
        use webkit2gtk::{
            CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
        };
        let view = webview.inner();
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_enable_page_cache(false);
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    }) {
        tracing::warn!(error = %e, "could not tune the web view");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}
