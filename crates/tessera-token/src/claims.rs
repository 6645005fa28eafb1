//! The claims set of an access token.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;
use crate::compact::numeric_date;
use crate::strict_json::{DUPLICATE_KEY, KeySeed, StrictValue, typed_error};

/// Claim names with a field of their own; `extra` must not repeat them.
const NAMED_CLAIMS: [&str; 8] = ["sub", "iat", "exp", "nbf", "jti", "sid", "iss", "aud"];

/// The claims of a Tessera access token.
///
/// Dates are NumericDates: whole seconds since the Unix epoch. Claims other than
/// the named fields travel in [`extra`](Claims::extra).
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use tessera_token::Claims;
///
/// let issued = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let mut claims = Claims::new("42", "jti-1", issued, Duration::minutes(15)).with_sid("session-7");
/// claims.extra.insert("scope".into(), "read".into());
///
/// assert_eq!(
///     serde_json::to_string(&claims).unwrap(),
///     r#"{"sub":"42","iat":1704067200,"exp":1704068100,"jti":"jti-1","sid":"session-7","scope":"read"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: the user id.
    pub sub: String,
    /// Issued at, in seconds since the Unix epoch.
    pub iat: i64,
    /// Expiry, in seconds since the Unix epoch; the token is refused from this second on.
    pub exp: i64,
    /// Not before, in seconds since the Unix epoch; omitted when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Token id, unique per token.
    pub jti: String,
    /// Session id, naming the session the token belongs to; omitted when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Issuer (RFC 7519 §4.1.1); omitted when `None`. [`KeySet::verify`](crate::KeySet::verify)
    /// does not judge it: comparing it with the expected issuer is the caller's job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience (RFC 7519 §4.1.3): one string or an array of strings; omitted when
    /// `None`. Not judged by `verify` either: see [`Claims::has_audience`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// Any further claims. Keys must not repeat a named field: [`KeySet::sign`](crate::KeySet::sign)
    /// refuses such claims rather than emit a duplicate JSON key.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Claims {
    /// Claims for `sub` issued at `issued_at`, expiring `ttl` later (both rounded
    /// down to whole seconds), without `nbf`, `sid`, `iss`, `aud` or extra claims.
    ///
    /// Unlike `issued_at + ttl`, this cannot panic: an expiry beyond chrono's
    /// range is kept as a number, and [`KeySet::sign`](crate::KeySet::sign) refuses it.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use tessera_token::Claims;
    ///
    /// let issued = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let claims = Claims::new("42", "jti-1", issued, Duration::minutes(15));
    /// assert_eq!(claims.exp - claims.iat, 900);
    /// assert_eq!(claims.nbf, None);
    /// ```
    pub fn new(
        sub: impl Into<String>,
        jti: impl Into<String>,
        issued_at: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Claims {
        let iat = issued_at.timestamp();
        Claims {
            sub: sub.into(),
            iat,
            exp: iat.saturating_add(ttl.num_seconds()),
            nbf: None,
            jti: jti.into(),
            sid: None,
            iss: None,
            aud: None,
            extra: Map::new(),
        }
    }

    /// Sets the issuer (`iss`).
    ///
    /// ```
    /// use chrono::{Duration, Utc};
    /// use tessera_token::Claims;
    ///
    /// let claims = Claims::new("42", "jti-1", Utc::now(), Duration::minutes(15))
    ///     .with_issuer("https://auth.example");
    /// assert_eq!(claims.iss.as_deref(), Some("https://auth.example"));
    /// ```
    pub fn with_issuer(mut self, iss: impl Into<String>) -> Claims {
        self.iss = Some(iss.into());
        self
    }

    /// Sets the audience (`aud`): one (`&str`, `String`) or several (`Vec<String>`).
    ///
    /// ```
    /// use chrono::{Duration, Utc};
    /// use tessera_token::{Audience, Claims};
    ///
    /// let one = Claims::new("42", "jti-1", Utc::now(), Duration::minutes(15))
    ///     .with_audience("api");
    /// assert_eq!(one.aud, Some(Audience::One("api".into())));
    ///
    /// let two = one.with_audience(vec!["api".to_owned(), "admin".to_owned()]);
    /// assert!(two.has_audience("admin"));
    /// ```
    pub fn with_audience(mut self, aud: impl Into<Audience>) -> Claims {
        self.aud = Some(aud.into());
        self
    }

    /// Whether `aud` is among the token's audiences: equal to a string `aud`, or
    /// to one member of an array `aud`. False without `aud`. Compared exactly
    /// (RFC 7519 §4.1.3 names no normalisation).
    ///
    /// ```
    /// use chrono::{Duration, Utc};
    /// use tessera_token::Claims;
    ///
    /// let claims = Claims::new("42", "jti-1", Utc::now(), Duration::minutes(15));
    /// assert!(!claims.has_audience("api"));
    /// let claims = claims.with_audience("api");
    /// assert!(claims.has_audience("api"));
    /// assert!(!claims.has_audience("API"));
    /// ```
    pub fn has_audience(&self, aud: &str) -> bool {
        self.aud
            .as_ref()
            .is_some_and(|audience| audience.contains(aud))
    }

    /// Sets the session id (`sid`).
    ///
    /// ```
    /// use chrono::{Duration, Utc};
    /// use tessera_token::Claims;
    ///
    /// let claims = Claims::new("42", "jti-1", Utc::now(), Duration::minutes(15)).with_sid("s-1");
    /// assert_eq!(claims.sid.as_deref(), Some("s-1"));
    /// ```
    pub fn with_sid(mut self, sid: impl Into<String>) -> Claims {
        self.sid = Some(sid.into());
        self
    }

    /// Sets `nbf`: the token is refused before `not_before` (rounded down to a second).
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use tessera_token::Claims;
    ///
    /// let issued = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let claims = Claims::new("42", "jti-1", issued, Duration::hours(1))
    ///     .with_not_before(issued + Duration::minutes(5));
    /// assert_eq!(claims.nbf, Some(claims.iat + 300));
    /// ```
    pub fn with_not_before(mut self, not_before: DateTime<Utc>) -> Claims {
        self.nbf = Some(not_before.timestamp());
        self
    }

    /// Refuses claims that [`Claims::from_json`] would not read back identically.
    pub(crate) fn check_signable(&self) -> Result<(), Error> {
        if NAMED_CLAIMS
            .iter()
            .any(|name| self.extra.contains_key(*name))
        {
            return Err(Error::malformed("extra claims repeat a named claim"));
        }
        for date in [Some(self.iat), Some(self.exp), self.nbf] {
            numeric_date(date.map(Value::from).as_ref())?;
        }
        Ok(())
    }

    /// Reads verified payload bytes; every shape or range problem is `Malformed`.
    ///
    /// One pass over the bytes fills the fields directly, with the same rules as
    /// parsing to a duplicate-free [`Value`] and then checking it: the named claims
    /// must have their types (`iat`, `exp`, `nbf` JSON integers in chrono's range,
    /// `sid` a string when present, `null` refused), `sub`, `iat`, `exp` and `jti`
    /// are required, and no key may repeat at any depth.
    pub(crate) fn from_json(bytes: &[u8]) -> Result<Claims, Error> {
        let reasons = [(EXPECTING_DATE, NUMERIC_DATE), (WRONG_SHAPE, WRONG_SHAPE)];
        serde_json::from_slice::<ClaimsSeed>(bytes)
            .map(|ClaimsSeed(claims)| claims)
            .map_err(|err| typed_error(&err, &reasons, WRONG_SHAPE))
    }
}

const WRONG_SHAPE: &str = "claims are missing or of the wrong type";
const NUMERIC_DATE: &str = "date claim is not an integer in range";
/// `expecting` text of [`DateVisitor`], found again in serde's type errors.
const EXPECTING_DATE: &str = "an integer NumericDate";

/// The whole payload, read by [`ClaimsVisitor`].
struct ClaimsSeed(Claims);

impl<'de> Deserialize<'de> for ClaimsSeed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ClaimsVisitor).map(ClaimsSeed)
    }
}

struct ClaimsVisitor;

impl<'de> Visitor<'de> for ClaimsVisitor {
    type Value = Claims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Claims, A::Error> {
        let (mut sub, mut iat, mut exp, mut nbf, mut jti, mut sid) =
            (None, None, None, None, None, None);
        let (mut iss, mut aud) = (None, None);
        let mut extra = Map::new();
        while let Some(key) = access.next_key_seed(KeySeed)? {
            // `replace` returns the earlier value: `Some` means the key repeats.
            let repeated = match key.as_ref() {
                "sub" => sub.replace(access.next_value::<String>()?).is_some(),
                "iat" => iat.replace(access.next_value_seed(DateSeed)?).is_some(),
                "exp" => exp.replace(access.next_value_seed(DateSeed)?).is_some(),
                "nbf" => nbf.replace(access.next_value_seed(DateSeed)?).is_some(),
                "jti" => jti.replace(access.next_value::<String>()?).is_some(),
                "sid" => sid.replace(access.next_value::<String>()?).is_some(),
                "iss" => iss.replace(access.next_value::<String>()?).is_some(),
                "aud" => aud.replace(access.next_value::<Audience>()?).is_some(),
                other if extra.contains_key(other) => true,
                _ => {
                    let StrictValue(value) = access.next_value()?;
                    extra.insert(key.into_owned(), value);
                    false
                }
            };
            if repeated {
                return Err(de::Error::custom(DUPLICATE_KEY));
            }
        }
        match (sub, iat, exp, jti) {
            (Some(sub), Some(iat), Some(exp), Some(jti)) => Ok(Claims {
                sub,
                iat,
                exp,
                nbf,
                jti,
                sid,
                iss,
                aud,
                extra,
            }),
            _ => Err(de::Error::custom(WRONG_SHAPE)),
        }
    }
}

/// The `aud` claim (RFC 7519 §4.1.3): a single string, or an array of strings.
///
/// Both forms are read, and each is written back as it was, so a token from
/// another issuer keeps its shape. `null`, numbers and arrays holding anything
/// but strings are [`Malformed`](crate::ErrorKind::Malformed).
///
/// ```
/// use tessera_token::Audience;
///
/// let many: Audience = serde_json::from_str(r#"["api","admin"]"#).unwrap();
/// assert!(many.contains("admin"));
/// assert_eq!(serde_json::to_string(&Audience::from("api")).unwrap(), r#""api""#);
/// assert!(serde_json::from_str::<Audience>("[1]").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Audience {
    /// `"aud": "api"`
    One(String),
    /// `"aud": ["api", "admin"]`
    Many(Vec<String>),
}

impl Audience {
    /// Whether `aud` is this audience, or one of them.
    ///
    /// ```
    /// use tessera_token::Audience;
    ///
    /// assert!(Audience::from("api").contains("api"));
    /// assert!(!Audience::Many(vec![]).contains(""));
    /// ```
    pub fn contains(&self, aud: &str) -> bool {
        match self {
            Audience::One(one) => one == aud,
            Audience::Many(many) => many.iter().any(|one| one == aud),
        }
    }
}

impl From<&str> for Audience {
    fn from(aud: &str) -> Audience {
        Audience::One(aud.to_owned())
    }
}

impl From<String> for Audience {
    fn from(aud: String) -> Audience {
        Audience::One(aud)
    }
}

impl From<Vec<String>> for Audience {
    fn from(auds: Vec<String>) -> Audience {
        Audience::Many(auds)
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Audience, D::Error> {
        deserializer.deserialize_any(AudienceVisitor)
    }
}

struct AudienceVisitor;

impl<'de> Visitor<'de> for AudienceVisitor {
    type Value = Audience;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }

    fn visit_str<E: de::Error>(self, aud: &str) -> Result<Audience, E> {
        Ok(Audience::One(aud.to_owned()))
    }

    fn visit_string<E: de::Error>(self, aud: String) -> Result<Audience, E> {
        Ok(Audience::One(aud))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audience, A::Error> {
        let mut auds = Vec::new();
        while let Some(aud) = seq.next_element::<String>()? {
            auds.push(aud);
        }
        Ok(Audience::Many(auds))
    }
}

/// A NumericDate as [`numeric_date`] accepts it: a JSON integer (not `2.0`, not
/// `1e9`) that fits an `i64` and that chrono can represent.
struct DateSeed;

impl<'de> DeserializeSeed<'de> for DateSeed {
    type Value = i64;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<i64, D::Error> {
        deserializer.deserialize_any(DateVisitor)
    }
}

struct DateVisitor;

impl Visitor<'_> for DateVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTING_DATE)
    }

    fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<i64, E> {
        if DateTime::from_timestamp(seconds, 0).is_some() {
            Ok(seconds)
        } else {
            Err(E::custom(NUMERIC_DATE))
        }
    }

    fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<i64, E> {
        let seconds = i64::try_from(seconds).map_err(|_| E::custom(NUMERIC_DATE))?;
        self.visit_i64(seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, strict_json};
    use chrono::TimeZone;
    use proptest::prelude::*;

    /// The straightforward reading that [`Claims::from_json`] must agree with: parse
    /// to a duplicate-free `Value`, check the dates and `sid` on it, then let serde
    /// fill the struct.
    fn reference_from_json(bytes: &[u8]) -> Result<Claims, Error> {
        let object = strict_json::parse_object(bytes)?;
        for name in ["iat", "exp", "nbf"] {
            numeric_date(object.get(name))?;
        }
        for name in ["sid", "iss"] {
            if object.get(name).is_some_and(|value| !value.is_string()) {
                return Err(Error::malformed("sid or iss is not a string"));
            }
        }
        let aud_is_valid = |aud: &Value| {
            aud.is_string()
                || aud
                    .as_array()
                    .is_some_and(|auds| auds.iter().all(Value::is_string))
        };
        if object.get("aud").is_some_and(|aud| !aud_is_valid(aud)) {
            return Err(Error::malformed(
                "aud is not a string or an array of strings",
            ));
        }
        serde_json::from_value(Value::Object(object))
            .map_err(|_| Error::malformed("claims are missing or of the wrong type"))
    }

    fn assert_agrees(bytes: &[u8]) {
        let fast = Claims::from_json(bytes);
        let reference = reference_from_json(bytes);
        match (&fast, &reference) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", String::from_utf8_lossy(bytes)),
            (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind()),
            _ => panic!(
                "{}: from_json {fast:?}, reference {reference:?}",
                String::from_utf8_lossy(bytes)
            ),
        }
    }

    #[test]
    fn from_json_agrees_with_the_reference_on_edge_cases() {
        for text in [
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j"}"#,
            r#"{"sub":"u","iat":-0,"exp":2,"jti":"j"}"#,
            r#"{"sub":"u","iat":1,"exp":9223372036854775807,"jti":"j"}"#,
            r#"{"sub":"u","iat":1,"exp":8210266876799,"jti":"j"}"#,
            r#"{"sub":"u","iat":1,"exp":8210266876800,"jti":"j"}"#,
            r#"{"sub":"u","iat":-8334601228800,"exp":2,"jti":"j"}"#,
            r#"{"sub":"u","iat":-8334601228801,"exp":2,"jti":"j"}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","nbf":null}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","sid":null}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","iss":"i","aud":"a"}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","aud":["a","b"]}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","aud":[]}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","aud":["a",1]}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","aud":[["a"]]}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","aud":null}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","aud":{"a":1}}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","iss":null}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","iss":["i"]}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","aud":"a","aud":"a"}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","aud":["\ud800"]}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","sid":"s","x":{"y":[1,{"z":null}]}}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","x":1,"x":1}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","x":{"a":1,"\u0061":2}}"#,
            r#"{"s\u0075b":"u","iat":1,"exp":2,"jti":"j"}"#,
            r#"{"sub":"u","s\u0075b":"v","iat":1,"exp":2,"jti":"j"}"#,
            r#"{"sub":"\ud83e\udd80","iat":1,"exp":2,"jti":"j"}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j","x":"\ud800"}"#,
            r#"{"sub":"u","iat":1,"exp":2e0,"jti":"j"}"#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":["j"]}"#,
            r#" { "sub" : "u" , "iat" : 1 , "exp" : 2 , "jti" : "j" } "#,
            r#"{"sub":"u","iat":1,"exp":2,"jti":"j"} x"#,
            r#"{"sub":"u","iat":1,"exp":2}"#,
            "{}",
            "[]",
            "null",
            "",
        ] {
            assert_agrees(text.as_bytes());
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-z]{0,3}".prop_map(Value::from),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                prop::collection::vec(("[a-c]", inner), 0..3)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    /// JSON text of objects whose members may repeat, drawn from the named claims
    /// and a few others, with values of every type.
    fn claims_text() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            prop::sample::select(vec![
                "sub",
                "iat",
                "exp",
                "nbf",
                "jti",
                "sid",
                "iss",
                "aud",
                "x",
                r"s\u0075b"
            ])
            .prop_map(str::to_owned),
            "[a-z]{1,2}",
        ];
        let value = prop_oneof![
            json_value().prop_map(|value| value.to_string()),
            (-9_000_000_000_000i64..9_000_000_000_000).prop_map(|n| n.to_string()),
            prop::sample::select(vec![
                "1e3",
                "-0",
                "1.0",
                "18446744073709551615",
                "9223372036854775807",
                r#"{"a":1,"a":2}"#,
                r#"[{"b":[],"b":{}}]"#,
                r#""\ud800""#,
                r#"["a","b"]"#,
                r#"["a",null]"#,
            ])
            .prop_map(str::to_owned),
        ];
        prop::collection::vec((name, value), 0..8).prop_map(|members| {
            let members: Vec<String> = members
                .into_iter()
                .map(|(name, value)| format!("\"{name}\":{value}"))
                .collect();
            format!("{{{}}}", members.join(","))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn from_json_agrees_with_the_reference(text in claims_text()) {
            assert_agrees(text.as_bytes());
        }

        #[test]
        fn from_json_agrees_with_the_reference_on_valid_claims_plus_noise(
            extra in prop::collection::vec(("[a-z]{1,2}", json_value()), 0..4),
            nbf in proptest::option::of(any::<i64>()),
            sid in proptest::option::of("[a-z]{0,3}"),
            iss in proptest::option::of("[a-z]{0,3}"),
            aud in proptest::option::of(prop_oneof![
                "[a-z]{0,3}".prop_map(Value::from),
                prop::collection::vec("[a-z]{0,3}", 0..3).prop_map(Value::from),
            ]),
        ) {
            let mut object = serde_json::json!({"sub":"u","iat":1,"exp":2,"jti":"j"});
            for (name, value) in extra {
                object[name] = value;
            }
            if let Some(nbf) = nbf {
                object["nbf"] = nbf.into();
            }
            if let Some(sid) = sid {
                object["sid"] = sid.into();
            }
            if let Some(iss) = iss {
                object["iss"] = iss.into();
            }
            if let Some(aud) = aud {
                object["aud"] = aud;
            }
            assert_agrees(object.to_string().as_bytes());
        }

        #[test]
        fn from_json_agrees_with_the_reference_on_any_bytes(bytes in any::<Vec<u8>>()) {
            assert_agrees(&bytes);
        }
    }

    fn issued() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn new_with_an_absurd_ttl_does_not_panic_and_cannot_be_signed() {
        let claims = Claims::new("u", "j", DateTime::<Utc>::MAX_UTC, chrono::Duration::MAX);
        assert_eq!(claims.exp, claims.iat + chrono::Duration::MAX.num_seconds());
        assert_eq!(
            claims.check_signable().unwrap_err().kind(),
            ErrorKind::Malformed
        );
    }

    #[test]
    fn optional_claims_are_omitted_when_none() {
        let claims = Claims::new("u", "j", issued(), chrono::Duration::seconds(60));
        let json = serde_json::to_value(&claims).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"sub":"u","iat":1704067200,"exp":1704067260,"jti":"j"})
        );
    }

    #[test]
    fn extra_claims_may_not_shadow_named_ones() {
        for name in NAMED_CLAIMS {
            let mut claims = Claims::new("u", "j", issued(), chrono::Duration::seconds(60));
            claims.extra.insert(name.to_owned(), Value::from("x"));
            assert!(claims.check_signable().is_err(), "{name}");
        }
    }

    #[test]
    fn issuer_and_audience_are_written_only_when_present_and_read_back() {
        let claims = Claims::new("u", "j", issued(), chrono::Duration::seconds(60))
            .with_issuer("https://auth.example")
            .with_audience(vec!["api".to_owned(), "admin".to_owned()]);
        let json = serde_json::to_string(&claims).unwrap();
        assert_eq!(
            json,
            r#"{"sub":"u","iat":1704067200,"exp":1704067260,"jti":"j","iss":"https://auth.example","aud":["api","admin"]}"#
        );
        assert_eq!(Claims::from_json(json.as_bytes()).unwrap(), claims);
        let one = claims.clone().with_audience("api");
        let json = serde_json::to_string(&one).unwrap();
        assert!(json.ends_with(r#""aud":"api"}"#), "{json}");
        assert_eq!(Claims::from_json(json.as_bytes()).unwrap(), one);
        assert!(claims.has_audience("admin") && one.has_audience("api"));
        assert!(!one.has_audience("admin") && !one.has_audience("ap"));
    }

    #[test]
    fn from_json_requires_the_named_claims_with_their_types() {
        let ok = br#"{"sub":"u","iat":1,"exp":2,"jti":"j","nbf":0,"sid":"s","x":[1]}"#;
        let claims = Claims::from_json(ok).unwrap();
        assert_eq!((claims.nbf, claims.sid.as_deref()), (Some(0), Some("s")));
        assert_eq!(claims.extra.get("x"), Some(&serde_json::json!([1])));
        for bad in [
            &br#"{"iat":1,"exp":2,"jti":"j"}"#[..],
            br#"{"sub":"u","iat":1,"jti":"j"}"#,
            br#"{"sub":"u","iat":1,"exp":2}"#,
            br#"{"sub":7,"iat":1,"exp":2,"jti":"j"}"#,
            br#"{"sub":"u","iat":1,"exp":"2","jti":"j"}"#,
            br#"{"sub":"u","iat":1,"exp":2.0,"jti":"j"}"#,
            br#"{"sub":"u","iat":1,"exp":2,"nbf":"0","jti":"j"}"#,
            br#"{"sub":"u","iat":1,"exp":2,"jti":"j","sid":5}"#,
            br#"{"sub":"u","iat":1,"exp":2,"jti":"j","sid":null}"#,
            br#"{"sub":"u","iat":1,"exp":2,"jti":"j","nbf":null}"#,
            br#"{"sub":"u","iat":1,"exp":99999999999999999999,"jti":"j"}"#,
            br#"{"sub":"u","iat":1,"exp":2,"jti":"j","iss":5}"#,
            br#"{"sub":"u","iat":1,"exp":2,"jti":"j","iss":null}"#,
            br#"{"sub":"u","iat":1,"exp":2,"jti":"j","aud":null}"#,
            br#"{"sub":"u","iat":1,"exp":2,"jti":"j","aud":["a",5]}"#,
            br#"{"sub":"u","iat":1,"exp":2,"jti":"j","aud":7}"#,
        ] {
            let text = String::from_utf8_lossy(bad);
            assert_eq!(
                Claims::from_json(bad).unwrap_err().kind(),
                ErrorKind::Malformed,
                "{text}"
            );
        }
    }
}
