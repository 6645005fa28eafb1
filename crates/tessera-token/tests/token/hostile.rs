//! Every ErrorKind, and a table of hostile tokens with the kind each must get.

use chrono::Duration;
use tessera_token::{Claims, ErrorKind, Key, KeySet, MAX_TOKEN_LEN, Secret, decode_unverified};

use crate::support::*;

fn kind(token: &str) -> ErrorKind {
    keys().verify(token, t0()).unwrap_err().kind()
}

fn with_claim(name: &str, json_value: &str) -> String {
    let payload = format!(
        r#"{{"sub":"42","iat":1704067200,"exp":1704068100,"jti":"jti-1","{name}":{json_value}}}"#
    );
    forge(HEADER, payload.as_bytes())
}

fn with_header(header: &str) -> String {
    forge(header.as_bytes(), PAYLOAD)
}

/// Swaps the last base64 character for one with the same leading bits and
/// different trailing bits: the same bytes, non-canonically encoded.
fn non_canonical(segment: &str) -> String {
    let (head, last) = segment.split_at(segment.len() - 1);
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(last).unwrap();
    // Valid segments end on a character whose unused low bits are zero.
    let unused_bits = match segment.len() % 4 {
        2 => 4,
        3 => 2,
        _ => panic!("segment length {} has no trailing bits", segment.len()),
    };
    assert_eq!(index % (1 << unused_bits), 0);
    format!("{head}{}", &alphabet[index + 1..index + 2])
}

#[test]
fn the_forged_baseline_is_valid() {
    assert_eq!(
        keys().verify(&forge(HEADER, PAYLOAD), t0()).unwrap().sub,
        "42"
    );
}

#[test]
fn each_error_kind_has_a_trigger() {
    let keys = keys();
    let token = keys.sign(&claims()).unwrap();
    let other = KeySet::new(Key::new(KID, Secret::new("another secret")));
    let cases = [
        (keys.verify("x.y", t0()), ErrorKind::Malformed),
        (
            keys.verify(&with_header(r#"{"alg":"none"}"#), t0()),
            ErrorKind::UnsupportedAlgorithm,
        ),
        (
            keys.verify(&with_header(r#"{"alg":"HS256","kid":"k2"}"#), t0()),
            ErrorKind::UnknownKey,
        ),
        (other.verify(&token, t0()), ErrorKind::BadSignature),
        (
            keys.verify(&token, t0() + Duration::minutes(15)),
            ErrorKind::Expired,
        ),
        (
            keys.verify(
                &keys
                    .sign(&claims().with_not_before(t0() + Duration::minutes(1)))
                    .unwrap(),
                t0(),
            ),
            ErrorKind::NotYetValid,
        ),
    ];
    for (result, expected) in cases {
        assert_eq!(result.unwrap_err().kind(), expected);
    }
}

#[test]
fn hostile_token_table() {
    let valid = keys().sign(&claims()).unwrap();
    let mut parts = valid.split('.');
    let (h, p, s) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    // Encodes to both '-' and '_', which the standard alphabet spells '+' and '/'.
    let url_safe_only = b64(br#"{"sub":"42","iat":1704067200,"exp":1704068100,"jti":"???>>>"}"#);
    assert!(url_safe_only.contains('-') && url_safe_only.contains('_'));
    let rs256_confusion = with_header(r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#);

    let table: Vec<(&str, String, ErrorKind)> = vec![
        // Algorithm allowlist.
        (
            "alg none, unsigned",
            format!("{}.{p}.", b64(br#"{"alg":"none","typ":"JWT"}"#)),
            ErrorKind::UnsupportedAlgorithm,
        ),
        (
            "alg none, signed",
            with_header(r#"{"alg":"none","kid":"k1"}"#),
            ErrorKind::UnsupportedAlgorithm,
        ),
        (
            "alg None",
            with_header(r#"{"alg":"None"}"#),
            ErrorKind::UnsupportedAlgorithm,
        ),
        (
            "alg lower-case",
            with_header(r#"{"alg":"hs256"}"#),
            ErrorKind::UnsupportedAlgorithm,
        ),
        (
            "alg HS384",
            with_header(r#"{"alg":"HS384","kid":"k1"}"#),
            ErrorKind::UnsupportedAlgorithm,
        ),
        (
            "alg HS512",
            with_header(r#"{"alg":"HS512","kid":"k1"}"#),
            ErrorKind::UnsupportedAlgorithm,
        ),
        (
            "alg RS256 with HMAC",
            rs256_confusion,
            ErrorKind::UnsupportedAlgorithm,
        ),
        (
            "alg ES256",
            with_header(r#"{"alg":"ES256"}"#),
            ErrorKind::UnsupportedAlgorithm,
        ),
        (
            "alg missing",
            with_header(r#"{"typ":"JWT","kid":"k1"}"#),
            ErrorKind::UnsupportedAlgorithm,
        ),
        (
            "alg null",
            with_header(r#"{"alg":null}"#),
            ErrorKind::UnsupportedAlgorithm,
        ),
        (
            "alg array",
            with_header(r#"{"alg":["HS256"]}"#),
            ErrorKind::UnsupportedAlgorithm,
        ),
        (
            "alg with NUL",
            with_header(r#"{"alg":"HS256\u0000"}"#),
            ErrorKind::UnsupportedAlgorithm,
        ),
        // Key ids.
        (
            "kid unknown",
            with_header(r#"{"alg":"HS256","kid":"k2"}"#),
            ErrorKind::UnknownKey,
        ),
        (
            "kid path-like",
            with_header(r#"{"alg":"HS256","kid":"../../etc/passwd"}"#),
            ErrorKind::UnknownKey,
        ),
        (
            "kid empty",
            with_header(r#"{"alg":"HS256","kid":""}"#),
            ErrorKind::UnknownKey,
        ),
        (
            "kid with NUL",
            with_header(r#"{"alg":"HS256","kid":"k1\u0000"}"#),
            ErrorKind::UnknownKey,
        ),
        (
            "kid number",
            with_header(r#"{"alg":"HS256","kid":1}"#),
            ErrorKind::Malformed,
        ),
        (
            "crit",
            with_header(r#"{"alg":"HS256","kid":"k1","crit":["b64"],"b64":false}"#),
            ErrorKind::Malformed,
        ),
        // Duplicate keys, each way round.
        (
            "header alg twice, none last",
            with_header(r#"{"alg":"HS256","alg":"none"}"#),
            ErrorKind::Malformed,
        ),
        (
            "header alg twice, HS256 last",
            with_header(r#"{"alg":"none","alg":"HS256"}"#),
            ErrorKind::Malformed,
        ),
        (
            "header kid twice",
            with_header(r#"{"alg":"HS256","kid":"k1","kid":"k1"}"#),
            ErrorKind::Malformed,
        ),
        (
            "claims sub twice",
            with_claim("sub", r#""admin""#),
            ErrorKind::Malformed,
        ),
        (
            "claims exp twice",
            with_claim("exp", "99999999999"),
            ErrorKind::Malformed,
        ),
        (
            "nested duplicate",
            with_claim("x", r#"{"a":1,"a":2}"#),
            ErrorKind::Malformed,
        ),
        // Dates.
        (
            "exp string",
            forge(
                HEADER,
                br#"{"sub":"42","iat":1704067200,"exp":"1704068100","jti":"j"}"#,
            ),
            ErrorKind::Malformed,
        ),
        (
            "exp float",
            forge(
                HEADER,
                br#"{"sub":"42","iat":1704067200,"exp":1704068100.0,"jti":"j"}"#,
            ),
            ErrorKind::Malformed,
        ),
        (
            "exp exponent",
            forge(
                HEADER,
                br#"{"sub":"42","iat":1704067200,"exp":1.7e9,"jti":"j"}"#,
            ),
            ErrorKind::Malformed,
        ),
        (
            "exp huge",
            forge(
                HEADER,
                br#"{"sub":"42","iat":1704067200,"exp":99999999999999999999,"jti":"j"}"#,
            ),
            ErrorKind::Malformed,
        ),
        (
            "exp i64::MAX",
            forge(
                HEADER,
                br#"{"sub":"42","iat":1704067200,"exp":9223372036854775807,"jti":"j"}"#,
            ),
            ErrorKind::Malformed,
        ),
        (
            "exp 1e400",
            forge(
                HEADER,
                br#"{"sub":"42","iat":1704067200,"exp":1e400,"jti":"j"}"#,
            ),
            ErrorKind::Malformed,
        ),
        (
            "exp null",
            forge(
                HEADER,
                br#"{"sub":"42","iat":1704067200,"exp":null,"jti":"j"}"#,
            ),
            ErrorKind::Malformed,
        ),
        (
            "exp missing",
            forge(HEADER, br#"{"sub":"42","iat":1704067200,"jti":"j"}"#),
            ErrorKind::Malformed,
        ),
        (
            "iat string",
            forge(
                HEADER,
                br#"{"sub":"42","iat":"now","exp":1704068100,"jti":"j"}"#,
            ),
            ErrorKind::Malformed,
        ),
        ("nbf float", with_claim("nbf", "1.5"), ErrorKind::Malformed),
        (
            "nbf huge negative",
            with_claim("nbf", "-9223372036854775808"),
            ErrorKind::Malformed,
        ),
        // Claim shapes.
        (
            "sub number",
            forge(
                HEADER,
                br#"{"sub":42,"iat":1704067200,"exp":1704068100,"jti":"j"}"#,
            ),
            ErrorKind::Malformed,
        ),
        ("sid number", with_claim("sid", "7"), ErrorKind::Malformed),
        ("claims array", forge(HEADER, b"[]"), ErrorKind::Malformed),
        (
            "claims string",
            forge(HEADER, br#""sub""#),
            ErrorKind::Malformed,
        ),
        ("header array", forge(b"[]", PAYLOAD), ErrorKind::Malformed),
        (
            "header not JSON",
            forge(b"alg=HS256", PAYLOAD),
            ErrorKind::Malformed,
        ),
        (
            "claims not JSON",
            forge(HEADER, b"sub=42"),
            ErrorKind::Malformed,
        ),
        (
            "claims trailing data",
            forge(HEADER, &[PAYLOAD, b" {}"].concat()),
            ErrorKind::Malformed,
        ),
        // NUL and invalid UTF-8 inside decoded parts.
        (
            "NUL in claims JSON",
            forge(HEADER, &[PAYLOAD, b"\0"].concat()),
            ErrorKind::Malformed,
        ),
        (
            "NUL before header JSON",
            forge(&[b"\0", HEADER].concat(), PAYLOAD),
            ErrorKind::Malformed,
        ),
        (
            "invalid UTF-8 in claims",
            forge(
                HEADER,
                b"{\"sub\":\"\xff\xfe\",\"iat\":1,\"exp\":2,\"jti\":\"j\"}",
            ),
            ErrorKind::Malformed,
        ),
        (
            "invalid UTF-8 in header",
            forge(b"{\"alg\":\"HS256\",\"kid\":\"\xc3\"}", PAYLOAD),
            ErrorKind::Malformed,
        ),
        (
            "lone surrogate escape",
            with_claim("x", r#""\ud800""#),
            ErrorKind::Malformed,
        ),
        (
            "byte order mark",
            forge(&[&b"\xef\xbb\xbf"[..], HEADER].concat(), PAYLOAD),
            ErrorKind::Malformed,
        ),
        // NUL and whitespace in the token itself.
        ("NUL appended", format!("{valid}\0"), ErrorKind::Malformed),
        ("NUL inside", format!("{h}.\0{p}.{s}"), ErrorKind::Malformed),
        ("leading space", format!(" {valid}"), ErrorKind::Malformed),
        (
            "trailing newline",
            format!("{valid}\n"),
            ErrorKind::Malformed,
        ),
        (
            "space inside",
            format!("{h}. {p}.{s}"),
            ErrorKind::Malformed,
        ),
        (
            "bearer prefix",
            format!("Bearer {valid}"),
            ErrorKind::Malformed,
        ),
        // Base64.
        (
            "padded header",
            sign_segments(&format!("{}=", b64(HEADER)), &b64(PAYLOAD), SECRET),
            ErrorKind::Malformed,
        ),
        (
            "padded signature",
            format!("{valid}="),
            ErrorKind::Malformed,
        ),
        (
            "standard alphabet",
            sign_segments(
                &b64(HEADER),
                &url_safe_only.replace('_', "/").replace('-', "+"),
                SECRET,
            ),
            ErrorKind::Malformed,
        ),
        (
            "non-canonical header",
            sign_segments(&non_canonical(&b64(HEADER)), &b64(PAYLOAD), SECRET),
            ErrorKind::Malformed,
        ),
        (
            "non-canonical payload",
            sign_segments(
                &b64(HEADER),
                &non_canonical(&b64(&[PAYLOAD, b" "].concat())),
                SECRET,
            ),
            ErrorKind::Malformed,
        ),
        (
            "non-canonical signature",
            format!("{h}.{p}.{}", non_canonical(s)),
            ErrorKind::Malformed,
        ),
        (
            "impossible length",
            format!("{h}.{p}.{s}AB"),
            ErrorKind::Malformed,
        ),
        ("not base64", format!("{h}.{p}.!{s}"), ErrorKind::Malformed),
        // Structure.
        ("empty string", String::new(), ErrorKind::Malformed),
        ("dots only", "..".to_owned(), ErrorKind::Malformed),
        ("empty header", format!(".{p}.{s}"), ErrorKind::Malformed),
        ("empty payload", format!("{h}..{s}"), ErrorKind::Malformed),
        ("empty signature", format!("{h}.{p}."), ErrorKind::Malformed),
        ("two segments", format!("{h}.{p}"), ErrorKind::Malformed),
        (
            "extra segment",
            format!("{valid}.{s}"),
            ErrorKind::Malformed,
        ),
        (
            "extra empty segment",
            format!("{valid}."),
            ErrorKind::Malformed,
        ),
        (
            "JWE-like five segments",
            format!("{h}.{p}.{s}.{s}.{s}"),
            ErrorKind::Malformed,
        ),
        (
            "huge",
            format!("{h}.{}.{s}", "A".repeat(MAX_TOKEN_LEN)),
            ErrorKind::Malformed,
        ),
        ("1 MiB of dots", ".".repeat(1 << 20), ErrorKind::Malformed),
        // Signature.
        (
            "signature of another token",
            format!("{h}.{}.{s}", b64(PAYLOAD)),
            ErrorKind::BadSignature,
        ),
        (
            "truncated signature",
            format!("{h}.{p}.{}", &s[..40]),
            ErrorKind::BadSignature,
        ),
        (
            "signature of the claims only",
            format!("{h}.{p}.{}", b64(&hmac_sha256(SECRET, p.as_bytes()))),
            ErrorKind::BadSignature,
        ),
        (
            "empty HMAC key",
            sign_segments(h, p, b""),
            ErrorKind::BadSignature,
        ),
    ];

    let mut failures = Vec::new();
    for (name, token, expected) in &table {
        match keys().verify(token, t0()) {
            Err(err) if err.kind() == *expected => {}
            other => failures.push(format!("{name}: expected {expected:?}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn payload_tampering_is_a_bad_signature_even_with_valid_claims() {
    let token = keys().sign(&claims()).unwrap();
    let (_, rest) = token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let admin = br#"{"sub":"1","iat":1704067200,"exp":1704068100,"jti":"jti-1","sid":"session-7"}"#;
    let tampered = format!("{}.{}.{signature}", b64(HEADER), b64(admin));
    assert_eq!(kind(&tampered), ErrorKind::BadSignature);
}

#[test]
fn largest_token_under_the_cap_verifies_and_one_byte_more_does_not() {
    let token_with_pad = |pad: usize| {
        let payload = format!(
            r#"{{"sub":"42","iat":1704067200,"exp":1704068100,"jti":"jti-1","pad":"{}"}}"#,
            "x".repeat(pad)
        );
        forge(HEADER, payload.as_bytes())
    };
    let mut pad = 0;
    while token_with_pad(pad + 1).len() <= MAX_TOKEN_LEN {
        pad += 1;
    }
    let largest = token_with_pad(pad);
    assert!(
        keys().verify(&largest, t0()).is_ok(),
        "{} bytes",
        largest.len()
    );
    let over = token_with_pad(pad + 1);
    assert!(over.len() > MAX_TOKEN_LEN);
    assert_eq!(kind(&over), ErrorKind::Malformed);
}

#[test]
fn expiry_and_not_before_boundaries_with_and_without_leeway() {
    let keys = keys();
    let nbf = t0() + Duration::minutes(1);
    let token = keys.sign(&claims().with_not_before(nbf)).unwrap();
    let exp = t0() + Duration::minutes(15);
    let second = Duration::seconds(1);

    assert_eq!(
        keys.verify(&token, nbf - second).unwrap_err().kind(),
        ErrorKind::NotYetValid
    );
    assert!(keys.verify(&token, nbf).is_ok());
    assert!(keys.verify(&token, exp - second).is_ok());
    // Sub-second precision is dropped: 14:59.999 is still second 14:59.
    assert!(keys.verify(&token, exp - Duration::milliseconds(1)).is_ok());
    assert_eq!(
        keys.verify(&token, exp).unwrap_err().kind(),
        ErrorKind::Expired
    );

    let lenient = keys.with_leeway(30);
    assert!(lenient.verify(&token, nbf - Duration::seconds(30)).is_ok());
    assert_eq!(
        lenient
            .verify(&token, nbf - Duration::seconds(31))
            .unwrap_err()
            .kind(),
        ErrorKind::NotYetValid
    );
    assert!(lenient.verify(&token, exp + Duration::seconds(29)).is_ok());
    assert_eq!(
        lenient
            .verify(&token, exp + Duration::seconds(30))
            .unwrap_err()
            .kind(),
        ErrorKind::Expired
    );
}

#[test]
fn maximal_leeway_and_extreme_dates_do_not_overflow() {
    let keys = keys().with_leeway(u32::MAX);
    let far = forge(
        HEADER,
        br#"{"sub":"4","iat":-8334601228800,"exp":8210266876799,"nbf":-8334601228800,"jti":"j"}"#,
    );
    assert!(keys.verify(&far, t0()).is_ok());
    assert!(
        keys.verify(&far, chrono::DateTime::<chrono::Utc>::MAX_UTC)
            .is_ok()
    );
    assert!(
        keys.verify(&far, chrono::DateTime::<chrono::Utc>::MIN_UTC)
            .is_ok()
    );
    // An iat of 0 lies some 262,000 years after MIN_UTC, beyond even this leeway.
    let iat_zero = forge(
        HEADER,
        br#"{"sub":"4","iat":0,"exp":8210266876799,"jti":"j"}"#,
    );
    assert_eq!(
        keys.verify(&iat_zero, chrono::DateTime::<chrono::Utc>::MIN_UTC)
            .unwrap_err()
            .kind(),
        ErrorKind::NotYetValid
    );
}

#[test]
fn sign_refuses_what_verify_would_refuse() {
    let keys = keys();
    let mut shadowing = claims();
    shadowing
        .extra
        .insert("exp".into(), serde_json::json!(99_999_999_999_i64));
    assert_eq!(
        keys.sign(&shadowing).unwrap_err().kind(),
        ErrorKind::Malformed
    );

    let mut out_of_range = claims();
    out_of_range.exp = i64::MAX;
    assert_eq!(
        keys.sign(&out_of_range).unwrap_err().kind(),
        ErrorKind::Malformed
    );

    let mut oversized = claims();
    oversized
        .extra
        .insert("pad".into(), "x".repeat(MAX_TOKEN_LEN).into());
    assert_eq!(
        keys.sign(&oversized).unwrap_err().kind(),
        ErrorKind::Malformed
    );
}

#[test]
fn issued_header_is_exactly_the_documented_one() {
    let keys = KeySet::new(Key::new("a \"quoted\" kid", Secret::new(SECRET)));
    let token = keys.sign(&claims()).unwrap();
    let header = token.split('.').next().unwrap();
    assert_eq!(
        header,
        b64(br#"{"alg":"HS256","typ":"JWT","kid":"a \"quoted\" kid"}"#)
    );
    assert_eq!(keys.verify(&token, t0()).unwrap(), claims());
}

#[test]
fn extra_claims_and_unicode_round_trip() {
    let mut claims = Claims::new("Zoë 🦀 \u{0}", "jti-ü", t0(), Duration::minutes(5));
    claims.extra.insert(
        "roles".into(),
        serde_json::json!(["admin", {"scope": [1, null, true]}]),
    );
    let token = keys().sign(&claims).unwrap();
    assert_eq!(keys().verify(&token, t0()).unwrap(), claims);
}

#[test]
fn decode_unverified_shows_header_and_claims_but_no_garbage() {
    let token = keys().sign(&claims()).unwrap();
    let (header, body) = decode_unverified(&token).unwrap();
    assert_eq!(
        header,
        serde_json::json!({"alg":"HS256","typ":"JWT","kid":"k1"})
    );
    assert_eq!(body, serde_json::to_value(claims()).unwrap());

    let unsigned = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(PAYLOAD));
    assert_eq!(decode_unverified(&unsigned).unwrap().0["alg"], "none");

    for bad in [
        String::new(),
        format!("{token}.x"),
        forge(br#"{"alg":"HS256","alg":"none"}"#, PAYLOAD),
        forge(HEADER, b"[1]"),
        sign_segments(&non_canonical(&b64(HEADER)), &b64(PAYLOAD), SECRET),
        "a".repeat(MAX_TOKEN_LEN + 1),
    ] {
        assert_eq!(
            decode_unverified(&bad).unwrap_err().kind(),
            ErrorKind::Malformed,
            "{bad:?}"
        );
    }
}

/// A correctly signed token issued at `iat`, valid for 15 minutes from then.
fn issued_at(iat: i64) -> String {
    let payload = format!(
        r#"{{"sub":"42","iat":{iat},"exp":{},"jti":"jti-1"}}"#,
        iat + 900
    );
    forge(HEADER, payload.as_bytes())
}

#[test]
fn a_future_iat_is_not_yet_valid() {
    let keys = keys();
    let now = t0().timestamp();
    for iat in [now + 1, now + 60, now + 100 * 365 * 86_400] {
        assert_eq!(
            keys.verify(&issued_at(iat), t0()).unwrap_err().kind(),
            ErrorKind::NotYetValid,
            "iat {iat}"
        );
    }
    assert!(keys.verify(&issued_at(now), t0()).is_ok());
    assert!(keys.verify(&issued_at(now - 1), t0()).is_ok());
    // Sub-second precision is dropped: 0.999 s before the second is still too early.
    assert_eq!(
        keys.verify(&issued_at(now), t0() - Duration::milliseconds(1))
            .unwrap_err()
            .kind(),
        ErrorKind::NotYetValid
    );

    // Claims issued by this crate with a clock ahead of the verifier's are refused too.
    let ahead = keys
        .sign(&Claims::new(
            "42",
            "j",
            t0() + Duration::minutes(1),
            Duration::minutes(15),
        ))
        .unwrap();
    assert_eq!(
        keys.verify(&ahead, t0()).unwrap_err().kind(),
        ErrorKind::NotYetValid
    );
    assert!(keys.verify(&ahead, t0() + Duration::minutes(1)).is_ok());
}

#[test]
fn the_leeway_widens_the_iat_check_like_nbf() {
    let keys = keys().with_leeway(30);
    let now = t0().timestamp();
    assert!(keys.verify(&issued_at(now + 30), t0()).is_ok());
    assert_eq!(
        keys.verify(&issued_at(now + 31), t0()).unwrap_err().kind(),
        ErrorKind::NotYetValid
    );
}

#[test]
fn crit_is_refused_whatever_its_value_or_spelling() {
    for crit in [
        r#""crit":["b64"],"b64":false"#,
        r#""crit":["exp"]"#,
        r#""crit":[]"#,
        r#""crit":null"#,
        r#""crit":"b64""#,
        r#""crit":{"b64":false}"#,
        r#""\u0063rit":["b64"]"#,
    ] {
        for header in [
            format!(r#"{{"alg":"HS256","kid":"k1",{crit}}}"#),
            format!(r#"{{{crit},"alg":"HS256","typ":"JWT","kid":"k1"}}"#),
            format!(r#"{{"alg":"HS256",{crit}}}"#),
        ] {
            assert_eq!(
                kind(&with_header(&header)),
                ErrorKind::Malformed,
                "{header}"
            );
        }
    }
    // Only the exact name: other fields are ignored.
    let token = with_header(r#"{"alg":"HS256","kid":"k1","critical":true,"Crit":1}"#);
    assert!(keys().verify(&token, t0()).is_ok());
}
