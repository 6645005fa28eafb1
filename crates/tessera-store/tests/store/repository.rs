//! The repository suite, run against every backend: SQLite always, PostgreSQL and
//! MariaDB/MySQL when built with their features and their servers answer (required in CI).

use std::sync::{Arc, Barrier};
use std::time::Duration;

use chrono::{DurationRound, TimeDelta, Utc};
use tessera_domain::{
    NewUser, Session, SessionId, SessionOrigin, SessionRepository, StoreError, UserId,
    UserRepository, Username,
};
use tessera_store::testing::TestDatabase;
use tessera_store::{Backend, Database, PoolOptions};

use crate::open;

fn insert(db: &Database, name: &str) -> Result<tessera_domain::User, StoreError> {
    let username = Username::parse(name).expect("valid test username");
    // Whole microseconds: every backend stores at least that precision.
    let now = Utc::now()
        .duration_trunc(TimeDelta::microseconds(1))
        .expect("truncates");
    db.insert_user(&NewUser {
        username: &username,
        password_hash: "$2b$04$hash",
        created_at: now,
    })
}

fn inserted_user_reads_back_by_name_and_id(db: &Database) {
    let created = insert(db, "Alice").unwrap();
    assert_eq!(created.username, "Alice");
    let by_name = db
        .find_by_username(&Username::parse("Alice").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(by_name, created);
    let by_id = db.find_by_id(created.id).unwrap().unwrap();
    assert_eq!(by_id, created);
    assert_eq!(by_id.created_at, by_id.updated_at);
}

fn lookup_by_name_ignores_case(db: &Database) {
    let created = insert(db, "MixedCase").unwrap();
    let found = db
        .find_by_username(&Username::parse("mixedcase").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(found.id, created.id);
    assert_eq!(
        found.username, "MixedCase",
        "the registered spelling is kept"
    );
}

fn names_differing_only_in_case_conflict(db: &Database) {
    insert(db, "bob").unwrap();
    assert_eq!(insert(db, "BOB").unwrap_err(), StoreError::UsernameTaken);
    assert_eq!(insert(db, "bob").unwrap_err(), StoreError::UsernameTaken);
    assert_eq!(db.list_users().unwrap().len(), 1);
}

fn missing_users_are_none(db: &Database) {
    assert!(
        db.find_by_username(&Username::parse("ghost").unwrap())
            .unwrap()
            .is_none()
    );
    assert!(db.find_by_id(UserId(12345)).unwrap().is_none());
    assert!(db.find_by_id(UserId(i64::MAX)).unwrap().is_none());
    assert!(!db.delete_user(UserId(12345)).unwrap());
    assert!(
        !db.update_password_hash(UserId(12345), "x", Utc::now(), None)
            .unwrap()
    );
}

fn list_is_ordered_by_id(db: &Database) {
    for name in ["carol", "alice", "bob"] {
        insert(db, name).unwrap();
    }
    let names: Vec<String> = db
        .list_users()
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["carol", "alice", "bob"]);
}

fn password_hash_updates(db: &Database) {
    let user = insert(db, "dave").unwrap();
    let later = user.updated_at + TimeDelta::seconds(5);
    let session = |id: &str| Session {
        id: SessionId(id.to_owned()),
        user_id: user.id,
        created_at: user.created_at,
        last_used_at: user.created_at,
        expires_at: later + TimeDelta::days(1),
        revoked_at: None,
        origin: SessionOrigin::default(),
    };
    db.insert_session(&session("kept"), "h1").unwrap();
    db.insert_session(&session("other"), "h2").unwrap();
    assert_eq!(user.tokens_not_before, None);
    assert!(
        db.update_password_hash(
            user.id,
            "$bcrypt-sha256$new",
            later,
            Some(&SessionId("kept".into()))
        )
        .unwrap()
    );
    let reread = db.find_by_id(user.id).unwrap().unwrap();
    assert_eq!(reread.password_hash, "$bcrypt-sha256$new");
    assert_eq!(reread.updated_at, later);
    assert_eq!(reread.created_at, user.created_at);
    assert_eq!(
        reread.tokens_not_before,
        Some(later),
        "older legacy tokens end"
    );
    let live: Vec<String> = db
        .live_sessions(user.id, later)
        .unwrap()
        .into_iter()
        .map(|s| s.id.0)
        .collect();
    assert_eq!(
        live,
        ["kept"],
        "every other session ended in the same change"
    );
    let even_later = later + TimeDelta::seconds(1);
    assert!(db.set_tokens_not_before(user.id, even_later).unwrap());
    assert_eq!(
        db.find_by_id(user.id).unwrap().unwrap().tokens_not_before,
        Some(even_later)
    );
}

fn rotated_out_secrets_are_remembered_as_spent(db: &Database) {
    let user = insert(db, "erin").unwrap();
    let now = user.created_at;
    let id = SessionId("s1".to_owned());
    db.insert_session(
        &Session {
            id: id.clone(),
            user_id: user.id,
            created_at: now,
            last_used_at: now,
            expires_at: now + TimeDelta::days(1),
            revoked_at: None,
            origin: SessionOrigin::default(),
        },
        "first",
    )
    .unwrap();
    assert!(db.spent_refresh_hash(&id, "first").unwrap().is_none());
    let expires = now + TimeDelta::days(1);
    assert!(
        db.rotate_refresh_hash(&id, "first", "second", now, expires)
            .unwrap()
    );
    assert!(
        !db.rotate_refresh_hash(&id, "first", "third", now, expires)
            .unwrap(),
        "a spent secret cannot rotate again"
    );
    let rotated_at = db.spent_refresh_hash(&id, "first").unwrap();
    assert!(
        rotated_at.is_some_and(|at| (at - now).num_milliseconds().abs() < 1),
        "spent, with when: {rotated_at:?}"
    );
    assert!(
        db.spent_refresh_hash(&id, "second").unwrap().is_none(),
        "current, not spent"
    );
    assert!(
        db.spent_refresh_hash(&id, "never issued")
            .unwrap()
            .is_none()
    );
    assert!(
        db.spent_refresh_hash(&SessionId("s2".into()), "first")
            .unwrap()
            .is_none(),
        "spent for its own session only"
    );
    db.delete_expired_sessions(expires + TimeDelta::seconds(1))
        .unwrap();
    assert!(
        db.spent_refresh_hash(&id, "first").unwrap().is_none(),
        "gone with the session"
    );
}

fn deleted_user_is_gone_and_id_not_reused(db: &Database) {
    let first = insert(db, "erin").unwrap();
    assert!(db.delete_user(first.id).unwrap());
    assert!(db.find_by_id(first.id).unwrap().is_none());
    let second = insert(db, "erin").unwrap();
    assert_ne!(
        second.id, first.id,
        "ids are never reused: old tokens name them"
    );
}

fn racing_inserts_of_one_name_yield_one_user(db: &Database) {
    const RACERS: usize = 8;
    let barrier = Arc::new(Barrier::new(RACERS));
    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RACERS)
            .map(|i| {
                let barrier = Arc::clone(&barrier);
                scope.spawn(move || {
                    barrier.wait();
                    insert(db, if i % 2 == 0 { "racer" } else { "RACER" })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = outcomes.iter().filter(|o| o.is_ok()).count();
    let taken = outcomes
        .iter()
        .filter(|o| matches!(o, Err(StoreError::UsernameTaken)))
        .count();
    assert_eq!((created, taken), (1, RACERS - 1), "{outcomes:?}");
    assert_eq!(db.list_users().unwrap().len(), 1);
}

/// Sign-ins racing for one user, as a sign-in does them: a new session, then the sessions
/// beyond the cap ended (a transaction that reads, then writes). Every one succeeds: on
/// SQLite a transaction that reads first and then meets another writer used to fail at
/// once with "database is locked" instead of waiting (503 for the sign-in).
fn racing_sign_ins_of_one_user_all_succeed(db: &Database) {
    const RACERS: usize = 8;
    const ROUNDS: usize = 25;
    let user = insert(db, "busy").unwrap();
    let barrier = Arc::new(Barrier::new(RACERS));
    let failures: Vec<StoreError> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RACERS)
            .map(|racer| {
                let barrier = Arc::clone(&barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let mut failures = Vec::new();
                    for round in 0..ROUNDS {
                        let now = Utc::now();
                        let session = Session {
                            id: SessionId(format!("s{racer}-{round}")),
                            user_id: user.id,
                            created_at: now,
                            last_used_at: now,
                            expires_at: now + TimeDelta::days(1),
                            revoked_at: None,
                            origin: SessionOrigin::default(),
                        };
                        let outcome = db
                            .insert_session(&session, "hash")
                            .and_then(|()| db.end_sessions_beyond(user.id, 5, now).map(drop));
                        failures.extend(outcome.err());
                    }
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} failed: {failures:?}",
        failures.len()
    );
    let live = db.live_sessions(user.id, Utc::now()).unwrap();
    assert!(live.len() <= 5 + RACERS, "{}", live.len());
}

fn ping_answers(db: &Database) {
    db.ping().unwrap();
}

fn unicode_names_round_trip(db: &Database) {
    let created = insert(db, "Zoë 张伟").unwrap();
    let found = db
        .find_by_username(&Username::parse("ZOË 张伟").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(found.id, created.id);
    assert_eq!(found.username, "Zoë 张伟");
    // Accents are not case: on MySQL a *_ci collation would wrongly merge these.
    insert(db, "Zoe 张伟").unwrap();
}

/// What a sign-in recorded of its client reads back as written, at the domain's bound: 256
/// characters of four bytes each fit every backend's column (MariaDB's in utf8mb4).
fn a_sessions_origin_reads_back(db: &Database) {
    let user = insert(db, "frank").unwrap();
    let now = user.created_at;
    let session = |id: &str, origin: SessionOrigin| Session {
        id: SessionId(id.to_owned()),
        user_id: user.id,
        created_at: now,
        last_used_at: now,
        expires_at: now + TimeDelta::days(1),
        revoked_at: None,
        origin,
    };
    let widest = SessionOrigin {
        user_agent: Some("😀".repeat(tessera_api::policy::USER_AGENT_MAX_CHARS)),
        address: Some("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".to_owned()),
    };
    let browser = SessionOrigin {
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Zoë/1.0".to_owned()),
        address: Some("203.0.113.9".to_owned()),
    };
    db.insert_session(&session("widest", widest.clone()), "h1")
        .unwrap();
    db.insert_session(&session("browser", browser.clone()), "h2")
        .unwrap();
    db.insert_session(&session("unknown", SessionOrigin::default()), "h3")
        .unwrap();
    for (id, origin) in [
        ("widest", &widest),
        ("browser", &browser),
        ("unknown", &SessionOrigin::default()),
    ] {
        let found = db.find_session(&SessionId(id.to_owned())).unwrap().unwrap();
        assert_eq!(&found.session.origin, origin, "{id}");
    }
    let mut listed: Vec<(String, SessionOrigin)> = db
        .live_sessions(user.id, now)
        .unwrap()
        .into_iter()
        .map(|s| (s.id.0, s.origin))
        .collect();
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        listed,
        [
            ("browser".to_owned(), browser),
            ("unknown".to_owned(), SessionOrigin::default()),
            ("widest".to_owned(), widest.clone()),
        ]
    );
    // A refresh rotates the secret and leaves the origin alone.
    let later = now + TimeDelta::seconds(1);
    assert!(
        db.rotate_refresh_hash(
            &SessionId("widest".to_owned()),
            "h1",
            "h1b",
            later,
            now + TimeDelta::days(1)
        )
        .unwrap()
    );
    let found = db
        .find_session(&SessionId("widest".to_owned()))
        .unwrap()
        .unwrap();
    assert_eq!(found.session.origin, widest);
}

backend_tests!(with_database:
    inserted_user_reads_back_by_name_and_id,
    lookup_by_name_ignores_case,
    names_differing_only_in_case_conflict,
    missing_users_are_none,
    list_is_ordered_by_id,
    password_hash_updates,
    rotated_out_secrets_are_remembered_as_spent,
    deleted_user_is_gone_and_id_not_reused,
    racing_inserts_of_one_name_yield_one_user,
    racing_sign_ins_of_one_user_all_succeed,
    ping_answers,
    unicode_names_round_trip,
    a_sessions_origin_reads_back,
);

/// Several processes starting at once each run the migrations; the lock makes all but
/// one find nothing to do, and none fails.
fn concurrent_migrations_are_safe(backend: Backend) {
    let Some(test_db) = TestDatabase::create_unmigrated(backend) else {
        return;
    };
    let barrier = Barrier::new(4);
    let applied: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    tessera_store::run_migrations(test_db.url()).expect("no migration fails")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let migrations = applied.iter().max().copied().unwrap_or(0);
    assert!(migrations > 0, "{applied:?}");
    assert_eq!(
        applied.iter().sum::<usize>(),
        migrations,
        "each migration ran once: {applied:?}"
    );
    open(&test_db).ping().unwrap();
}

#[cfg(feature = "sqlite")]
#[test]
fn concurrent_migrations_are_safe_on_sqlite() {
    concurrent_migrations_are_safe(Backend::Sqlite);
}

#[cfg(feature = "postgres")]
#[test]
fn concurrent_migrations_are_safe_on_postgres() {
    concurrent_migrations_are_safe(Backend::Postgres);
}

#[cfg(feature = "mysql")]
#[test]
fn concurrent_migrations_are_safe_on_mysql() {
    concurrent_migrations_are_safe(Backend::Mysql);
}

#[test]
fn an_unreachable_server_is_unavailable_not_a_hang() {
    // Port 9 on loopback: nothing listens there, so the connection is refused at once.
    let options = PoolOptions {
        max_connections: 1,
        acquire_timeout: Duration::from_millis(300),
    };
    let url = if cfg!(feature = "postgres") {
        "postgres://postgres@127.0.0.1:9/none"
    } else {
        "sqlite:///proc/no-such-dir/tessera.db"
    };
    let db = Database::open(url, &options).unwrap();
    assert!(matches!(db.ping(), Err(StoreError::Unavailable(_))));
    let username = Username::parse("nobody").unwrap();
    assert!(matches!(
        db.find_by_username(&username),
        Err(StoreError::Unavailable(_))
    ));
    let _ = Backend::Sqlite;
}

/// InnoDB breaks a deadlock by ending one of its transactions; a store call ended that way
/// changed nothing and is run again, not answered as an error (a racing sign-in on MariaDB
/// was answered 500 "Deadlock found"). Here the session cap's transaction is made the
/// victim on purpose: an outside transaction holds session `b`, the cap locks `a` and waits
/// for `b`, then the outside transaction asks for `a`. The outside one has written far more,
/// so InnoDB ends the cap's.
#[cfg(feature = "mysql")]
#[test]
fn a_store_call_ended_as_a_deadlock_victim_is_run_again_on_mysql() {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, MysqlConnection, RunQueryDsl};

    let Some(test_db) = TestDatabase::create(Backend::Mysql) else {
        return;
    };
    let db = open(&test_db);
    let user = insert(&db, "victim").unwrap();
    let now = Utc::now();
    for (id, age) in [("a", 3), ("b", 2), ("c", 1)] {
        let at = now - TimeDelta::minutes(age);
        let session = Session {
            id: SessionId(id.to_owned()),
            user_id: user.id,
            created_at: at,
            last_used_at: at,
            expires_at: now + TimeDelta::days(1),
            revoked_at: None,
            origin: SessionOrigin::default(),
        };
        db.insert_session(&session, "hash").unwrap();
    }
    let mut outside = MysqlConnection::establish(test_db.url()).unwrap();
    let weight: Vec<String> = (0..200)
        .map(|i| format!("('weight{i}', 'c', '2099-01-01')"))
        .collect();
    outside
        .batch_execute(&format!(
            "BEGIN; INSERT INTO spent_refresh_secrets (secret_hash, session_id, expires_at) \
             VALUES {}; UPDATE sessions SET last_used_at = last_used_at WHERE id = 'b';",
            weight.join(", ")
        ))
        .unwrap();
    let ended = std::thread::scope(|scope| {
        let cap = scope.spawn(|| db.end_sessions_beyond(user.id, 1, now));
        // Wait until the cap's transaction waits for `b` (it then holds `a`): its UPDATE is
        // running and a row lock is awaited. (MariaDB's `innodb_trx` does not list a
        // transaction that read before it wrote, so the server's counter stands in.)
        let cap_waits = "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
                         WHERE VARIABLE_NAME = 'INNODB_ROW_LOCK_CURRENT_WAITS') > 0 \
                         AND EXISTS (SELECT 1 FROM information_schema.PROCESSLIST \
                         WHERE db = DATABASE() AND id <> CONNECTION_ID() \
                         AND info LIKE 'UPDATE `sessions`%')";
        while !cap.is_finished()
            && !diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(cap_waits))
                .get_result::<bool>(&mut outside)
                .unwrap()
        {
            std::thread::yield_now();
        }
        outside
            .batch_execute(
                "UPDATE sessions SET last_used_at = last_used_at WHERE id = 'a'; COMMIT;",
            )
            .expect("the outside transaction is not the one ended");
        cap.join().unwrap()
    });
    let mut ended = ended.expect("the cap is run again after the deadlock");
    ended.sort();
    assert_eq!(ended, [SessionId("a".into()), SessionId("b".into())]);
}
