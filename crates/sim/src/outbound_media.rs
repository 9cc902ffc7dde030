//! Files in the garage's replies (issue 17), as the providers take them: Twilio fetches each
//! `MediaUrl` of an MMS from the server (a signed link), and the WhatsApp Cloud API takes an
//! upload at `POST /{version}/{phone_number_id}/media` and sends it by its media id, as a file
//! message or as a template's image or document header (CMP-2). The
//! simulator really fetches and receives the bytes, so a reply's photo is known to have left
//! the server whole; `GET /sim/sent` lists each as `[media image/png 1234 bytes]`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::Rng;
use serde_json::json;

use crate::state::Sim;

/// Fetches each MMS media URL as Twilio would (the server's public URL is reached at its real
/// address); each as `type size bytes`, or why one could not be had.
pub async fn fetch_all(sim: &Sim, urls: &[String]) -> Result<Vec<String>, String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let mut got = Vec::with_capacity(urls.len());
    for url in urls {
        let real = match url.strip_prefix(&sim.config.public_url) {
            Some(path) => format!("{}{path}", sim.config.server),
            None => url.clone(),
        };
        let res = http
            .get(&real)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if !res.status().is_success() {
            return Err(format!("{url}: HTTP {}", res.status()));
        }
        let kind = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = res.bytes().await.map_err(|e| format!("{url}: {e}"))?;
        got.push(format!("{kind} {} bytes", bytes.len()));
    }
    Ok(got)
}

/// `POST /{version}/{phone_number_id}/media`: a multipart upload with `messaging_product`,
/// `type` and `file`; answers `{ "id" }`.
pub async fn upload(
    State(sim): State<Arc<Sim>>,
    Path((_version, _phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > "Bearer ".len());
    if !bearer {
        return refuse(
            401,
            190,
            "An access token is required to request this resource.",
        );
    }
    let (mut product, mut kind, mut file) = (None, None, None);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let declared = field.content_type().map(str::to_string);
                let Ok(bytes) = field.bytes().await else {
                    return refuse(400, 100, "The upload could not be read.");
                };
                match name.as_str() {
                    "messaging_product" => {
                        product = Some(String::from_utf8_lossy(&bytes).into_owned())
                    }
                    "type" => kind = Some(String::from_utf8_lossy(&bytes).into_owned()),
                    "file" => file = Some((declared, bytes.len())),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => return refuse(400, 100, "The upload is not a multipart form."),
        }
    }
    if product.as_deref() != Some("whatsapp") {
        return refuse(
            400,
            100,
            "The parameter messaging_product is required and must be \"whatsapp\".",
        );
    }
    let Some((declared, size)) = file.filter(|(_, n)| *n > 0) else {
        return refuse(400, 100, "The parameter file is required.");
    };
    let Some(kind) = kind.or(declared) else {
        return refuse(400, 100, "The parameter type is required.");
    };
    let id = sim.with_rng(|r| format!("{}", r.gen_range(10u64.pow(15)..10u64.pow(16))));
    sim.uploads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.clone(), format!("{kind} {size} bytes"));
    tracing::info!(%id, %kind, size, "fake WhatsApp: media uploaded");
    Json(json!({ "id": id })).into_response()
}

/// What an uploaded media id holds, if the simulator took it.
pub fn uploaded(sim: &Sim, id: &str) -> Option<String> {
    sim.uploads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(id)
        .cloned()
}

fn refuse(status: u16, code: i64, message: &str) -> Response {
    let http = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        http,
        Json(json!({ "error": { "message": message, "type": "OAuthException", "code": code } })),
    )
        .into_response()
}
