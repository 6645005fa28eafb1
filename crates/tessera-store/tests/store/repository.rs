//! The repository suite, run against every backend: SQLite always, PostgreSQL and
//! MariaDB/MySQL when built with their features and their servers answer (required in CI).

use std::sync::{Arc, Barrier};
use std::time::Duration;

use chrono::{DurationRound, TimeDelta, Utc};
use tessera_domain::{NewUser, StoreError, UserId, UserRepository, Username};
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
        !db.update_password_hash(UserId(12345), "x", Utc::now())
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
    assert!(
        db.update_password_hash(user.id, "$bcrypt-sha256$new", later)
            .unwrap()
    );
    let reread = db.find_by_id(user.id).unwrap().unwrap();
    assert_eq!(reread.password_hash, "$bcrypt-sha256$new");
    assert_eq!(reread.updated_at, later);
    assert_eq!(reread.created_at, user.created_at);
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

backend_tests!(with_database:
    inserted_user_reads_back_by_name_and_id,
    lookup_by_name_ignores_case,
    names_differing_only_in_case_conflict,
    missing_users_are_none,
    list_is_ordered_by_id,
    password_hash_updates,
    deleted_user_is_gone_and_id_not_reused,
    racing_inserts_of_one_name_yield_one_user,
    ping_answers,
    unicode_names_round_trip,
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
