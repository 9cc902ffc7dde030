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

/// A list whose items are read one by one: an item with a field of an unexpected type loses
/// that field (it takes its default) instead of failing the item, and an item that is not an
/// object at all becomes the default. So one odd message in a batch never fails the POST, which
/// would be answered 400 and lose every other message of the batch (found by fuzzing, issue 13).
pub(crate) fn each_leniently<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    let raw = Option::<Vec<serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(raw.into_iter().map(leniently).collect())
}

fn leniently<T: serde::de::DeserializeOwned + Default>(raw: serde_json::Value) -> T {
    if let Ok(item) = serde_json::from_value::<T>(raw.clone()) {
        return item;
    }
    let serde_json::Value::Object(fields) = raw else {
        return T::default();
    };
    // Fields are independent (each has a default), so the ones that read on their own read
    // together.
    let readable: serde_json::Map<String, serde_json::Value> = fields
        .into_iter()
        .filter(|(k, v)| {
            let one = serde_json::Value::Object([(k.clone(), v.clone())].into_iter().collect());
            serde_json::from_value::<T>(one).is_ok()
        })
        .collect();
    serde_json::from_value(serde_json::Value::Object(readable)).unwrap_or_default()
}
