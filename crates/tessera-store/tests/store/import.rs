//! Importing users and reading the Flask tutorial's table, on every backend: SQLite always,
//! PostgreSQL and MariaDB/MySQL when built with their features and their servers answer
//! (required in CI). A fresh database per test.

use chrono::Utc;
use tessera_domain::{
    ImportOutcome, ImportedUser, NewUser, StoreError, UserId, UserRepository, Username,
};
use tessera_store::testing::TestDatabase;
use tessera_store::tutorial::testing::TutorialDatabase;
use tessera_store::tutorial::{SourceError, TutorialUser, read_tutorial_users};
use tessera_store::{Backend, Database};

const HASH_A: &str = "$6$rounds=1000$saltstringsaltst$nXN191qkTCuB18FhSVNLEuVeo3vnUjKoWfZrZQq8zfAVWCF0OoM1/rKAVqSmNx5E4udezOEL78fROp070zqFZ.";
const HASH_B: &str = "$5$rounds=1000$saltstringsaltst$w7bWQ2Z/gtN581UKhVr4sVAsyzC6APuMGxRY0fR8Wg7";

use crate::open;

fn name(raw: &str) -> Username {
    Username::parse(raw).expect("valid test username")
}

fn register(db: &Database, raw: &str) -> tessera_domain::User {
    db.insert_user(&NewUser {
        username: &name(raw),
        password_hash: "$2b$04$native",
        created_at: Utc::now(),
    })
    .expect("inserted")
}

/// Imports `(id, name, hash)` triples.
fn import(
    db: &Database,
    users: &[(Option<i64>, &str, &str)],
    reserve: Option<i64>,
) -> Result<Vec<ImportOutcome>, StoreError> {
    let names: Vec<Username> = users.iter().map(|(_, raw, _)| name(raw)).collect();
    let batch: Vec<ImportedUser<'_>> = users
        .iter()
        .zip(&names)
        .map(|((id, _, hash), username)| ImportedUser {
            id: id.map(UserId),
            username,
            password_hash: hash,
            created_at: Utc::now(),
        })
        .collect();
    db.import_users(&batch, reserve.map(UserId), &mut |_| {})
}

fn free_ids_are_kept_and_taken_ones_renumbered_above_every_old_id(test_db: &TestDatabase) {
    let db = open(test_db);
    let native = register(&db, "native");
    let outcomes = import(
        &db,
        &[
            (Some(native.id.0), "ann", HASH_A),
            (Some(5), "bob", HASH_B),
            (None, "cid", HASH_A),
            (Some(7), "dee", HASH_A),
        ],
        Some(20),
    )
    .unwrap();
    assert_eq!(outcomes[1], ImportOutcome::Imported(UserId(5)));
    assert_eq!(outcomes[3], ImportOutcome::Imported(UserId(7)));
    for renumbered in [outcomes[0], outcomes[2]] {
        let ImportOutcome::Imported(id) = renumbered else {
            panic!("{renumbered:?}");
        };
        assert!(id.0 > 20, "{id} is above every old id");
    }
    let bob = db.find_by_id(UserId(5)).unwrap().unwrap();
    assert_eq!(
        (bob.username.as_str(), bob.password_hash.as_str()),
        ("bob", HASH_B)
    );
    let later = register(&db, "later");
    assert!(
        later.id.0 > 22,
        "later registrations do not collide: {}",
        later.id
    );
}

fn reserved_ids_stay_reserved_even_when_nothing_is_inserted(test_db: &TestDatabase) {
    let db = open(test_db);
    assert_eq!(import(&db, &[], Some(50)).unwrap(), []);
    assert!(register(&db, "later").id.0 > 50);
}

fn a_second_run_changes_nothing(test_db: &TestDatabase) {
    let db = open(test_db);
    let users = [(Some(3), "ann", HASH_A), (None, "Bob", HASH_B)];
    let first = import(&db, &users, Some(3)).unwrap();
    let before = db.list_users().unwrap();
    let second = import(&db, &users, Some(3)).unwrap();
    assert_eq!(
        second,
        first
            .iter()
            .map(|outcome| match outcome {
                ImportOutcome::Imported(id) => ImportOutcome::AlreadyPresent(*id),
                other => panic!("{other:?}"),
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(db.list_users().unwrap(), before);
}

fn the_same_account_is_recognised_after_its_hash_changed(test_db: &TestDatabase) {
    let db = open(test_db);
    import(&db, &[(Some(4), "ann", HASH_A)], None).unwrap();
    assert!(
        db.replace_password_hash(UserId(4), HASH_A, "$2b$04$rehashed", Utc::now())
            .unwrap()
    );
    assert_eq!(
        import(&db, &[(Some(4), "ANN", HASH_A)], None).unwrap(),
        [ImportOutcome::AlreadyPresent(UserId(4))]
    );
}

fn a_name_held_by_another_account_is_reported_not_touched(test_db: &TestDatabase) {
    let db = open(test_db);
    let carol = register(&db, "Carol");
    assert_eq!(
        import(&db, &[(Some(99), "carol", HASH_A)], None).unwrap(),
        [ImportOutcome::UsernameTaken(carol.id)]
    );
    assert_eq!(db.find_by_id(carol.id).unwrap().unwrap(), carol);
    assert!(db.find_by_id(UserId(99)).unwrap().is_none());
}

fn a_failure_leaves_the_target_as_it_was(test_db: &TestDatabase) {
    let db = open(test_db);
    let native = register(&db, "native");
    // Two new users of one name: the second insert violates the unique key, after the
    // first rows were written.
    let result = import(
        &db,
        &[
            (Some(10), "ann", HASH_A),
            (None, "twin", HASH_A),
            (None, "TWIN", HASH_B),
        ],
        None,
    );
    assert_eq!(result.unwrap_err(), StoreError::UsernameTaken);
    assert_eq!(db.list_users().unwrap(), [native]);
}

fn progress_counts_every_user(test_db: &TestDatabase) {
    let db = open(test_db);
    let names: Vec<Username> = (0..25).map(|i| name(&format!("user{i}"))).collect();
    let batch: Vec<ImportedUser<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, username)| ImportedUser {
            id: (i % 2 == 0).then_some(UserId(i as i64 + 1)),
            username,
            password_hash: HASH_A,
            created_at: Utc::now(),
        })
        .collect();
    let mut seen = Vec::new();
    db.import_users(&batch, None, &mut |done| seen.push(done))
        .unwrap();
    assert_eq!(seen, (1..=25).collect::<Vec<_>>());
}

fn password_hash_swaps_only_from_the_expected_value(test_db: &TestDatabase) {
    let db = open(test_db);
    let user = register(&db, "ann");
    assert!(
        !db.replace_password_hash(user.id, "$2b$04$other", "$2b$04$new", Utc::now())
            .unwrap()
    );
    assert_eq!(
        db.find_by_id(user.id).unwrap().unwrap().password_hash,
        "$2b$04$native"
    );
    assert!(
        db.replace_password_hash(user.id, "$2b$04$native", "$2b$04$new", Utc::now())
            .unwrap()
    );
    assert_eq!(
        db.find_by_id(user.id).unwrap().unwrap().password_hash,
        "$2b$04$new"
    );
    assert!(
        !db.replace_password_hash(UserId(424_242), "$2b$04$new", "x", Utc::now())
            .unwrap()
    );
}

fn hashes_are_found_by_exact_prefix(test_db: &TestDatabase) {
    let db = open(test_db);
    register(&db, "native");
    assert_eq!(db.find_password_hash_with_prefix("$6$").unwrap(), None);
    import(&db, &[(None, "ann", HASH_A), (None, "bob", HASH_B)], None).unwrap();
    assert_eq!(
        db.find_password_hash_with_prefix("$6$").unwrap().as_deref(),
        Some(HASH_A)
    );
    assert_eq!(
        db.find_password_hash_with_prefix("$5$").unwrap().as_deref(),
        Some(HASH_B)
    );
    assert_eq!(db.find_password_hash_with_prefix("$5_").unwrap(), None);
}

backend_tests!(with_test_database:
    free_ids_are_kept_and_taken_ones_renumbered_above_every_old_id,
    reserved_ids_stay_reserved_even_when_nothing_is_inserted,
    a_second_run_changes_nothing,
    the_same_account_is_recognised_after_its_hash_changed,
    a_name_held_by_another_account_is_reported_not_touched,
    a_failure_leaves_the_target_as_it_was,
    progress_counts_every_user,
    password_hash_swaps_only_from_the_expected_value,
    hashes_are_found_by_exact_prefix,
);

fn reads_the_tutorials_table_in_id_order_with_nulls(backend: Backend) {
    let Some(source) = TutorialDatabase::create(backend) else {
        return;
    };
    source.insert(&[
        (9, Some("zoë"), Some(HASH_B)),
        (2, Some("Alice"), Some(HASH_A)),
        (3, Some("alice"), None),
        (4, None, Some(HASH_A)),
    ]);
    let rows = read_tutorial_users(source.url()).unwrap();
    let expected = [
        (2, Some("Alice"), Some(HASH_A)),
        (3, Some("alice"), None),
        (4, None, Some(HASH_A)),
        (9, Some("zoë"), Some(HASH_B)),
    ]
    .map(|(id, username, password)| TutorialUser {
        id,
        username: username.map(str::to_owned),
        password: password.map(str::to_owned),
    });
    assert_eq!(rows, expected);
}

fn a_tessera_database_is_no_source(backend: Backend) {
    let Some(target) = TestDatabase::create(backend) else {
        return;
    };
    assert!(matches!(
        read_tutorial_users(target.url()),
        Err(SourceError::TesseraDatabase(_))
    ));
}

#[test]
fn a_missing_sqlite_file_is_not_created() {
    let dir = std::env::temp_dir().join(format!("tessera-no-source-{}", std::process::id()));
    let path = dir.join("absent.db");
    let result = read_tutorial_users(&format!("sqlite://{}", path.display()));
    assert!(
        matches!(result, Err(SourceError::NoSuchFile(_))),
        "{result:?}"
    );
    assert!(!path.exists() && !dir.exists());
}

mod by_backend {
    use super::*;

    backend_tests!(with_backend:
        reads_the_tutorials_table_in_id_order_with_nulls,
        a_tessera_database_is_no_source,
    );
}
