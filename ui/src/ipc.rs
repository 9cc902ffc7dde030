//! The only door to the shell: typed commands over `window.__TAURI__.core.invoke` and events over
//! `window.__TAURI__.event.listen` (`app.withGlobalTauri`). Values cross as JSON text, so the
//! serde shapes are exactly those of `inbox_core::desktop` (the shell serialises with serde_json).
//! Natively (tests, SSR) there is no shell: commands fail and listeners never fire.

use inbox_core::desktop::{Args, CommandError};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Invokes `cmd` with `{ args }` and reads its answer; a rejection is the shell's `CommandError`.
pub async fn call<A: Serialize, R: DeserializeOwned>(
    cmd: &str,
    args: &A,
) -> Result<R, CommandError> {
    let payload = serde_json::to_string(&Args { args })
        .map_err(|e| CommandError::new(format!("Could not send {cmd}: {e}")))?;
    let first = mark_once(&format!("{cmd}:asked"));
    let answer = imp::invoke(cmd, &payload).await;
    if first {
        mark_once(&format!("{cmd}:answered"));
    }
    serde_json::from_str(&answer?)
        .map_err(|e| CommandError::new(format!("Unexpected answer to {cmd}: {e}")))
}

thread_local! {
    static MARKED: std::cell::RefCell<std::collections::HashSet<String>> =
        Default::default();
}

/// Marks `name` on the page's performance timeline the first time it happens (a command's
/// first call and answer, the first rows on screen), so the desktop benchmark can tell where a
/// cold start's time goes. Once each: the timeline keeps every mark for the page's life.
/// Returns whether this was the first time.
pub fn mark_once(name: &str) -> bool {
    let first = MARKED.with(|m| m.borrow_mut().insert(name.to_string()));
    if first {
        imp::mark(name);
    }
    first
}

/// Reads a rejection: the shell's `CommandError`, or whatever text it carried.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn command_error(text: &str) -> CommandError {
    serde_json::from_str::<CommandError>(text).unwrap_or_else(|_| {
        let plain = serde_json::from_str::<String>(text).unwrap_or_else(|_| text.to_string());
        CommandError::new(plain)
    })
}

/// A subscription to a shell event; dropping it unsubscribes.
pub struct Listener {
    #[allow(dead_code)] // Holds the JS callback alive; only read on wasm32.
    inner: Option<imp::Subscription>,
}

/// Calls `on_event` with each payload of `event` that parses as `T`.
pub fn listen<T: DeserializeOwned + 'static>(
    event: &str,
    on_event: impl Fn(T) + 'static,
) -> Listener {
    Listener {
        inner: imp::listen(
            event,
            Box::new(move |payload: String| {
                if let Ok(value) = serde_json::from_str::<T>(&payload) {
                    on_event(value);
                }
            }),
        ),
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use std::cell::RefCell;
    use std::rc::Rc;

    use inbox_core::desktop::CommandError;
    use js_sys::{Function, Promise, Reflect, JSON};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::command_error;

    fn global(path: &[&str]) -> Result<JsValue, CommandError> {
        let mut value: JsValue = js_sys::global().into();
        for key in path {
            value = Reflect::get(&value, &JsValue::from_str(key))
                .ok()
                .filter(|v| !v.is_undefined() && !v.is_null())
                .ok_or_else(|| CommandError::new("The desktop app's bridge is not available."))?;
        }
        Ok(value)
    }

    fn function(path: &[&str]) -> Result<Function, CommandError> {
        global(path)?
            .dyn_into::<Function>()
            .map_err(|_| CommandError::new("The desktop app's bridge is not available."))
    }

    fn to_json(value: &JsValue) -> String {
        if value.is_undefined() {
            return "null".into();
        }
        JSON::stringify(value)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| "null".into())
    }

    pub fn mark(name: &str) {
        if let (Ok(performance), Ok(mark)) =
            (global(&["performance"]), function(&["performance", "mark"]))
        {
            let _ = mark.call1(&performance, &JsValue::from_str(name));
        }
    }

    pub async fn invoke(cmd: &str, payload: &str) -> Result<String, CommandError> {
        let invoke = function(&["__TAURI__", "core", "invoke"])?;
        let args =
            JSON::parse(payload).map_err(|_| CommandError::new("Could not encode a request."))?;
        let promise = invoke
            .call2(&JsValue::NULL, &JsValue::from_str(cmd), &args)
            .map_err(|e| command_error(&to_json(&e)))?;
        match JsFuture::from(Promise::from(promise)).await {
            Ok(value) => Ok(to_json(&value)),
            Err(e) => Err(command_error(&to_json(&e))),
        }
    }

    type Callback = Closure<dyn FnMut(JsValue)>;

    pub struct Subscription {
        callback: Option<Callback>,
        unlisten: Option<Promise>,
    }

    impl Drop for Subscription {
        fn drop(&mut self) {
            // The unlisten function arrives asynchronously; keep the callback alive until it ran.
            let (Some(callback), Some(unlisten)) = (self.callback.take(), self.unlisten.take())
            else {
                return;
            };
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(f) = JsFuture::from(unlisten).await {
                    if let Ok(f) = f.dyn_into::<Function>() {
                        let _ = f.call0(&JsValue::NULL);
                    }
                }
                drop(callback);
            });
        }
    }

    pub fn listen(event: &str, on_payload: Box<dyn Fn(String)>) -> Option<Subscription> {
        let listen = function(&["__TAURI__", "event", "listen"]).ok()?;
        let on_payload = Rc::new(RefCell::new(on_payload));
        let callback: Callback = Closure::new(move |e: JsValue| {
            let payload = Reflect::get(&e, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
            (on_payload.borrow())(to_json(&payload));
        });
        let promise = listen
            .call2(&JsValue::NULL, &JsValue::from_str(event), callback.as_ref())
            .ok()?
            .dyn_into::<Promise>()
            .ok()?;
        Some(Subscription {
            callback: Some(callback),
            unlisten: Some(promise),
        })
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use inbox_core::desktop::CommandError;

    pub struct Subscription;

    pub fn mark(_name: &str) {}

    pub async fn invoke(_cmd: &str, _payload: &str) -> Result<String, CommandError> {
        Err(CommandError::new(
            "The desktop app's bridge is not available.",
        ))
    }

    pub fn listen(_event: &str, _on_payload: Box<dyn Fn(String)>) -> Option<Subscription> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_read_as_command_errors() {
        let e = command_error(r#"{"message":"Session expired","signed_out":true}"#);
        assert!(e.signed_out);
        assert_eq!(e.message, "Session expired");
        let plain = command_error(r#""Command sign_in not found""#);
        assert_eq!(plain.message, "Command sign_in not found");
        assert!(!plain.signed_out);
    }

    #[test]
    fn commands_without_arguments_send_null_args() {
        let v = serde_json::to_string(&Args { args: () }).unwrap();
        assert_eq!(v, r#"{"args":null}"#);
    }
}
