//! Serde helpers for provider JSON whose value types drift between API versions: numbers that
//! arrive as strings (or strings that arrive as numbers).

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

/// An `i64` sent either as a JSON number or as a decimal string (`"1700000000"`). Meta documents
/// timestamps as strings but older payloads (and some SDK fixtures) use numbers.
pub(crate) fn i64_from_str_or_num<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an integer or a string holding one")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            // Whole seconds written as 1700000000.0: accept; anything fractional or huge is not
            // a timestamp or code we understand.
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                Ok(v as i64)
            } else {
                Err(E::custom(format!("{v} is not a whole number")))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format!("{v:?} is not an integer")))
        }
    }
    d.deserialize_any(V)
}

/// A text field that is sometimes a number (ids, coordinates): kept as its JSON text.
pub(crate) fn string_from_str_or_num<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
    }
    d.deserialize_any(V)
}

/// Like [`string_from_str_or_num`] for an optional field (`null` or absent → `None`).
pub(crate) fn opt_string_from_str_or_num<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Wrap(#[serde(deserialize_with = "string_from_str_or_num")] String);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}
