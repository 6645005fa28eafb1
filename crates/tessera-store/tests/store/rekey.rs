//! Username keys: look-alike names are one name on every backend, and keys written by an
//! older Tessera (Unicode canonical caseless matching, without compatibility mapping or
//! space collapsing) are recomputed after migrations, collisions reported, not failing.

use chrono::Utc;
use tessera_domain::{NewUser, StoreError, UserId, UserRepository, Username};
use tessera_store::rekey::testing::{
    forget_key_version, insert_with_key, rename_in_sql, stored_key,
};
use tessera_store::testing::TestDatabase;
use tessera_store::{Database, KeyCollision, rekey_usernames};

use crate::open;

fn register(db: &Database, name: &str) -> Result<tessera_domain::User, StoreError> {
    let username = Username::parse(name).expect("valid test username");
    db.insert_user(&NewUser {
        username: &username,
        password_hash: "$2b$04$hash",
        created_at: Utc::now(),
    })
}

fn find(db: &Database, name: &str) -> Option<UserId> {
    db.find_by_username(&Username::parse(name).expect("valid test username"))
        .unwrap()
        .map(|user| user.id)
}

/// The pairs of issue 10: the second of each pair is refused as taken once the first is
/// registered, and finds the first.
const LOOK_ALIKES: [(&str, &str); 5] = [
    ("admin", "ａｄｍｉｎ"),
    ("Ⅸ", "IX"),
    ("x¹", "x1"),
    ("a  b", "a b"),
    ("ﬁle", "FILE"),
];

fn a_look_alike_of_a_registered_name_is_taken(db: &Database) {
    for (first, second) in LOOK_ALIKES {
        let registered = register(db, first).unwrap();
        assert_eq!(
            register(db, second).unwrap_err(),
            StoreError::UsernameTaken,
            "{second:?} after {first:?}"
        );
        assert_eq!(find(db, second), Some(registered.id), "{second:?}");
        assert_eq!(registered.username, first, "the spelling is kept");
    }
    assert_eq!(db.list_users().unwrap().len(), LOOK_ALIKES.len());
    // And the other way round.
    register(db, "ＲＯＯＴ").unwrap();
    assert_eq!(register(db, "root").unwrap_err(), StoreError::UsernameTaken);
}

fn keys_of_an_older_version_are_recomputed(test_db: &TestDatabase) {
    let url = test_db.url();
    // Names with the keys the previous key function (NFD, full case fold, NFC) gave them.
    let old = [
        ("Ⅸ", "ⅸ", "ix"),
        ("x¹", "x¹", "x1"),
        ("a  b", "a  b", "a b"),
        ("ＢＯＢ", "ｂｏｂ", "bob"),
        ("alice", "alice", "alice"),
    ];
    let ids: Vec<UserId> = old
        .iter()
        .map(|(name, key, _)| insert_with_key(url, name, key))
        .collect();

    let report = rekey_usernames(url).unwrap();
    assert_eq!(report.scanned, old.len());
    assert_eq!(report.rekeyed, 4, "alice's key was already current");
    assert!(report.is_clean(), "{report:?}");
    let db = open(test_db);
    for ((name, _, new_key), id) in old.iter().zip(&ids) {
        assert_eq!(stored_key(url, *id).as_deref(), Some(*new_key), "{name:?}");
        assert_eq!(find(&db, name), Some(*id), "{name:?}");
    }
    assert_eq!(find(&db, "IX"), Some(ids[0]));
    assert_eq!(find(&db, "x1"), Some(ids[1]));
    assert_eq!(find(&db, "a b"), Some(ids[2]));
    assert_eq!(find(&db, "bob"), Some(ids[3]));
    assert_eq!(register(&db, "ix").unwrap_err(), StoreError::UsernameTaken);

    // Idempotent: a second run reads and changes nothing.
    let again = rekey_usernames(url).unwrap();
    assert_eq!((again.scanned, again.rekeyed), (old.len(), 0));
    assert!(again.is_clean());
}

fn migrations_rekey_an_existing_database(test_db: &TestDatabase) {
    let url = test_db.url();
    // A database an older Tessera wrote: old keys, and no mark that they are current.
    let id = insert_with_key(url, "ａｄｍｉｎ", "ａｄｍｉｎ");
    forget_key_version(url);
    assert_eq!(tessera_store::run_migrations(url).unwrap(), 0);
    assert_eq!(stored_key(url, id).as_deref(), Some("admin"));
    let report = tessera_store::migrate(url).unwrap();
    assert_eq!((report.applied, report.rekey.rekeyed), (0, 0));
}

/// Once a clean run marked the keys current, starts skip the scan; `tessera migrate`
/// still scans, and catches a row an older process wrote during a rolling upgrade.
fn starts_skip_the_scan_once_keys_are_current_and_migrate_does_not(test_db: &TestDatabase) {
    let url = test_db.url();
    assert_eq!(tessera_store::run_migrations(url).unwrap(), 0);
    let late = insert_with_key(url, "Ⅻ", "ⅻ");
    assert_eq!(tessera_store::run_migrations(url).unwrap(), 0);
    assert_eq!(stored_key(url, late).as_deref(), Some("ⅻ"), "no scan");
    let report = tessera_store::migrate(url).unwrap();
    assert_eq!(report.rekey.rekeyed, 1);
    assert_eq!(stored_key(url, late).as_deref(), Some("xii"));
}

fn collisions_are_reported_and_leave_the_later_row_unchanged(test_db: &TestDatabase) {
    let url = test_db.url();
    // Registered when width still made a difference.
    let admin = insert_with_key(url, "admin", "admin");
    let wide_admin = insert_with_key(url, "ａｄｍｉｎ", "ａｄｍｉｎ");
    // Two stale rows wanting the same free key: the earlier one gets it.
    let wide_ix = insert_with_key(url, "ＩＸ", "ｉｘ");
    let numeral_ix = insert_with_key(url, "Ⅸ", "ⅸ");
    // A stale earlier row whose new key a later, current row already has: the holder keeps
    // it, as before the change (both names already reached it).
    let wide_bob = insert_with_key(url, "Ｂｏｂ", "ｂｏｂ");
    let bob = insert_with_key(url, "bob", "bob");
    // Not involved in any collision: rekeyed all the same.
    let spaced = insert_with_key(url, "a  b", "a  b");

    let report = rekey_usernames(url).unwrap();
    assert_eq!(report.scanned, 7);
    assert_eq!(report.rekeyed, 2, "{report:?}");
    assert!(report.invalid.is_empty());
    let collision =
        |key: &str, holder: UserId, h: &str, unchanged: UserId, u: &str, old: &str| KeyCollision {
            key: key.to_owned(),
            holder,
            holder_username: h.to_owned(),
            unchanged,
            unchanged_username: u.to_owned(),
            unchanged_key: old.to_owned(),
        };
    let mut collisions = report.collisions.clone();
    collisions.sort_by_key(|c| c.unchanged.0);
    assert_eq!(
        collisions,
        [
            collision(
                "admin",
                admin,
                "admin",
                wide_admin,
                "ａｄｍｉｎ",
                "ａｄｍｉｎ"
            ),
            collision("ix", wide_ix, "ＩＸ", numeral_ix, "Ⅸ", "ⅸ"),
            collision("bob", bob, "bob", wide_bob, "Ｂｏｂ", "ｂｏｂ"),
        ]
    );
    let keys: Vec<Option<String>> = [admin, wide_admin, wide_ix, numeral_ix, wide_bob, bob]
        .iter()
        .map(|id| stored_key(url, *id))
        .collect();
    let expected = ["admin", "ａｄｍｉｎ", "ix", "ⅸ", "ｂｏｂ", "bob"];
    assert_eq!(keys, expected.map(|k| Some(k.to_owned())));
    assert_eq!(stored_key(url, spaced).as_deref(), Some("a b"));

    // What the operator is told names both users, the key and the ways out.
    let message = collisions[0].to_string();
    let parts = [
        format!("users {admin} (\"admin\")"),
        format!("and {wide_admin} (\"ａｄｍｉｎ\")"),
        "key \"admin\"".to_owned(),
        format!("tessera users delete --id {admin}"),
        format!("WHERE id = {wide_admin}"),
    ];
    for part in parts {
        assert!(message.contains(&part), "{part:?} in {message}");
    }

    // Either name reaches the holder; nothing else changed.
    let db = open(test_db);
    assert_eq!(find(&db, "ａｄｍｉｎ"), Some(admin));
    assert_eq!(find(&db, "Ⅸ"), Some(wide_ix));
    assert_eq!(find(&db, "Ｂｏｂ"), Some(bob));
    assert_eq!(db.list_users().unwrap().len(), 7);
    assert_eq!(
        register(&db, "ＡＤＭＩＮ").unwrap_err(),
        StoreError::UsernameTaken
    );

    // Migrations do not fail over it, and keep reporting it until it is resolved.
    let migrated = tessera_store::migrate(url).unwrap();
    assert_eq!(migrated.rekey.rekeyed, 0);
    assert_eq!(migrated.rekey.collisions.len(), 3);

    // The ways out: deleting the holder frees the key for the other user; renaming the
    // other user gives it its new name's key.
    assert!(db.delete_user(admin).unwrap());
    rename_in_sql(url, numeral_ix, "Ⅸ 2");
    let resolved = rekey_usernames(url).unwrap();
    assert_eq!(resolved.rekeyed, 2, "{resolved:?}");
    assert_eq!(resolved.collisions.len(), 1, "bob's stays: {resolved:?}");
    assert_eq!(stored_key(url, wide_admin).as_deref(), Some("admin"));
    assert_eq!(stored_key(url, numeral_ix).as_deref(), Some("ix 2"));
    assert_eq!(find(&db, "admin"), Some(wide_admin));
    assert_eq!(find(&db, "IX 2"), Some(numeral_ix));
}

fn names_refused_by_todays_policy_are_reported_not_touched(test_db: &TestDatabase) {
    let url = test_db.url();
    // Eight U+FDFA spell out to 144 characters: more than the key column holds.
    let long = "\u{FDFA}".repeat(8);
    let id = insert_with_key(url, &long, &long);
    let report = rekey_usernames(url).unwrap();
    assert_eq!((report.scanned, report.rekeyed), (1, 0));
    assert_eq!(report.invalid.len(), 1);
    assert_eq!(report.invalid[0].id, id);
    assert_eq!(
        report.invalid[0].error,
        tessera_domain::UsernameError::SpelledOutTooLong
    );
    assert_eq!(stored_key(url, id), Some(long));
}

backend_tests!(with_database: a_look_alike_of_a_registered_name_is_taken);

mod migrated {
    use super::*;

    backend_tests!(with_test_database:
        keys_of_an_older_version_are_recomputed,
        migrations_rekey_an_existing_database,
        starts_skip_the_scan_once_keys_are_current_and_migrate_does_not,
        collisions_are_reported_and_leave_the_later_row_unchanged,
        names_refused_by_todays_policy_are_reported_not_touched,
    );
}
