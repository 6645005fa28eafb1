//! JSON parsing that refuses duplicate object keys.
//!
//! serde_json keeps the last of two equal keys; another JWT library may keep the
//! first, so `{"sub":"alice","sub":"admin"}` could mean different things to two
//! verifiers of the same token. Refusing duplicates removes the ambiguity.
//!
//! [`parse_object`] builds a whole [`Value`] tree. The verifier's hot path uses
//! [`parse_header`] and the claims visitor instead: they read the members they need
//! straight from the bytes (borrowing strings where no escape forces a copy) and
//! check every other member just as strictly without building it.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::Error;

pub(crate) const DUPLICATE_KEY: &str = "duplicate JSON object key";
const NOT_AN_OBJECT: &str = "JSON is not an object";
/// `expecting` text of the top-level visitors, found again in serde's type errors.
const EXPECTING_OBJECT: &str = "a JSON object";

/// Parses `bytes` as one JSON object, rejecting duplicate keys at any depth.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    match serde_json::from_slice::<StrictValue>(bytes) {
        Ok(StrictValue(Value::Object(map))) => Ok(map),
        Ok(_) => Err(Error::malformed(NOT_AN_OBJECT)),
        // Our visitor raises only data errors, and only for duplicates.
        Err(err) if err.is_data() => Err(Error::malformed(DUPLICATE_KEY)),
        Err(_) => Err(Error::malformed("invalid JSON")),
    }
}

pub(crate) struct StrictValue(pub(crate) Value);

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

/// Maps a serde_json error from one of the typed visitors to a `Malformed` error.
///
/// `reasons` pairs a text that the visitor puts in its custom or type errors with
/// the reason to report; anything else is `default`. Only failures pay for this.
pub(crate) fn typed_error(
    err: &serde_json::Error,
    reasons: &[(&str, &'static str)],
    default: &'static str,
) -> Error {
    if !err.is_data() {
        return Error::malformed("invalid JSON");
    }
    let text = err.to_string();
    let reason = [
        (DUPLICATE_KEY, DUPLICATE_KEY),
        (EXPECTING_OBJECT, NOT_AN_OBJECT),
    ]
    .iter()
    .chain(reasons)
    .find(|(needle, _)| text.contains(needle))
    .map_or(default, |&(_, reason)| reason);
    Error::malformed(reason)
}

/// The members of a JOSE header that verification reads. Every other member has
/// been parsed and checked (valid JSON, no duplicate keys at any depth) but not kept.
#[derive(Debug)]
pub(crate) struct JoseHeader<'a> {
    pub(crate) alg: Member<'a>,
    pub(crate) kid: Member<'a>,
    pub(crate) crit: bool,
}

/// One member's value, as far as the header checks need it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Member<'a> {
    Absent,
    Text(Cow<'a, str>),
    /// Present, valid, and not a string.
    Other,
}

/// Parses a JOSE header: one JSON object, without duplicate keys at any depth.
pub(crate) fn parse_header(bytes: &[u8]) -> Result<JoseHeader<'_>, Error> {
    serde_json::from_slice::<HeaderSeed>(bytes)
        .map(|HeaderSeed(header)| header)
        .map_err(|err| typed_error(&err, &[], NOT_AN_OBJECT))
}

struct HeaderSeed<'a>(JoseHeader<'a>);

impl<'de> Deserialize<'de> for HeaderSeed<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(HeaderVisitor).map(HeaderSeed)
    }
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = JoseHeader<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTING_OBJECT)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<JoseHeader<'de>, A::Error> {
        let mut header = JoseHeader {
            alg: Member::Absent,
            kid: Member::Absent,
            crit: false,
        };
        let mut seen = SeenKeys::default();
        while let Some(key) = access.next_key_seed(KeySeed)? {
            let value = access.next_value_seed(MemberSeed)?;
            match key.as_ref() {
                "alg" => header.alg = value,
                "kid" => header.kid = value,
                "crit" => header.crit = true,
                _ => {}
            }
            if !seen.insert(key) {
                return Err(de::Error::custom(DUPLICATE_KEY));
            }
        }
        Ok(header)
    }
}

/// The keys of one JSON object so far. A token's objects have a handful of keys, for
/// which a linear scan is cheapest; past `LINEAR` keys a set keeps hostile input
/// (thousands of keys within the size cap) from costing quadratic time.
#[derive(Default)]
pub(crate) struct SeenKeys<'a> {
    few: Vec<Cow<'a, str>>,
    many: BTreeSet<Cow<'a, str>>,
}

impl<'a> SeenKeys<'a> {
    const LINEAR: usize = 16;

    /// Records `key`; false when it was already there.
    pub(crate) fn insert(&mut self, key: Cow<'a, str>) -> bool {
        if self.many.is_empty() {
            if self.few.contains(&key) {
                return false;
            }
            if self.few.len() < Self::LINEAR {
                self.few.push(key);
                return true;
            }
            self.many.extend(self.few.drain(..));
        }
        self.many.insert(key)
    }
}

/// An object key, borrowed from the input unless it contains escapes.
pub(crate) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Any value, classified as a string or something else after checking it.
struct MemberSeed;

impl<'de> DeserializeSeed<'de> for MemberSeed {
    type Value = Member<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(MemberVisitor)
    }
}

struct MemberVisitor;

impl<'de> Visitor<'de> for MemberVisitor {
    type Value = Member<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Member::Text(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Member::Text(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Member::Text(Cow::Owned(v)))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Member::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Member::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Member::Other)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Checked.visit_f64(v).map(|()| Member::Other)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Member::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Checked.visit_seq(seq).map(|()| Member::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        Checked.visit_map(access).map(|()| Member::Other)
    }
}

/// Checks a value exactly as [`StrictValue`] would parse it, building nothing.
pub(crate) struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // deserialize_any, not ignored_any: strings are decoded, so bad UTF-8 and
        // lone surrogates are refused here too.
        deserializer.deserialize_any(Checked).map(|()| Checked)
    }
}

impl<'de> Visitor<'de> for Checked {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(E::custom("non-finite number"))
        }
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let mut seen = SeenKeys::default();
        while let Some(key) = access.next_key_seed(KeySeed)? {
            if !seen.insert(key) {
                return Err(de::Error::custom(DUPLICATE_KEY));
            }
            access.next_value::<Checked>()?;
        }
        Ok(())
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

    /// What the verifier read from a header before: the `Value` tree's `alg`, `kid`
    /// and `crit`, classified as [`parse_header`] reports them.
    fn reference_header(bytes: &[u8]) -> Result<(Member<'static>, Member<'static>, bool), Error> {
        let object = parse_object(bytes)?;
        let member = |name: &str| match object.get(name) {
            None => Member::Absent,
            Some(Value::String(text)) => Member::Text(Cow::Owned(text.clone())),
            Some(_) => Member::Other,
        };
        Ok((member("alg"), member("kid"), object.contains_key("crit")))
    }

    fn assert_header_agrees(bytes: &[u8]) {
        let fast = parse_header(bytes).map(|h| (h.alg, h.kid, h.crit));
        match (fast, reference_header(bytes)) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", String::from_utf8_lossy(bytes)),
            (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind()),
            (a, b) => panic!("{}: {a:?} vs {b:?}", String::from_utf8_lossy(bytes)),
        }
    }

    #[test]
    fn parse_header_agrees_with_the_value_tree() {
        for text in [
            r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#,
            r#"{"alg":"HS\u0032\u00356","kid":"k\"1"}"#,
            r#"{"alg":"HS256","alg":"HS256"}"#,
            r#"{"alg":"HS256","\u0061lg":"none"}"#,
            r#"{"alg":"HS256","kid":1,"crit":["b64"]}"#,
            r#"{"alg":["HS256"],"kid":{"a":{"b":1,"b":2}}}"#,
            r#"{"alg":null,"x":[{"c":1},{"c":1}]}"#,
            r#"{"x":[{"c":1,"c":1}]}"#,
            r#"{"x":"\ud800"}"#,
            r#"{"x":1e400}"#,
            r#"{"alg":"HS256"} {}"#,
            "[]",
            r#""alg""#,
            "",
        ] {
            assert_header_agrees(text.as_bytes());
        }
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        assert_header_agrees(format!("{{{}}}", many.join(",")).as_bytes());
        let repeated_late = format!("{{{},\"k3\":0}}", many.join(","));
        assert_eq!(
            parse_header(repeated_late.as_bytes())
                .unwrap_err()
                .to_string(),
            format!("malformed token: {DUPLICATE_KEY}")
        );
    }

    #[test]
    fn seen_keys_finds_repeats_before_and_after_switching_to_a_set() {
        let mut seen = SeenKeys::default();
        for i in 0..100 {
            assert!(seen.insert(Cow::Owned(format!("k{i}"))), "{i}");
            assert!(!seen.insert(Cow::Owned(format!("k{}", i / 2))), "{i}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

        #[test]
        fn parse_header_agrees_with_the_value_tree_on_any_bytes(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            assert_header_agrees(&bytes);
        }

        #[test]
        fn parse_header_agrees_with_the_value_tree_on_objects(
            members in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["alg", "kid", "crit", "typ", r"\u0061lg", "k"]),
                    proptest::sample::select(vec![
                        r#""HS256""#, r#""none""#, r#""k1""#, "1", "null", r#"[1,{"a":1}]"#,
                        r#"{"a":1,"a":2}"#, r#"{"a":{}}"#, r#""\u0048S256""#, "1.5",
                    ]),
                ),
                0..6,
            ),
        ) {
            let members: Vec<String> =
                members.iter().map(|(name, value)| format!("\"{name}\":{value}")).collect();
            assert_header_agrees(format!("{{{}}}", members.join(",")).as_bytes());
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            parse_object(text.as_bytes()).unwrap_err().kind(),
            ErrorKind::Malformed
        );
        assert_eq!(
            parse_header(text.as_bytes()).unwrap_err().kind(),
            ErrorKind::Malformed
        );
    }
}
