//! The `tessera` binary's administration commands, run as an operator would.
// Helpers shared by tests unwrap too: a failure there is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(args)
            .env("TESSERA_DATA_DIR", self.dir.path())
            .env("TESSERA_BCRYPT_COST", "4")
            .env_remove("DATABASE_URL")
            .envs(env.iter().copied())
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let output = self.run(args, stdin, &[]);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

#[test]
fn users_can_be_added_listed_changed_and_deleted() {
    let cli = Cli::new();
    let added = cli.ok(&["users", "add", "Alice"], "correct horse battery staple\n");
    assert!(added.contains("created user Alice"), "{added}");
    cli.ok(&["users", "add", "bob"], "another good passphrase\n");

    let table = cli.ok(&["users", "list"], "");
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].contains("ID") && lines[0].contains("USERNAME"),
        "{table}"
    );
    assert!(
        lines[1].contains("Alice") && lines[2].contains("bob"),
        "{table}"
    );
    let json = cli.ok(&["users", "list", "--json"], "");
    let users: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        users
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Alice", "bob"]
    );

    let taken = cli.run(
        &["users", "add", "ALICE"],
        "correct horse battery staple\n",
        &[],
    );
    assert_eq!(taken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&taken.stderr).contains("already taken"));
    let weak = cli.run(&["users", "add", "carol"], "short\n", &[]);
    assert_eq!(weak.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 8"));

    cli.ok(
        &["users", "set-password", "alice"],
        "a brand new passphrase\n",
    );
    let db = format!("sqlite://{}/tessera.db", cli.dir.path().display());
    let auth = tessera_server::startup::auth(&tessera_server::Config {
        database_url: Some(db),
        data_dir: cli.dir.path().to_path_buf(),
        bcrypt_cost: 4,
        ..Default::default()
    })
    .unwrap();
    let sign_in = |password| {
        let client = tessera_domain::Client { address: "test" };
        auth.sign_in(
            "alice",
            password,
            tessera_domain::SessionKind::Refreshable,
            client,
        )
    };
    assert!(sign_in("a brand new passphrase").is_ok());
    assert!(sign_in("correct horse battery staple").is_err());

    cli.ok(&["users", "add", "dora"], "a fourth good passphrase\n");
    let dora = cli.ok(&["users", "list", "--json"], "");
    let dora: serde_json::Value = serde_json::from_str(dora.lines().last().unwrap()).unwrap();
    assert_eq!(dora["username"], "dora");
    let id = dora["id"].to_string();
    let deleted = cli.ok(&["users", "delete", "--id", &id], "");
    assert!(deleted.contains("deleted user dora"), "{deleted}");
    let gone = cli.run(&["users", "delete", "--id", &id], "", &[]);
    assert!(String::from_utf8_lossy(&gone.stderr).contains("no such user"));
    cli.ok(&["users", "delete", "Alice"], "");
    let missing = cli.run(&["users", "delete", "Alice"], "", &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such user"));
    assert_eq!(cli.ok(&["users", "list", "--json"], "").lines().count(), 1);
}

#[test]
fn migrate_applies_once() {
    let cli = Cli::new();
    let migrations = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../migrations/sqlite"
    ))
    .unwrap()
    .count();
    assert_eq!(
        cli.ok(&["migrate"], "").trim(),
        format!("applied {migrations} migration(s)")
    );
    assert_eq!(cli.ok(&["migrate"], "").trim(), "applied 0 migration(s)");
}

#[test]
fn keygen_prints_fresh_256_bit_secrets() {
    let cli = Cli::new();
    let (first, second) = (cli.ok(&["keygen"], ""), cli.ok(&["keygen"], ""));
    assert_ne!(first, second);
    assert_eq!(
        first.trim().len(),
        43,
        "32 bytes in unpadded base64: {first}"
    );
}

#[test]
fn production_refuses_to_start_without_a_secret_and_says_why() {
    let cli = Cli::new();
    let output = cli.run(
        &["serve", "--bind", "127.0.0.1:0"],
        "",
        &[("TESSERA_ENV", "production")],
    );
    assert_eq!(output.status.code(), Some(1));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("TESSERA_SECRET_KEY") && message.contains("32 bytes"),
        "{message}"
    );
    let short = cli.run(
        &["serve", "--bind", "127.0.0.1:0"],
        "",
        &[
            ("TESSERA_ENV", "production"),
            ("TESSERA_SECRET_KEY", "short"),
        ],
    );
    assert_eq!(short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 32 are required"));
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let cli = Cli::new();
    for args in [
        &["serve", "--help"][..],
        &["migrate", "--help"],
        &["keygen", "--help"],
        &["config", "--help"],
        &["users", "add", "--help"],
        &["users", "list", "--help"],
        &["users", "delete", "--help"],
        &["users", "set-password", "--help"],
    ] {
        let help = cli.ok(args, "");
        assert!(
            help.contains("Usage:") && help.contains("Example:"),
            "{args:?}: {help}"
        );
    }
    let usage = cli.run(&["no-such-command"], "", &[]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn config_prints_every_layer_applied_with_secrets_redacted() {
    let cli = Cli::new();
    std::fs::write(
        cli.dir.path().join("tessera.toml"),
        "token_ttl = 60\nbind = \"0.0.0.0:9\"\n",
    )
    .unwrap();
    let output = cli.run(
        &["config"],
        "",
        &[
            ("TESSERA_TOKEN_TTL", "120"),
            ("TESSERA_SECRET_KEY", "a-very-secret-value-of-32-bytes!!"),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let config: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(config["token_ttl"], 120, "the environment beats the file");
    assert_eq!(config["bind"], "0.0.0.0:9", "the file beats the defaults");
    assert_eq!(config["secret_key"], "<redacted>");
    assert!(!text.contains("a-very-secret"), "{text}");
}
