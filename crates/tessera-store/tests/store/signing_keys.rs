//! The signing-key lifecycle over a real store, on every backend: first keys, rotation on
//! schedule and by hand, removal of retired keys, sealing — and racing processes, of
//! which exactly one makes each key.

use std::sync::{Arc, Barrier};

use chrono::{DateTime, Duration, DurationRound, TimeDelta, Utc};
use tessera_domain::{
    Error, KeyPolicy, KeyState, RotationRefusal, SigningKeyRepository, SigningKeys,
    StoredSigningKey,
};
use tessera_store::Database;
use tessera_token::{Algorithm, Claims, Key, KeySet, Secret};

const SECRET: &str = "a configured secret of 32 bytes!";

fn now() -> DateTime<Utc> {
    // Whole microseconds: every backend stores at least that precision.
    Utc::now()
        .duration_trunc(TimeDelta::microseconds(1))
        .expect("truncates")
}

fn policy(algorithm: Algorithm, rotation: Option<Duration>) -> KeyPolicy {
    KeyPolicy {
        algorithm,
        rotation,
        token_ttl: Duration::minutes(10),
        sync_interval: Duration::seconds(2),
    }
}

fn configured(secret: &str) -> KeySet {
    KeySet::new(Key::new("configured", Secret::new(secret)))
}

fn keys(db: &Database, algorithm: Algorithm, rotation: Option<Duration>) -> SigningKeys {
    SigningKeys::new(
        Arc::new(db.clone()),
        policy(algorithm, rotation),
        configured(SECRET),
    )
}

fn states(db: &Database) -> Vec<(i64, KeyState)> {
    db.signing_keys()
        .unwrap()
        .iter()
        .map(|key| (key.generation, key.state()))
        .collect()
}

fn token(keys: &KeySet, at: DateTime<Utc>) -> String {
    keys.sign(&Claims::new("1", "jti", at, Duration::minutes(10)).with_sid("s"))
        .unwrap()
}

fn the_first_start_makes_an_active_and_a_next_key(db: &Database) {
    let at = now();
    let set = keys(db, Algorithm::EdDSA, None)
        .refresh(at)
        .unwrap()
        .unwrap();
    assert_eq!(
        states(db),
        [(1, KeyState::Active), (2, KeyState::Next)],
        "one key signs, its successor is published"
    );
    let stored = db.signing_keys().unwrap();
    assert_eq!(set.signing_key_id(), Some(stored[0].kid.as_str()));
    assert_eq!(set.signing_algorithm(), Some(Algorithm::EdDSA));
    let published: Vec<_> = set.jwks().keys.into_iter().filter_map(|k| k.kid).collect();
    assert!(published.contains(&stored[0].kid) && published.contains(&stored[1].kid));
    assert!(
        !stored[0].sealed_private.is_empty() && !stored[0].public_jwk.contains("\"d\""),
        "the private part is only stored sealed"
    );
    // Unchanged keys: nothing rebuilt.
    assert!(keys_again(db, at).is_some(), "a new process builds its set");
}

fn keys_again(db: &Database, at: DateTime<Utc>) -> Option<KeySet> {
    keys(db, Algorithm::EdDSA, None).refresh(at).unwrap()
}

fn an_unchanged_store_returns_no_new_key_set(db: &Database) {
    let at = now();
    let signing = keys(db, Algorithm::ES256, None);
    assert!(signing.refresh(at).unwrap().is_some());
    assert!(
        signing
            .refresh(at + Duration::seconds(1))
            .unwrap()
            .is_none()
    );
}

fn hs256_stores_no_keys(db: &Database) {
    let set = keys(db, Algorithm::HS256, Some(Duration::seconds(10)))
        .refresh(now())
        .unwrap()
        .unwrap();
    assert!(db.signing_keys().unwrap().is_empty());
    assert_eq!(set.signing_key_id(), Some("configured"));
    assert!(set.jwks().keys.is_empty(), "a secret is never published");
}

/// Four processes start at once on an empty store: one set of first keys.
fn racing_first_starts_make_one_set_of_keys(db: &Database) {
    let at = now();
    let barrier = Barrier::new(4);
    let signing: Vec<Option<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let keys = keys(db, Algorithm::EdDSA, None);
                    barrier.wait();
                    let set = keys.refresh(at).unwrap().unwrap();
                    set.signing_key_id().map(str::to_owned)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(states(db), [(1, KeyState::Active), (2, KeyState::Next)]);
    let active = &db.signing_keys().unwrap()[0].kid;
    assert!(
        signing
            .iter()
            .all(|kid| kid.as_deref() == Some(active.as_str())),
        "every process signs with the one active key: {signing:?}"
    );
}

/// Four processes find a rotation due at once: it happens once.
fn racing_scheduled_rotations_rotate_once(db: &Database) {
    let start = now();
    let period = Duration::seconds(30);
    keys(db, Algorithm::EdDSA, Some(period))
        .refresh(start)
        .unwrap();
    let first = db.signing_keys().unwrap();
    let due = start + period;
    let barrier = Barrier::new(4);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let keys = keys(db, Algorithm::EdDSA, Some(period));
                barrier.wait();
                keys.refresh(due).unwrap();
            });
        }
    });
    assert_eq!(
        states(db),
        [
            (1, KeyState::Retired),
            (2, KeyState::Active),
            (3, KeyState::Next)
        ]
    );
    let after = db.signing_keys().unwrap();
    assert_eq!(after[1].kid, first[1].kid, "the published next key signs");
    assert_eq!(
        after[0].retired_at, after[1].activated_at,
        "one transaction"
    );
    assert_eq!(
        after[0].remove_after,
        Some(due + policy(Algorithm::EdDSA, None).retired_for())
    );
}

/// Before the period ends nothing rotates; a token signed before the rotation verifies
/// after it, and the new active key was published before it signed.
fn scheduled_rotation_keeps_every_token_verifiable(db: &Database) {
    let start = now();
    let period = Duration::seconds(30);
    let signing = keys(db, Algorithm::ES256, Some(period));
    let before = signing.refresh(start).unwrap().unwrap();
    assert!(
        signing
            .refresh(start + period - Duration::seconds(1))
            .unwrap()
            .is_none()
    );
    let old_token = token(&before, start);
    let after = signing.refresh(start + period).unwrap().unwrap();
    let new_kid = after.signing_key_id().unwrap().to_owned();
    assert_ne!(Some(new_kid.as_str()), before.signing_key_id());
    assert!(
        before
            .jwks()
            .keys
            .iter()
            .any(|k| k.kid.as_deref() == Some(&new_kid)),
        "the key that signs now was in the JWKS before"
    );
    assert!(after.verify(&old_token, start + period).is_ok());
    let new_token = token(&after, start + period);
    assert!(before.verify(&new_token, start + period).is_ok());
}

fn rotation_by_hand_waits_for_the_next_key_to_be_published(db: &Database) {
    let start = now();
    let signing = keys(db, Algorithm::EdDSA, None);
    signing.refresh(start).unwrap();
    let lead = signing.policy().publish_lead();
    match signing.rotate(start + Duration::seconds(1), false) {
        Err(Error::RotationRefused(RotationRefusal::NextTooNew { ready, .. })) => {
            assert_eq!(ready, start + lead);
        }
        other => panic!("a next key younger than the JWKS cache lifetime: {other:?}"),
    }
    assert_eq!(states(db), [(1, KeyState::Active), (2, KeyState::Next)]);
    signing.rotate(start + lead, false).unwrap();
    assert_eq!(
        states(db),
        [
            (1, KeyState::Retired),
            (2, KeyState::Active),
            (3, KeyState::Next)
        ]
    );
    signing.rotate(start + lead, true).unwrap();
    assert_eq!(states(db).last(), Some(&(4, KeyState::Next)), "forced");
    let hs256 = keys(db, Algorithm::HS256, None);
    assert!(matches!(
        hs256.rotate(start, true),
        Err(Error::RotationRefused(RotationRefusal::Symmetric))
    ));
}

fn retired_keys_leave_once_their_tokens_have_expired(db: &Database) {
    let start = now();
    let signing = keys(db, Algorithm::EdDSA, None);
    let first = signing.refresh(start).unwrap().unwrap();
    let retired_kid = first.signing_key_id().unwrap().to_owned();
    let at = start + Duration::hours(1);
    signing.rotate(at, false).unwrap();
    let removal = at + signing.policy().retired_for();
    let still = signing.refresh(removal).unwrap().unwrap();
    assert!(still.keys().any(|key| key.id() == retired_kid));
    let gone = signing
        .refresh(removal + Duration::seconds(1))
        .unwrap()
        .unwrap();
    assert!(!gone.keys().any(|key| key.id() == retired_kid));
    assert!(
        !gone
            .jwks()
            .keys
            .iter()
            .any(|k| k.kid.as_deref() == Some(&retired_kid))
    );
    assert_eq!(states(db), [(2, KeyState::Active), (3, KeyState::Next)]);
}

/// The private keys open only with a configured secret; the old secret kept after a new
/// one in `secret_keys` still opens them.
fn sealed_keys_open_only_with_a_configured_secret(db: &Database) {
    keys(db, Algorithm::EdDSA, None).refresh(now()).unwrap();
    let other = "another configured secret, 32 b!";
    let without = SigningKeys::new(
        Arc::new(db.clone()),
        policy(Algorithm::EdDSA, None),
        configured(other),
    );
    let error = without.refresh(now()).unwrap_err().to_string();
    assert!(
        error.contains("sealed under a secret that is not configured"),
        "{error}"
    );
    assert!(!error.contains(SECRET) && !error.contains(other));
    let both = SigningKeys::new(
        Arc::new(db.clone()),
        policy(Algorithm::EdDSA, None),
        KeySet::new(Key::new("new", Secret::new(other)))
            .with_verification_key(Key::new("old", Secret::new(SECRET))),
    );
    assert!(both.refresh(now()).unwrap().is_some());
}

/// A stored row whose public key was swapped for another's cannot sign under that id: the
/// sealed private part is bound to its kid.
fn a_sealed_key_moved_to_another_row_does_not_open(db: &Database) {
    let at = now();
    keys(db, Algorithm::EdDSA, None).refresh(at).unwrap();
    let stored = db.signing_keys().unwrap();
    let forged = StoredSigningKey {
        kid: "forged".into(),
        generation: 10,
        activated_at: Some(at + Duration::seconds(1)),
        ..stored[0].clone()
    };
    // The forged row is the newest active key: the one that would sign.
    assert!(db.insert_signing_keys(&[forged]).unwrap());
    let error = keys(db, Algorithm::EdDSA, None)
        .refresh(at + Duration::seconds(2))
        .unwrap_err()
        .to_string();
    assert!(error.contains("forged"), "{error}");
}

backend_tests!(with_database:
    the_first_start_makes_an_active_and_a_next_key,
    an_unchanged_store_returns_no_new_key_set,
    hs256_stores_no_keys,
    racing_first_starts_make_one_set_of_keys,
    racing_scheduled_rotations_rotate_once,
    scheduled_rotation_keeps_every_token_verifiable,
    rotation_by_hand_waits_for_the_next_key_to_be_published,
    retired_keys_leave_once_their_tokens_have_expired,
    sealed_keys_open_only_with_a_configured_secret,
    a_sealed_key_moved_to_another_row_does_not_open,
);
