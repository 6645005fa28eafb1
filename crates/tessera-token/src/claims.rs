//! The claims set of an access token.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::compact::numeric_date;
use crate::{Error, strict_json};

/// Claim names with a field of their own; `extra` must not repeat them.
const NAMED_CLAIMS: [&str; 6] = ["sub", "iat", "exp", "nbf", "jti", "sid"];

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
    /// Any further claims. Keys must not repeat a named field: [`KeySet::sign`](crate::KeySet::sign)
    /// refuses such claims rather than emit a duplicate JSON key.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Claims {
    /// Claims for `sub` issued at `issued_at`, expiring `ttl` later (both rounded
    /// down to whole seconds), without `nbf`, `sid` or extra claims.
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
            extra: Map::new(),
        }
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
    pub(crate) fn from_json(bytes: &[u8]) -> Result<Claims, Error> {
        let object = strict_json::parse_object(bytes)?;
        // Checked on the raw value so `exp: 1.5` or a huge number is never coerced.
        for name in ["iat", "exp", "nbf"] {
            numeric_date(object.get(name))?;
        }
        // An explicit `"sid": null` would not survive a round trip; refuse it.
        if object.get("sid").is_some_and(|sid| !sid.is_string()) {
            return Err(Error::malformed("sid is not a string"));
        }
        serde_json::from_value(Value::Object(object))
            .map_err(|_| Error::malformed("claims are missing or of the wrong type"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use chrono::TimeZone;

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
