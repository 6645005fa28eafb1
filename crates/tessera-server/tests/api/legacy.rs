//! Moving from the Flask tutorial: importing its users (from MariaDB and from a SQLite file
//! written by Python), signing in with their passlib hashes, accepting its itsdangerous
//! tokens, and the operator's `tessera token verify`.
//!
//! Fixtures come from the real tools in `target/py` (passlib 1.7.4, itsdangerous 1.1.0);
//! without it these tests skip loudly, or fail when `CI=true`.
// Helpers and cases outside `#[test]` functions unwrap too; a failed unwrap fails the test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use tessera_domain::{UserRepository, Username};
use tessera_server::config::SecretString;
use tessera_store::{Backend, Database, PoolOptions};

use crate::helpers::{PASSWORD, SECRET, TestApp, problem, python, spawn, spawn_with};

/// The Flask app's `SECRET_KEY` in these tests.
pub(crate) const FLASK_SECRET: &str = "hard to guess string";
const OLD_PASSWORD: &str = "the tutorial's password";

/// Runs the fixture maker in `target/py` on `request`; `None` when there is no venv.
///
/// Request: `hashes` (`{scheme, password, rounds}` where scheme is `custom_app_context`,
/// `sha512_crypt` or `sha256_crypt`), `tokens` (`{secret, id, expires_in, algorithm?,
/// iat?}` for itsdangerous 1.1's `TimedJSONWebSignatureSerializer`), and `sqlite` (`{path,
/// rows}`: the tutorial's table written with Python's sqlite3; a row's password may be
/// `{"hash": i}`, the i-th hash made above). Answer: `{hashes, tokens}`.
fn fixtures(request: Value) -> Option<Value> {
    const SCRIPT: &str = r#"
import json, sqlite3, sys
from passlib.apps import custom_app_context
from passlib.hash import sha256_crypt, sha512_crypt
from itsdangerous import TimedJSONWebSignatureSerializer

request = json.load(sys.stdin)
answer = {"hashes": [], "tokens": []}
for h in request.get("hashes", []):
    hasher = {
        "custom_app_context": lambda: custom_app_context,
        "sha512_crypt": lambda: sha512_crypt.using(rounds=h["rounds"]),
        "sha256_crypt": lambda: sha256_crypt.using(rounds=h["rounds"]),
    }[h["scheme"]]()
    answer["hashes"].append(hasher.hash(h["password"]))

for t in request.get("tokens", []):
    class Serializer(TimedJSONWebSignatureSerializer):
        def now(self):
            return t["iat"] if t.get("iat") is not None else super().now()
    options = {"expires_in": t["expires_in"]}
    if t.get("algorithm"):
        options["algorithm_name"] = t["algorithm"]
    token = Serializer(t["secret"], **options).dumps({"id": t["id"]})
    answer["tokens"].append(token.decode("ascii"))

if request.get("sqlite"):
    db = sqlite3.connect(request["sqlite"]["path"])
    # The tutorial's model, as Flask-SQLAlchemy creates it.
    db.execute("CREATE TABLE users (id INTEGER NOT NULL, username VARCHAR(32), "
               "password VARCHAR(128), PRIMARY KEY (id))")
    db.execute("CREATE INDEX ix_users_username ON users (username)")
    rows = [(i, u, answer["hashes"][p["hash"]] if isinstance(p, dict) else p)
            for i, u, p in request["sqlite"]["rows"]]
    db.executemany("INSERT INTO users (id, username, password) VALUES (?, ?, ?)", rows)
    db.commit()
    db.close()

print(json.dumps(answer))
"#;
    let python = python()?;
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("python runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("piped");
        stdin
            .write_all(request.to_string().as_bytes())
            .expect("request written");
    }
    let output = child.wait_with_output().expect("python finishes");
    assert!(output.status.success(), "the fixture script failed");
    Some(serde_json::from_slice(&output.stdout).expect("JSON from the fixture script"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

/// The `tessera` binary, with only the environment given here, in `dir` (so no stray
/// `tessera.toml` or `TESSERA_*` variable is read).
fn tessera(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .env("TESSERA_LOG", "warn")
        .current_dir(dir)
        .output()
        .expect("the tessera binary runs")
}

fn stdout_json(output: &Output) -> Value {
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|_| {
        panic!(
            "stdout is one JSON object: {text}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// `tessera users import … --json` into the app's database.
fn import_cli(app: &TestApp, source: &[&str]) -> Output {
    std::fs::create_dir_all(&app.config.data_dir).unwrap();
    let target = app.config.database_url();
    let mut args = vec![
        "users",
        "import",
        "--json",
        "--database-url",
        target.as_str(),
    ];
    args.extend_from_slice(source);
    tessera(&app.config.data_dir, &[], &args)
}

pub(crate) fn database(app: &TestApp) -> Database {
    Database::open(&app.config.database_url(), &PoolOptions::default()).expect("pool opens")
}

#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
fn stored_hash(app: &TestApp, name: &str) -> String {
    database(app)
        .find_by_username(&Username::parse(name).unwrap())
        .unwrap()
        .expect("the user exists")
        .password_hash
}

async fn an_imported_mariadb_user_signs_in_with_the_old_password_and_is_rehashed(backend: Backend) {
    #[cfg(not(feature = "mysql"))]
    {
        eprintln!("SKIPPING: built without MariaDB support (feature `mysql`)");
        let _ = backend;
    }
    #[cfg(feature = "mysql")]
    {
        use tessera_store::tutorial::testing::TutorialDatabase;
        let Some(source) = TutorialDatabase::create(Backend::Mysql) else {
            return;
        };
        let Some(made) = fixtures(json!({"hashes": [
            {"scheme": "custom_app_context", "password": OLD_PASSWORD},
            {"scheme": "sha512_crypt", "rounds": 1000, "password": "bob's old password"},
            {"scheme": "sha256_crypt", "rounds": 1000, "password": "cat's old password"},
        ]})) else {
            return;
        };
        let hashes = strings(&made["hashes"]);
        assert!(hashes[0].starts_with("$6$rounds=656000$"), "{}", hashes[0]);
        source.insert(&[
            (3, Some("ann"), Some(&hashes[0])),
            (5, Some("bob"), Some(&hashes[1])),
            (8, Some("cat"), Some(&hashes[2])),
            (9, Some("Ann"), Some(&hashes[1])),
            (12, Some("dan"), Some("plaintext")),
        ]);
        let Some(app) = spawn(backend).await else {
            return;
        };

        let output = import_cli(&app, &["--from", source.url()]);
        assert!(output.status.success(), "{output:?}");
        let report = stdout_json(&output);
        assert_eq!(
            (&report["imported"], &report["skipped"], &report["rejected"]),
            (&json!(3), &json!(0), &json!(2)),
            "{report}"
        );
        let reasons = report["rejections"].to_string();
        assert!(
            reasons.contains("duplicate username regardless of case"),
            "{reasons}"
        );
        assert!(reasons.contains("unsupported format"), "{reasons}");

        // GET /api/login with the tutorial's password: the old id comes back in the token.
        let response = app.tutorial_login("ann", OLD_PASSWORD).await;
        assert_eq!(response.status(), 200);
        let token: String = response.json().await.unwrap();
        let hello = app.get_bearer("/", &token).await;
        assert_eq!(hello.json::<String>().await.unwrap(), "Hello, ann");
        let (_, claims) = tessera_token::decode_unverified(&token).unwrap();
        assert_eq!(claims["sub"], "3", "the tutorial's id is kept");
        let rehashed = stored_hash(&app, "ann");
        assert!(
            rehashed.starts_with("$bcrypt-sha256$v=2,t=2b,r=4$"),
            "replaced by the current scheme: {rehashed}"
        );
        assert_eq!(app.tutorial_login("ann", OLD_PASSWORD).await.status(), 200);
        assert_eq!(stored_hash(&app, "ann"), rehashed, "replaced once");

        // POST /api/v1/tokens with sha512_crypt and sha256_crypt hashes.
        for (name, password) in [("bob", "bob's old password"), ("cat", "cat's old password")] {
            let wrong = app
                .post_json(
                    "/api/v1/tokens",
                    json!({"username": name, "password": "not it"}),
                )
                .await;
            assert_eq!(problem(wrong, 401).await["code"], "invalid_credentials");
            assert!(
                !stored_hash(&app, name).starts_with("$bcrypt"),
                "a wrong password changes nothing"
            );
            let response = app
                .post_json(
                    "/api/v1/tokens",
                    json!({"username": name, "password": password}),
                )
                .await;
            assert_eq!(response.status(), 200, "{name}");
            let body: Value = response.json().await.unwrap();
            assert!(body["access_token"].is_string());
            assert!(stored_hash(&app, name).starts_with("$bcrypt-sha256$v=2,t=2b,r=4$"));
        }

        // Running the import again changes nothing, though two hashes were replaced.
        let again = stdout_json(&import_cli(&app, &["--from", source.url()]));
        assert_eq!(
            (&again["imported"], &again["skipped"]),
            (&json!(0), &json!(3)),
            "{again}"
        );
        assert!(stored_hash(&app, "ann").starts_with("$bcrypt-sha256$"));
    }
}

async fn an_import_from_a_python_written_sqlite_file_keeps_free_ids(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    assert_eq!(app.register("native").await.status(), 200);
    let source = app.config.data_dir.join("flask.sqlite");
    std::fs::create_dir_all(&app.config.data_dir).unwrap();
    let Some(_) = fixtures(json!({
        "hashes": [{"scheme": "sha512_crypt", "rounds": 1000, "password": OLD_PASSWORD}],
        "sqlite": {"path": source, "rows": [
            [1, "olga", {"hash": 0}],
            [2, "pat", {"hash": 0}],
            [3, "has space ", {"hash": 0}],
            [4, null, {"hash": 0}],
            [5, "quinn", null],
            [40, "PAT", {"hash": 0}],
        ]},
    })) else {
        return;
    };
    let url = format!("sqlite://{}", source.display());
    let output = import_cli(&app, &["--from", &url]);
    assert!(output.status.success(), "{output:?}");
    let report = stdout_json(&output);
    assert_eq!(
        (&report["imported"], &report["rejected"]),
        (&json!(2), &json!(4)),
        "{report}"
    );
    let renumbered = &report["renumbered"];
    assert_eq!(renumbered.as_array().unwrap().len(), 1, "{report}");
    assert_eq!(renumbered[0]["username"], "olga");
    assert_eq!(
        renumbered[0]["old_id"], 1,
        "id 1 belongs to the native user"
    );
    assert!(
        renumbered[0]["id"].as_i64().unwrap() > 40,
        "above every old id"
    );

    // A second run, human-readable: nothing changes.
    let text = tessera(
        &app.config.data_dir,
        &[],
        &[
            "users",
            "import",
            "--database-url",
            &app.config.database_url(),
            "--from",
            &url,
        ],
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.starts_with("imported 0, skipped 2 (already present), rejected 4"),
        "{text}"
    );
    assert!(text.contains("rejected: id 4: no username"), "{text}");
    assert!(
        text.contains("rejected: id 5 \"quinn\": no password hash"),
        "{text}"
    );

    let db = database(&app);
    assert_eq!(
        db.find_by_id(tessera_domain::UserId(2))
            .unwrap()
            .unwrap()
            .username,
        "pat"
    );
    assert_eq!(app.tutorial_login("olga", OLD_PASSWORD).await.status(), 200);
    assert_eq!(
        app.tutorial_login("PAT", OLD_PASSWORD).await.status(),
        200,
        "names ignore case"
    );
    // Old ids stay reserved, rejected ones too: a new user never inherits an old token.
    let body: Value = app.register("newcomer").await.json().await.unwrap();
    assert_eq!(body["username"], "newcomer");
    let newcomer = db
        .find_by_username(&Username::parse("newcomer").unwrap())
        .unwrap()
        .unwrap();
    assert!(newcomer.id.0 > 41, "{}", newcomer.id);
}

async fn an_import_file_of_json_lines_is_read_line_by_line(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let Some(made) = fixtures(json!({"hashes": [
        {"scheme": "sha256_crypt", "rounds": 1000, "password": OLD_PASSWORD},
    ]})) else {
        return;
    };
    let hash = strings(&made["hashes"]).remove(0);
    std::fs::create_dir_all(&app.config.data_dir).unwrap();
    let file = app.config.data_dir.join("users.jsonl");
    let lines = [
        json!({"username": "rae", "password_hash": hash, "id": 7}).to_string(),
        json!({"username": "sol", "password_hash": hash}).to_string(),
        String::new(),
        "{\"username\": \"tom\", \"password_hash\": ".to_owned(),
        json!({"username": "uma", "password_hash": hash, "id": "eight"}).to_string(),
        json!({"username": "val", "password_hash": "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"})
            .to_string(),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let output = import_cli(&app, &["--file", file.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let report = stdout_json(&output);
    assert_eq!(
        (&report["imported"], &report["rejected"]),
        (&json!(2), &json!(3)),
        "{report}"
    );
    let sources: Vec<&str> = report["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["line 4", "line 5", "line 6"]);
    assert!(
        !report.to_string().contains("$5$"),
        "hashes never reach the report"
    );
    assert_eq!(
        database(&app)
            .find_by_id(tessera_domain::UserId(7))
            .unwrap()
            .unwrap()
            .username,
        "rae"
    );
    assert_eq!(app.tutorial_login("sol", OLD_PASSWORD).await.status(), 200);
}

async fn a_failed_import_changes_nothing_and_exits_non_zero(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    assert_eq!(app.register("native").await.status(), 200);
    let before = database(&app).list_users().unwrap();
    let missing = app.config.data_dir.join("no-such.sqlite");
    let output = import_cli(
        &app,
        &["--from", &format!("sqlite://{}", missing.display())],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no SQLite database"));
    assert!(!missing.exists(), "the source is never created");
    // A Tessera database is no source either.
    let output = import_cli(&app, &["--from", &app.config.database_url()]);
    assert!(!output.status.success());
    assert_eq!(database(&app).list_users().unwrap(), before);
}

/// Tokens for `id` from itsdangerous: fresh HS512 (1.1's default), fresh HS256 (older
/// releases), fresh HS384, expired HS512, and fresh HS512 under another secret.
pub(crate) fn flask_tokens(id: i64) -> Option<Vec<String>> {
    let now = chrono::Utc::now().timestamp();
    let made = fixtures(json!({"tokens": [
        {"secret": FLASK_SECRET, "id": id, "expires_in": 600},
        {"secret": FLASK_SECRET, "id": id, "expires_in": 600, "algorithm": "HS256"},
        {"secret": FLASK_SECRET, "id": id, "expires_in": 600, "algorithm": "HS384"},
        {"secret": FLASK_SECRET, "id": id, "expires_in": 600, "iat": now - 1000},
        {"secret": "another secret", "id": id, "expires_in": 600},
    ]}))?;
    Some(strings(&made["tokens"]))
}

async fn flask_tokens_are_accepted_until_they_expire_only_with_the_legacy_key(backend: Backend) {
    let Some(app) = spawn_with(backend, |config| {
        config.legacy_secret_key = Some(SecretString::new(FLASK_SECRET));
    })
    .await
    else {
        return;
    };
    assert_eq!(app.register("ann").await.status(), 200);
    let ann = database(&app)
        .find_by_username(&Username::parse("ann").unwrap())
        .unwrap()
        .unwrap();
    let Some(tokens) = flask_tokens(ann.id.0) else {
        return;
    };
    let [hs512, hs256, hs384, expired, foreign] = &tokens[..] else {
        panic!("five tokens");
    };
    let header = |token: &str| tessera_token::decode_unverified(token).unwrap().0;
    assert_eq!(
        header(hs512)["alg"],
        "HS512",
        "itsdangerous 1.1 defaults to HS512"
    );
    assert_eq!(header(hs256)["alg"], "HS256");

    for token in [hs512, hs256, hs384] {
        let hello = app.get_bearer("/", token).await;
        assert_eq!(hello.status(), 200, "{}", header(token));
        assert_eq!(hello.json::<String>().await.unwrap(), "Hello, ann");
        // The tutorial's Vue client sends the token as the Basic user-id.
        let basic = app
            .client
            .get(app.url("/"))
            .basic_auth(token, Some("unused"))
            .send()
            .await
            .unwrap();
        assert_eq!(basic.status(), 200);
        let me = app.get_bearer("/api/v1/me", token).await;
        assert_eq!(me.status(), 200);
        assert_eq!(me.json::<Value>().await.unwrap()["username"], "ann");
    }
    let body = problem(app.get_bearer("/", expired).await, 401).await;
    assert_eq!(body["code"], "invalid_token");
    assert!(
        body["detail"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    let body = problem(app.get_bearer("/api/v1/me", foreign).await, 401).await;
    assert_eq!(body["code"], "invalid_token");
    // Tessera's own tokens still work alongside.
    let own = app
        .tutorial_login("ann", PASSWORD)
        .await
        .json::<String>()
        .await
        .unwrap();
    assert_eq!(app.get_bearer("/", &own).await.status(), 200);

    let Some(without) = spawn(backend).await else {
        return;
    };
    assert_eq!(without.register("ann").await.status(), 200);
    let body = problem(without.get_bearer("/", hs512).await, 401).await;
    assert_eq!(body["code"], "invalid_token");
    let body = problem(without.get_bearer("/api/v1/me", hs256).await, 401).await;
    assert_eq!(body["code"], "invalid_token");
}

async fn a_flask_token_for_a_user_that_was_not_imported_is_refused(backend: Backend) {
    let Some(app) = spawn_with(backend, |config| {
        config.legacy_secret_key = Some(SecretString::new(FLASK_SECRET));
    })
    .await
    else {
        return;
    };
    let Some(tokens) = flask_tokens(4242) else {
        return;
    };
    let body = problem(app.get_bearer("/", &tokens[0]).await, 401).await;
    assert_eq!(body["code"], "invalid_token");
}

async fn an_unsupported_stored_hash_is_refused_like_a_wrong_password(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let username = Username::parse("mallory").unwrap();
    database(&app)
        .insert_user(&tessera_domain::NewUser {
            username: &username,
            password_hash: "pbkdf2:sha256:260000$salt$0123abcd",
            created_at: chrono::Utc::now(),
        })
        .unwrap();
    let body = problem(app.tutorial_login("mallory", "anything").await, 401).await;
    assert_eq!(body["code"], "invalid_credentials");
    let body = problem(
        app.post_json(
            "/api/v1/tokens",
            json!({"username": "mallory", "password": "anything"}),
        )
        .await,
        401,
    )
    .await;
    assert_eq!(body["code"], "invalid_credentials");
}

backend_tests!(
    an_imported_mariadb_user_signs_in_with_the_old_password_and_is_rehashed,
    an_import_from_a_python_written_sqlite_file_keeps_free_ids,
    an_import_file_of_json_lines_is_read_line_by_line,
    a_failed_import_changes_nothing_and_exits_non_zero,
    flask_tokens_are_accepted_until_they_expire_only_with_the_legacy_key,
    a_flask_token_for_a_user_that_was_not_imported_is_refused,
    an_unsupported_stored_hash_is_refused_like_a_wrong_password,
);

/// The environment of `tessera token verify` runs: the test secret, optionally the Flask one.
fn verify(dir: &Path, legacy: bool, args: &[&str]) -> (Value, bool) {
    let mut env = vec![("TESSERA_SECRET_KEY", SECRET)];
    if legacy {
        env.push(("TESSERA_LEGACY_SECRET_KEY", FLASK_SECRET));
    }
    let mut all = vec!["token", "verify"];
    all.extend_from_slice(args);
    let output = tessera(dir, &env, &all);
    (stdout_json(&output), output.status.success())
}

/// The use cases over the database `tessera token verify` opens when run in `dir`.
fn cli_auth(dir: &Path) -> tessera_domain::Auth {
    tessera_server::startup::auth(&tessera_server::config::Config {
        secret_key: Some(SecretString::new(SECRET)),
        data_dir: dir.join("data"),
        bcrypt_cost: 4,
        ..Default::default()
    })
    .unwrap()
}

/// Users with ids 1 to `count` in that database.
fn add_users(dir: &Path, count: usize) {
    let auth = cli_auth(dir);
    for i in 1..=count {
        auth.add_user(&format!("user{i}"), PASSWORD).unwrap();
    }
}

#[test]
fn token_verify_reports_a_flask_token_valid_inside_its_window_and_expired_after() {
    let dir = tempfile::tempdir().unwrap();
    add_users(dir.path(), 5);
    let iat = 1_700_000_000_i64;
    let Some(made) = fixtures(json!({"tokens": [
        {"secret": FLASK_SECRET, "id": 5, "expires_in": 600, "iat": iat},
        {"secret": FLASK_SECRET, "id": 5, "expires_in": 600, "iat": iat, "algorithm": "HS256"},
        {"secret": "another secret", "id": 5, "expires_in": 600, "iat": iat},
    ]})) else {
        return;
    };
    let tokens = strings(&made["tokens"]);
    let inside = (iat + 300).to_string();
    let after = (iat + 601).to_string();

    for token in &tokens[..2] {
        let (report, ok) = verify(dir.path(), true, &[token, "--at", &inside]);
        assert!(ok, "{report}");
        assert_eq!(report["valid"], true);
        assert_eq!(report["error"], Value::Null);
        assert_eq!(report["format"], "legacy");
        assert_eq!(report["header"]["iat"], iat);
        assert_eq!(report["header"]["exp"], iat + 600);
        assert_eq!(report["claims"], json!({"id": 5}));

        let (report, ok) = verify(dir.path(), true, &[token, "--at", &after]);
        assert!(!ok);
        assert_eq!(
            (&report["valid"], &report["error"]),
            (&json!(false), &json!("expired"))
        );
    }
    assert_eq!(
        verify(
            dir.path(),
            true,
            &[&tokens[0], "--at", &(iat + 600).to_string()]
        )
        .0["valid"],
        true,
        "like itsdangerous, valid during the second named by exp"
    );
    let (report, ok) = verify(dir.path(), false, &[&tokens[0], "--at", &inside]);
    assert!(!ok);
    assert_eq!(
        (&report["format"], &report["error"]),
        (&json!("legacy"), &json!("unknown_key"))
    );
    let (report, _) = verify(dir.path(), true, &[&tokens[2], "--at", &inside]);
    assert_eq!(report["error"], "bad_signature");
}

#[test]
fn token_verify_reports_tessera_tokens_their_session_and_malformed_input() {
    let dir = tempfile::tempdir().unwrap();
    let auth = cli_auth(dir.path());
    auth.add_user("ann", PASSWORD).unwrap();
    let client = tessera_domain::Client {
        address: "test",
        user_agent: None,
    };
    let signed_in = auth
        .sign_in(
            "ann",
            PASSWORD,
            tessera_domain::SessionKind::Refreshable,
            client,
        )
        .unwrap();
    let token = signed_in.access_token;

    let (report, ok) = verify(dir.path(), true, &[&token]);
    assert!(ok, "{report}");
    assert_eq!(report["format"], "jwt");
    assert_eq!(report["session"], "live");
    assert_eq!(report["user_exists"], true);
    assert_eq!(report["claims"]["sub"], signed_in.user.id.to_string());
    assert_eq!(report["header"]["alg"], "HS256");
    let later = (chrono::Utc::now().timestamp() + 3600).to_string();
    let (report, ok) = verify(dir.path(), false, &[&token, "--at", &later]);
    assert!(!ok);
    assert_eq!(report["error"], "expired");

    // Signed out: the signature still holds, the token does not.
    let who = auth.authenticate(&token).unwrap();
    auth.sign_out(&who).unwrap();
    let mut env = vec![("TESSERA_SECRET_KEY", SECRET)];
    env.push(("TESSERA_LOG", "warn"));
    let output = tessera(dir.path(), &env, &["token", "verify", &token]);
    assert!(!output.status.success());
    let report = stdout_json(&output);
    assert_eq!(
        (&report["valid"], &report["error"], &report["session"]),
        (&json!(false), &json!("session_ended"), &json!("ended"))
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the session has ended"), "{stderr}");

    // A token without a session, and one for a user who does not exist.
    let config = tessera_server::config::Config {
        secret_key: Some(SecretString::new(SECRET)),
        ..Default::default()
    };
    let keys = tessera_server::keys::key_set(&config).unwrap();
    let now = chrono::Utc::now();
    let claims = tessera_token::Claims::new("42", "jti-1", now, chrono::Duration::seconds(600));
    let (report, _) = verify(dir.path(), true, &[&keys.sign(&claims).unwrap()]);
    assert_eq!(report["error"], "no_session");
    let ghost = keys.sign(&claims.with_sid("s")).unwrap();
    let (report, _) = verify(dir.path(), true, &[&ghost]);
    assert_eq!(
        (&report["error"], &report["user_exists"], &report["session"]),
        (&json!("user_gone"), &json!(false), &json!("ended"))
    );

    let (report, ok) = verify(dir.path(), true, &["not.a.token"]);
    assert!(!ok);
    assert_eq!(report["error"], "malformed");
    assert_eq!(report["header"], Value::Null);

    let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiI0MiJ9.";
    let (report, ok) = verify(dir.path(), true, &[none]);
    assert!(!ok);
    assert_eq!(report["error"], "unsupported_algorithm");
    assert_eq!(report["header"]["alg"], "none");
}

#[test]
fn import_shows_progress_on_large_tables_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("flask.sqlite");
    let rows: Vec<Value> = (1..=2500)
        .map(|id| json!([id, format!("user{id}"), {"hash": 0}]))
        .collect();
    let Some(_) = fixtures(json!({
        "hashes": [{"scheme": "sha512_crypt", "rounds": 1000, "password": OLD_PASSWORD}],
        "sqlite": {"path": source, "rows": rows},
    })) else {
        return;
    };
    let target = format!("sqlite://{}", dir.path().join("tessera.db").display());
    let from = format!("sqlite://{}", source.display());
    let args = [
        "users",
        "import",
        "--database-url",
        &target,
        "--from",
        &from,
    ];

    let output = tessera(dir.path(), &[], &args);
    assert!(output.status.success(), "{output:?}");
    let progress = String::from_utf8_lossy(&output.stderr);
    assert!(progress.contains("read 2500 user(s)"), "{progress}");
    assert!(
        progress.contains("1000 of 2500 user(s) handled"),
        "{progress}"
    );
    assert!(
        progress.contains("2000 of 2500 user(s) handled"),
        "{progress}"
    );
    // Then how long it took, at what rate.
    let rate = progress
        .lines()
        .find(|line| line.starts_with("handled 2500 user(s) in "))
        .unwrap_or_else(|| panic!("no rate line: {progress}"));
    assert!(rate.ends_with(" users/s)"), "{rate}");
    let summary = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        summary.trim(),
        "imported 2500, skipped 0 (already present), rejected 0"
    );

    let output = tessera(dir.path(), &[], &args);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "imported 0, skipped 2500 (already present), rejected 0"
    );
}
