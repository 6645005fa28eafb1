//! Key rotation: the first key signs, verification keys keep old tokens valid.

use tessera_token::{ErrorKind, Key, KeySet, Secret, decode_unverified};

use crate::support::*;

fn old_key() -> Key {
    Key::new("2024-01", Secret::new("the old secret, thirty-two bytes"))
}

fn new_key() -> Key {
    Key::new("2024-06", Secret::new("the new secret, thirty-two bytes"))
}

#[test]
fn old_tokens_verify_while_the_old_key_is_kept_and_fail_after_it_is_removed() {
    let old_token = KeySet::new(old_key()).sign(&claims()).unwrap();

    let before = KeySet::new(new_key());
    assert_eq!(
        before.verify(&old_token, t0()).unwrap_err().kind(),
        ErrorKind::UnknownKey
    );

    let during = KeySet::new(new_key()).with_verification_key(old_key());
    assert_eq!(during.verify(&old_token, t0()).unwrap(), claims());

    let after = KeySet::new(new_key());
    assert_eq!(
        after.verify(&old_token, t0()).unwrap_err().kind(),
        ErrorKind::UnknownKey
    );
}

#[test]
fn only_the_first_key_signs() {
    let keys = KeySet::new(new_key()).with_verification_key(old_key());
    let token = keys.sign(&claims()).unwrap();
    assert_eq!(decode_unverified(&token).unwrap().0["kid"], "2024-06");
    assert_eq!(keys.signing_key_id(), Some("2024-06"));
    // A verifier that only knows the old key cannot have been the signer.
    let old_only = KeySet::new(old_key());
    assert_eq!(
        old_only.verify(&token, t0()).unwrap_err().kind(),
        ErrorKind::UnknownKey
    );
}

#[test]
fn a_kid_is_never_checked_against_another_keys_secret() {
    // Claims "2024-06" but was signed with the old secret: no fallback to other keys.
    let forged = sign_segments(
        &b64(br#"{"alg":"HS256","typ":"JWT","kid":"2024-06"}"#),
        &b64(PAYLOAD),
        old_key_secret(),
    );
    let keys = KeySet::new(new_key()).with_verification_key(old_key());
    assert_eq!(
        keys.verify(&forged, t0()).unwrap_err().kind(),
        ErrorKind::BadSignature
    );
}

fn old_key_secret() -> &'static [u8] {
    b"the old secret, thirty-two bytes"
}

#[test]
fn tokens_without_kid_are_tried_against_every_key() {
    let unnamed = sign_segments(&b64(br#"{"alg":"HS256"}"#), &b64(PAYLOAD), old_key_secret());
    let keys = KeySet::new(new_key()).with_verification_key(old_key());
    assert_eq!(keys.verify(&unnamed, t0()).unwrap().sub, "42");

    let without_old = KeySet::new(new_key());
    assert_eq!(
        without_old.verify(&unnamed, t0()).unwrap_err().kind(),
        ErrorKind::BadSignature
    );
}

#[test]
fn keys_sharing_an_id_are_all_tried() {
    let token = KeySet::new(old_key()).sign(&claims()).unwrap();
    let impostor = Key::new("2024-01", Secret::new("a different secret"));
    let keys = KeySet::new(impostor).with_verification_key(old_key());
    assert_eq!(keys.verify(&token, t0()).unwrap(), claims());
}

#[test]
fn secrets_never_show_in_debug_output() {
    let keys = KeySet::new(new_key()).with_verification_key(old_key());
    let debug = format!("{keys:?}");
    assert!(!debug.contains("secret, thirty-two"), "{debug}");
    assert!(debug.contains("Secret(<redacted>)"));
    assert!(debug.contains("2024-01"));
}
