//! The refresh reuse interval over every backend, with the clock in the test's hands: a
//! rotated-out secret leads to the session's current one while the interval lasts, and
//! ends the session after it.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tessera_domain::{
    NewUser, RefreshRefusal, RefreshToken, RevokedSessions, SessionId, SessionKeys, SessionOrigin,
    SessionPolicy, Sessions, UserId, UserRepository, Username,
};
use tessera_store::Database;
use tessera_token::Secret;

const SECRET: &str = "a secret of thirty-two bytes....";

fn sessions(db: &Database, reuse_interval: Duration) -> Sessions {
    sessions_under(db, reuse_interval, SECRET)
}

/// Sessions whose keys come from `secret`.
fn sessions_under(db: &Database, reuse_interval: Duration, secret: &str) -> Sessions {
    Sessions::new(
        Arc::new(db.clone()),
        SessionPolicy {
            reuse_interval,
            ..SessionPolicy::default()
        },
        RevokedSessions::new(Duration::minutes(10)),
        SessionKeys::derive(&Secret::new(secret)).unwrap(),
    )
}

fn user(db: &Database) -> UserId {
    db.insert_user(&NewUser {
        username: &Username::parse("reuse").unwrap(),
        password_hash: "$2b$04$unused",
        created_at: Utc::now(),
    })
    .unwrap()
    .id
}

fn ended(sessions: &Sessions, id: &SessionId) -> bool {
    sessions.find(id).unwrap().unwrap().revoked_at.is_some()
}

fn refreshed(sessions: &Sessions, token: &RefreshToken, at: DateTime<Utc>) -> RefreshToken {
    sessions
        .refresh(token.expose(), at)
        .unwrap()
        .expect("the refresh is taken")
        .1
}

fn within_the_interval_a_spent_token_leads_to_the_current_one(db: &Database) {
    let sessions = sessions(db, Duration::seconds(10));
    let t0 = Utc::now();
    let (session, first) = sessions
        .start(user(db), t0, SessionOrigin::default())
        .unwrap();
    let second = refreshed(&sessions, &first, t0 + Duration::seconds(1));
    assert_eq!(
        refreshed(&sessions, &first, t0 + Duration::seconds(5)),
        second
    );
    let third = refreshed(&sessions, &second, t0 + Duration::seconds(6));
    assert_ne!(third, second);
    // Two rotations on, the first still finds the newest, and rotates nothing.
    assert_eq!(
        refreshed(&sessions, &first, t0 + Duration::seconds(9)),
        third
    );
    assert_eq!(
        refreshed(&sessions, &second, t0 + Duration::seconds(9)),
        third
    );
    assert!(!ended(&sessions, &session.id));
}

fn after_the_interval_a_spent_token_ends_the_session(db: &Database) {
    let sessions = sessions(db, Duration::seconds(10));
    let t0 = Utc::now();
    let (session, first) = sessions
        .start(user(db), t0, SessionOrigin::default())
        .unwrap();
    let second = refreshed(&sessions, &first, t0);
    let late = sessions
        .refresh(first.expose(), t0 + Duration::seconds(11))
        .unwrap();
    assert_eq!(late.err(), Some(RefreshRefusal::Reused));
    assert!(ended(&sessions, &session.id));
    let after = sessions
        .refresh(second.expose(), t0 + Duration::seconds(12))
        .unwrap();
    assert_eq!(after.err(), Some(RefreshRefusal::Revoked));
}

fn a_zero_interval_ends_the_session_on_any_reuse(db: &Database) {
    let sessions = sessions(db, Duration::zero());
    let t0 = Utc::now();
    let (_, first) = sessions
        .start(user(db), t0, SessionOrigin::default())
        .unwrap();
    refreshed(&sessions, &first, t0);
    let again = sessions.refresh(first.expose(), t0).unwrap();
    assert_eq!(again.err(), Some(RefreshRefusal::Reused));
}

fn another_deployments_keys_lead_nowhere_and_end_nothing(db: &Database) {
    let sessions = sessions(db, Duration::seconds(10));
    let other = sessions_under(
        db,
        Duration::seconds(10),
        "another secret, thirty-two bytes",
    );
    let t0 = Utc::now();
    let (session, first) = sessions
        .start(user(db), t0, SessionOrigin::default())
        .unwrap();
    let second = refreshed(&sessions, &first, t0);
    // The configured secret changed between the rotation and the retry.
    let retried = other
        .refresh(first.expose(), t0 + Duration::seconds(2))
        .unwrap();
    assert_eq!(retried.err(), Some(RefreshRefusal::Unknown));
    assert!(!ended(&sessions, &session.id));
    refreshed(&sessions, &second, t0 + Duration::seconds(3));
}

backend_tests!(with_database:
    within_the_interval_a_spent_token_leads_to_the_current_one,
    after_the_interval_a_spent_token_ends_the_session,
    a_zero_interval_ends_the_session_on_any_reuse,
    another_deployments_keys_lead_nowhere_and_end_nothing,
);
