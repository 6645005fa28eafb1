//! JSON parsing that refuses duplicate object keys.
//!
//! serde_json keeps the last of two equal keys; another JWT library may keep the
//! first, so `{"sub":"alice","sub":"admin"}` could mean different things to two
//! verifiers of the same token. Refusing duplicates removes the ambiguity.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::Error;

const DUPLICATE_KEY: &str = "duplicate JSON object key";

/// Parses `bytes` as one JSON object, rejecting duplicate keys at any depth.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    match serde_json::from_slice::<StrictValue>(bytes) {
        Ok(StrictValue(Value::Object(map))) => Ok(map),
        Ok(_) => Err(Error::malformed("JSON is not an object")),
        // Our visitor raises only data errors, and only for duplicates.
        Err(err) if err.is_data() => Err(Error::malformed(DUPLICATE_KEY)),
        Err(_) => Err(Error::malformed("invalid JSON")),
    }
}

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // serde_json bounds the nesting depth, so this recursion cannot overflow.
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = StrictValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Number(v.into())))
    }

    fn visit_u64<E>(self, v: u64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Number(v.into())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<StrictValue, E> {
        Number::from_f64(v)
            .map(|n| StrictValue(Value::Number(n)))
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(v)))
    }

    fn visit_unit<E>(self) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrictValue, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(StrictValue(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<StrictValue, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(DUPLICATE_KEY));
            }
            let StrictValue(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(StrictValue(Value::Object(map)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde_json::json;

    fn reason(bytes: &[u8]) -> String {
        parse_object(bytes).unwrap_err().to_string()
    }

    #[test]
    fn parses_nested_objects_like_serde_json() {
        let text = br#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}],"c":{"d":18446744073709551615}}"#;
        let expected =
            json!({"a":[1,-2,3.5,"x",null,true,{"b":{}}],"c":{"d":18446744073709551615u64}});
        assert_eq!(Value::Object(parse_object(text).unwrap()), expected);
    }

    #[test]
    fn rejects_duplicate_keys_at_top_level_and_nested() {
        assert!(reason(br#"{"sub":"alice","sub":"admin"}"#).contains(DUPLICATE_KEY));
        assert!(reason(br#"{"x":{"a":1,"a":1}}"#).contains(DUPLICATE_KEY));
        assert!(reason(br#"{"x":[{"a":1,"a":2}]}"#).contains(DUPLICATE_KEY));
        // Escapes decode to the same key, so they are duplicates too.
        assert!(reason(br#"{"sub":1,"s\u0075b":2}"#).contains(DUPLICATE_KEY));
    }

    #[test]
    fn rejects_non_objects_and_invalid_json() {
        for text in [
            &b"[]"[..],
            b"\"sub\"",
            b"null",
            b"",
            b"{",
            b"{\"a\":1}x",
            b"{\"a\":1e400}",
            b"{\"a\":\"\xff\"}",
            b"{\"a\":\"\\ud800\"}",
            b"\xef\xbb\xbf{}",
        ] {
            let err = parse_object(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Malformed, "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            parse_object(text.as_bytes()).unwrap_err().kind(),
            ErrorKind::Malformed
        );
    }
}
