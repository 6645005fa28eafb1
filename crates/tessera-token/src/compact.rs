//! The JWS compact serialization shared by the key set and the legacy verifier:
//! splitting, strict base64url, MAC checks, and inspection without verifying.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use hmac::Mac;
use hmac::digest::KeyInit;
use serde_json::Value;

use crate::{Error, strict_json};

/// The longest token, in bytes, that is parsed at all; longer input is
/// [`Malformed`](crate::ErrorKind::Malformed) before any decoding work.
///
/// Access tokens are a few hundred bytes; 8 KiB is also the common limit on a
/// whole HTTP header block.
///
/// ```
/// use tessera_token::{ErrorKind, Key, KeySet, MAX_TOKEN_LEN, Secret};
///
/// let keys = KeySet::new(Key::new("k1", Secret::new("a secret of thirty-two bytes....")));
/// let huge = "a".repeat(MAX_TOKEN_LEN + 1);
/// assert_eq!(keys.verify(&huge, chrono::Utc::now()).unwrap_err().kind(), ErrorKind::Malformed);
/// ```
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The three dot-separated parts of a compact JWS, still encoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segments<'a> {
    /// `header.payload` exactly as received: the bytes the MAC covers.
    pub(crate) signing_input: &'a str,
    pub(crate) header: &'a str,
    pub(crate) payload: &'a str,
    /// May be empty here; verifiers decide after the algorithm check.
    pub(crate) signature: &'a str,
}

pub(crate) fn split(token: &str) -> Result<Segments<'_>, Error> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::malformed("token longer than MAX_TOKEN_LEN"));
    }
    let (signing_input, signature) = token
        .rsplit_once('.')
        .ok_or(Error::malformed("expected three dot-separated segments"))?;
    let (header, payload) = signing_input
        .split_once('.')
        .ok_or(Error::malformed("expected three dot-separated segments"))?;
    if payload.contains('.') {
        return Err(Error::malformed("expected three dot-separated segments"));
    }
    if header.is_empty() || payload.is_empty() {
        return Err(Error::malformed("empty header or payload segment"));
    }
    Ok(Segments {
        signing_input,
        header,
        payload,
        signature,
    })
}

/// Decodes unpadded base64url, refusing padding, whitespace, other alphabets and
/// non-zero trailing bits, so each byte string has exactly one accepted encoding.
pub(crate) fn decode_segment(segment: &str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| Error::malformed("segment is not canonical unpadded base64url"))
}

/// Decodes like [`decode_segment`], into `buffer` when the result fits (every
/// ordinary token's segments do, so verifying needs no heap for them), else into
/// `spill`. Only the destination differs: the same input is refused either way.
pub(crate) fn decode_into<'b>(
    segment: &str,
    buffer: &'b mut [u8],
    spill: &'b mut Vec<u8>,
) -> Result<&'b [u8], Error> {
    // The engine wants room for its estimate (a multiple of 3), not just the result.
    if segment.len().div_ceil(4) * 3 <= buffer.len() {
        let len = URL_SAFE_NO_PAD
            .decode_slice(segment, buffer)
            .map_err(|_| Error::malformed("segment is not canonical unpadded base64url"))?;
        Ok(&buffer[..len])
    } else {
        *spill = decode_segment(segment)?;
        Ok(spill)
    }
}

/// Like [`decode_segment`], but an empty signature is an error too.
pub(crate) fn decode_signature(segment: &str) -> Result<Vec<u8>, Error> {
    if segment.is_empty() {
        return Err(Error::malformed("empty signature segment"));
    }
    decode_segment(segment)
}

pub(crate) fn encode_segment(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Appends the unpadded base64url encoding of `bytes` to `out`.
pub(crate) fn append_segment(bytes: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(bytes, out);
}

/// Whether `tag` is the MAC of `message` under `key`, compared in constant time.
pub(crate) fn mac_matches<M: Mac + KeyInit>(key: &[u8], message: &[u8], tag: &[u8]) -> bool {
    match <M as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            Mac::update(&mut mac, message);
            mac.verify_slice(tag).is_ok()
        }
        // HMAC takes keys of any length; this arm only keeps the code panic-free.
        Err(_) => false,
    }
}

/// Reads a NumericDate: a JSON integer that chrono can represent (about
/// ±262,000 years), so later date arithmetic by callers cannot overflow.
pub(crate) fn numeric_date(value: Option<&Value>) -> Result<Option<i64>, Error> {
    match value {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .filter(|&seconds| DateTime::from_timestamp(seconds, 0).is_some())
            .map(Some)
            .ok_or(Error::malformed("date claim is not an integer in range")),
    }
}

/// Decodes a compact JWS **without checking its signature or dates**, for
/// operator tools that show what a token claims.
///
/// The structure is still checked as strictly as [`KeySet::verify`](crate::KeySet::verify)
/// does (size limit, three segments, canonical base64url, JSON objects without
/// duplicate keys); the signature segment may be empty, so `alg: none` tokens
/// can be inspected. Never use the result to make an access decision.
///
/// ```
/// use chrono::{Duration, Utc};
/// use tessera_token::{Claims, Key, KeySet, Secret, decode_unverified};
///
/// let keys = KeySet::new(Key::new("2024-06", Secret::new("a secret of thirty-two bytes....")));
/// let token = keys.sign(&Claims::new("42", "jti-1", Utc::now(), Duration::minutes(15)))?;
///
/// let (header, claims) = decode_unverified(&token)?;
/// assert_eq!(header["kid"], "2024-06");
/// assert_eq!(claims["sub"], "42");
/// # Ok::<(), tessera_token::Error>(())
/// ```
pub fn decode_unverified(token: &str) -> Result<(Value, Value), Error> {
    let segments = split(token)?;
    let header = strict_json::parse_object(&decode_segment(segments.header)?)?;
    let claims = strict_json::parse_object(&decode_segment(segments.payload)?)?;
    decode_segment(segments.signature)?;
    Ok((Value::Object(header), Value::Object(claims)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use hmac::Hmac;
    use serde_json::json;
    use sha2::Sha256;

    #[test]
    fn split_keeps_the_exact_signing_input() {
        let segments = split("aGVh.cGF5.c2ln").unwrap();
        assert_eq!(segments.signing_input, "aGVh.cGF5");
        assert_eq!(
            (segments.header, segments.payload, segments.signature),
            ("aGVh", "cGF5", "c2ln")
        );
    }

    #[test]
    fn split_rejects_wrong_segment_counts_and_empty_parts() {
        for token in [
            "", ".", "..", "a", "a.b", "a.b.c.d", "a..c", ".b.c", "a.b.c.", "...", "a.b..",
        ] {
            assert_eq!(
                split(token).unwrap_err().kind(),
                ErrorKind::Malformed,
                "{token:?}"
            );
        }
        assert_eq!(split("a.b.").unwrap().signature, "");
    }

    #[test]
    fn split_enforces_the_size_cap_at_the_boundary() {
        let at_cap = format!("a.b.{}", "c".repeat(MAX_TOKEN_LEN - 4));
        assert!(split(&at_cap).is_ok());
        let over = format!("{at_cap}c");
        assert_eq!(split(&over).unwrap_err().kind(), ErrorKind::Malformed);
    }

    #[test]
    fn base64_is_strict() {
        assert_eq!(decode_segment("aGk").unwrap(), b"hi");
        // "aGl" decodes to "hi" too, with non-zero trailing bits.
        for bad in [
            "aGl", "aGk=", "aG k", "aGk\n", "aG+k", "aG/k", "a", "aGk\0", "aGk=",
        ] {
            assert!(decode_segment(bad).is_err(), "{bad:?}");
        }
        assert!(decode_signature("").is_err());
    }

    #[test]
    fn decoding_into_a_buffer_agrees_with_decoding_to_the_heap() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(200).collect();
        let (mut small, mut large, mut spill) = ([0u8; 16], [0u8; 256], Vec::new());
        for len in 0..bytes.len() {
            let encoded = encode_segment(&bytes[..len]);
            let decoded = decode_into(&encoded, &mut small, &mut spill).unwrap();
            assert_eq!(decoded, &bytes[..len], "{len}");
            let decoded = decode_into(&encoded, &mut large, &mut spill).unwrap();
            assert_eq!(decoded, &bytes[..len], "{len}");
            // Refused alike, whichever destination.
            for bad in [format!("{encoded}="), format!("{encoded}!")] {
                assert!(decode_into(&bad, &mut small, &mut spill).is_err(), "{bad}");
                assert!(decode_into(&bad, &mut large, &mut spill).is_err(), "{bad}");
            }
        }
        for bad in ["aGl", "aGk=", "aG k", "aGk\n", "aG+k", "aG/k", "a", "aGk\0"] {
            assert!(decode_into(bad, &mut large, &mut spill).is_err(), "{bad:?}");
            assert!(
                decode_into(bad, &mut [0u8; 1], &mut spill).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn mac_matches_only_the_right_tag() {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"key").unwrap();
        Mac::update(&mut mac, b"message");
        let tag = mac.finalize().into_bytes();
        assert!(mac_matches::<Hmac<Sha256>>(b"key", b"message", &tag));
        assert!(!mac_matches::<Hmac<Sha256>>(b"key", b"messagf", &tag));
        assert!(!mac_matches::<Hmac<Sha256>>(b"kez", b"message", &tag));
        assert!(!mac_matches::<Hmac<Sha256>>(b"key", b"message", &tag[..31]));
        assert!(!mac_matches::<Hmac<Sha256>>(b"key", b"message", &[]));
    }

    #[test]
    fn numeric_dates_must_be_integers_in_range() {
        assert_eq!(numeric_date(None).unwrap(), None);
        assert_eq!(
            numeric_date(Some(&json!(1_700_000_000))).unwrap(),
            Some(1_700_000_000)
        );
        assert_eq!(numeric_date(Some(&json!(-1))).unwrap(), Some(-1));
        for bad in [
            json!("1700000000"),
            json!(1.7e9),
            json!(1.5),
            json!(u64::MAX),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(null),
            json!(true),
        ] {
            assert!(numeric_date(Some(&bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn decode_unverified_accepts_unsigned_tokens_but_not_garbage() {
        let header = encode_segment(br#"{"alg":"none"}"#);
        let payload = encode_segment(br#"{"sub":"1"}"#);
        let (h, c) = decode_unverified(&format!("{header}.{payload}.")).unwrap();
        assert_eq!((h, c), (json!({"alg":"none"}), json!({"sub":"1"})));
        assert!(decode_unverified(&format!("{header}.{payload}.!!")).is_err());
        assert!(decode_unverified(&format!("{header}.{header}{payload}.")).is_err());
    }
}
