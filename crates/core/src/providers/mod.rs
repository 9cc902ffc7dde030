//! Provider wire formats (shared/spec/PROVIDERS.md): Twilio and Meta webhook signatures, typed
//! views of Twilio's form callbacks and the WhatsApp Cloud API notification, TwiML answers, and
//! the mapping of provider statuses and error codes onto our `DeliveryStatus`. Pure functions over
//! bytes and strings: the server does the HTTP, this module decides what the bytes mean.
//! [`Provider`] names the carriers themselves, as the server stores them.

pub mod meta_signature;
mod provider;
pub mod status;
pub mod twilio_signature;
pub mod twilio_webhook;
pub mod twiml;
pub mod whatsapp_webhook;

mod lenient;

pub use provider::{Provider, UnknownProvider};
