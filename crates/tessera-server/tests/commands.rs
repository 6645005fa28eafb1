//! The `tessera` binary's administration commands, run as an operator would.
// Helpers shared by tests unwrap too: a failure there is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};

use serde_json::Value;

#[path = "support/tmpfs.rs"]
mod tmpfs;
use tmpfs::Tmpfs;

/// A signing secret of the required length.
const SECRET: &str = "a-test-signing-secret-of-32-bytes-at-least";

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

    /// `tessera serve` on a free port, run as [`Cli::run`] runs commands.
    fn serve(&self, env: &[(&str, &str)]) -> Started {
        self.serve_with(
            Path::new(env!("CARGO_BIN_EXE_tessera")),
            self.dir.path(),
            env,
        )
    }

    /// `tessera serve` with the binary at `exe`, run in `cwd`.
    fn serve_with(&self, exe: &Path, cwd: &Path, env: &[(&str, &str)]) -> Started {
        let mut command = Command::new(exe);
        command
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("TESSERA_DATA_DIR", self.dir.path())
            .env("TESSERA_BCRYPT_COST", "4")
            .env("TESSERA_WORKERS", "1")
            .env_remove("DATABASE_URL")
            .env_remove("TESSERA_WEB_DIR")
            .envs(env.iter().copied())
            .current_dir(cwd);
        Started::from(command)
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
        let client = tessera_domain::Client {
            address: "test",
            user_agent: None,
        };
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

/// A `tessera serve` that either listens (its log so far kept, the rest drained) or exited.
enum Started {
    Listening(Serving),
    Exited { status: ExitStatus, stderr: String },
}

struct Serving {
    child: Child,
    port: u16,
    /// Log lines up to and including "tessera is listening".
    log: Vec<String>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Started {
    /// Reads the log until the server listens or its stderr closes: no timing involved.
    fn from(mut command: Command) -> Started {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tessera binary starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut log = Vec::new();
        while let Some(Ok(line)) = lines.next() {
            let listening = line.contains("tessera is listening");
            log.push(line);
            if listening {
                // Keep the pipe drained so the server never blocks on its log.
                std::thread::spawn(move || lines.for_each(drop));
                let last = log.last().unwrap();
                let port = serde_json::from_str::<Value>(last)
                    .ok()
                    .and_then(|entry| field(&entry, "port").as_u64())
                    .and_then(|port| u16::try_from(port).ok())
                    .unwrap_or(0);
                return Started::Listening(Serving { child, port, log });
            }
        }
        let status = child.wait().unwrap();
        Started::Exited {
            status,
            stderr: log.join("\n"),
        }
    }

    /// The stderr of a start that must be refused; a server that listens fails the test.
    fn refused(self) -> String {
        match self {
            Started::Exited { status, stderr } => {
                assert_eq!(status.code(), Some(1), "{stderr}");
                stderr
            }
            Started::Listening(serving) => {
                panic!("the server started: {}", serving.log.join("\n"))
            }
        }
    }

    fn listening(self) -> Serving {
        match self {
            Started::Listening(serving) => serving,
            Started::Exited { status, stderr } => panic!("tessera exited ({status}): {stderr}"),
        }
    }
}

/// A field of a JSON log line: tracing-subscriber puts event fields under `fields`.
fn field<'a>(entry: &'a Value, name: &str) -> &'a Value {
    match &entry["fields"][name] {
        Value::Null => &entry[name],
        found => found,
    }
}

/// The log lines, parsed; lines that are not JSON are left out.
fn json_lines(log: &[String]) -> Vec<Value> {
    log.iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// A plain HTTP/1.1 GET on the loopback, answered in full (the connection closes).
fn http_get(port: u16, path: &str, accept: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn config_never_prints_the_database_password() {
    let cli = Cli::new();
    for (url, secret, shown) in [
        (
            "postgres://u:p%40ss@h/db",
            "p%40ss",
            "postgres://u:***@h/db",
        ),
        (
            "postgres://u:p@ssw0rd@h/db",
            "ssw0rd",
            "postgres://u:***@h/db",
        ),
        (
            "postgres://u@h/db?password=hunter22&sslmode=require",
            "hunter22",
            "postgres://u@h/db?password=***&sslmode=require",
        ),
    ] {
        let output = cli.run(&["config"], "", &[("DATABASE_URL", url)]);
        assert!(output.status.success(), "{}", stderr_of(&output));
        let text = String::from_utf8(output.stdout.clone()).unwrap();
        assert!(!text.contains(secret), "{url}: {text}");
        assert!(!stderr_of(&output).contains(secret));
        let config: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(config["database_url"], shown, "{text}");
    }
}

#[test]
fn an_empty_kept_secret_refuses_the_start_and_says_which_file() {
    let cli = Cli::new();
    let path = cli.dir.path().join("secret.key");
    std::fs::write(&path, "").unwrap();
    let message = cli.serve(&[]).refused();
    assert!(
        message.contains(&path.display().to_string()) && message.contains("empty"),
        "{message}"
    );
    assert!(
        std::fs::read(&path).unwrap().is_empty(),
        "the file is left for the operator to look at"
    );
}

#[test]
fn development_refuses_a_short_secret_and_names_its_source() {
    let cli = Cli::new();
    let message = cli.serve(&[("TESSERA_SECRET_KEY", "abc")]).refused();
    assert!(
        message.contains("TESSERA_SECRET_KEY") && message.contains("at least 32"),
        "{message}"
    );
    assert!(!message.contains("abc"), "never the secret: {message}");
    let file = cli.dir.path().join("short.key");
    std::fs::write(&file, "0123456789\n").unwrap();
    let message = cli
        .serve(&[("TESSERA_SECRET_KEY_FILE", file.to_str().unwrap())])
        .refused();
    assert!(
        message.contains("TESSERA_SECRET_KEY_FILE") && message.contains("short.key"),
        "{message}"
    );
    assert!(
        !message.contains("0123456789"),
        "never the secret: {message}"
    );
}

#[test]
fn a_generated_secret_is_private_and_long_enough() {
    let cli = Cli::new();
    drop(cli.serve(&[]).listening());
    let path = cli.dir.path().join("secret.key");
    let secret = std::fs::read(&path).unwrap();
    assert!(secret.len() >= 32, "{} bytes", secret.len());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(cli.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains("secret") && name != "secret.key")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_missing_config_file_is_an_error_naming_it() {
    let cli = Cli::new();
    let missing = cli.dir.path().join("nonexistent.toml");
    let output = cli.run(&["--config", missing.to_str().unwrap(), "config"], "", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "no configuration is printed");
    let message = stderr_of(&output);
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );
    let through_env = cli.run(
        &["config"],
        "",
        &[("TESSERA_CONFIG", missing.to_str().unwrap())],
    );
    assert_eq!(through_env.status.code(), Some(1), "TESSERA_CONFIG too");
    assert!(stderr_of(&through_env).contains("nonexistent.toml"));
}

#[test]
fn an_unknown_config_key_is_an_error_naming_it() {
    let cli = Cli::new();
    std::fs::write(
        cli.dir.path().join("tessera.toml"),
        "bind = \"127.0.0.1:9\"\ntokn_ttl = 60\n",
    )
    .unwrap();
    let output = cli.run(&["config"], "", &[]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr_of(&output);
    assert!(message.contains("`tokn_ttl`"), "{message}");
    assert!(
        message.contains("`token_ttl`"),
        "a near miss is suggested: {message}"
    );

    let elsewhere = cli.dir.path().join("other.toml");
    std::fs::write(&elsewhere, "[production]\ntoken_ttl = 60\n").unwrap();
    let output = cli.run(
        &["--config", elsewhere.to_str().unwrap(), "config"],
        "",
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr_of(&output);
    assert!(
        message.contains("`production`") && message.contains("other.toml"),
        "{message}"
    );
}

#[test]
fn a_bad_value_is_reported_once() {
    let cli = Cli::new();
    let output = cli.run(&["config"], "", &[("TESSERA_BCRYPT_COST", "twelve")]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr_of(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert_eq!(message.matches("twelve").count(), 1, "{message}");
    assert_eq!(message.matches("invalid type").count(), 1, "{message}");

    std::fs::write(
        cli.dir.path().join("tessera.toml"),
        "token_ttl = \"sixty\"\n",
    )
    .unwrap();
    let message = stderr_of(&cli.run(&["config"], "", &[]));
    assert_eq!(message.matches("sixty").count(), 1, "{message}");
    std::fs::remove_file(cli.dir.path().join("tessera.toml")).unwrap();

    let missing = cli.dir.path().join("missing.key");
    let output = cli.run(
        &["users", "add", "ann"],
        "correct horse battery staple\n",
        &[("TESSERA_SECRET_KEY_FILE", missing.to_str().unwrap())],
    );
    let message = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert_eq!(message.matches("No such file").count(), 1, "{message}");
}

#[test]
fn commands_on_existing_data_never_create_a_database() {
    let cli = Cli::new();
    let missing = cli.dir.path().join("elsewhere/tessera.db");
    let url = format!("sqlite://{}", missing.display());
    for args in [
        &["users", "list"][..],
        &["users", "delete", "ann"],
        &["users", "set-password", "ann"],
        &["token", "verify", "not.a.token"],
    ] {
        for env in [&[][..], &[("DATABASE_URL", url.as_str())]] {
            let output = cli.run(args, "another good passphrase\n", env);
            let message = stderr_of(&output);
            assert_eq!(output.status.code(), Some(1), "{args:?} {env:?}: {message}");
            let expected = match env {
                [] => cli.dir.path().join("tessera.db"),
                _ => missing.clone(),
            };
            assert!(
                message.contains(&expected.display().to_string())
                    && message.contains("does not exist"),
                "{args:?}: {message}"
            );
        }
    }
    assert!(cli.ok(&["config"], "").contains("database_url"));
    let left: Vec<_> = std::fs::read_dir(cli.dir.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing was created: {left:?}");

    // Adding a user is how a database starts; then the same commands work.
    cli.ok(&["users", "add", "ann"], "correct horse battery staple\n");
    assert!(cli.ok(&["users", "list"], "").contains("ann"));
}

#[test]
fn the_start_up_line_says_what_is_served_and_the_bundle_beside_the_binary_is_found() {
    let cli = Cli::new();
    // A release layout: the binary with web/dist/ beside it, run from somewhere else.
    let release = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let exe = release.path().join("tessera");
    if std::fs::hard_link(env!("CARGO_BIN_EXE_tessera"), &exe).is_err() {
        std::fs::copy(env!("CARGO_BIN_EXE_tessera"), &exe).unwrap();
    }
    let bundle = release.path().join("web/dist");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("index.html"),
        "<!doctype html><title>beside the binary</title>",
    )
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let database = cli.dir.path().join("t.db");
    let url = format!("sqlite://{}", database.display());
    let serving = cli
        .serve_with(
            &exe,
            elsewhere.path(),
            &[
                ("TESSERA_LOG_FORMAT", "json"),
                ("TESSERA_SECRET_KEY", SECRET),
                ("DATABASE_URL", &url),
            ],
        )
        .listening();
    let entries = json_lines(&serving.log);
    let started = entries.last().unwrap();
    assert_eq!(started["level"], "INFO");
    assert_eq!(field(started, "backend"), "sqlite");
    assert_eq!(field(started, "env"), "development");
    assert_eq!(field(started, "database"), url.as_str());
    let config = tessera_server::Config {
        secret_key: Some(tessera_server::config::SecretString::new(SECRET)),
        ..Default::default()
    };
    let (_, ids) = tessera_server::keys::key_set_and_ids(&config).unwrap();
    assert_eq!(field(started, "key_ids"), ids.join(",").as_str());
    let web = PathBuf::from(field(started, "web").as_str().unwrap());
    assert_eq!(web.canonicalize().unwrap(), bundle.canonicalize().unwrap());
    assert!(serving.log.iter().all(|line| !line.contains(SECRET)));
    assert!(
        entries.iter().all(|entry| entry["level"] != "WARN"),
        "{:?}",
        serving.log
    );
    let page = http_get(serving.port, "/", "text/html");
    assert!(page.contains("beside the binary"), "{page}");
}

#[test]
fn a_missing_web_bundle_is_a_warning() {
    let cli = Cli::new();
    let serving = cli
        .serve(&[
            ("TESSERA_LOG_FORMAT", "json"),
            ("TESSERA_WEB_DIR", "no-such-bundle"),
        ])
        .listening();
    let entries = json_lines(&serving.log);
    let warning = entries
        .iter()
        .find(|entry| {
            field(entry, "message")
                .as_str()
                .is_some_and(|m| m.contains("web app"))
        })
        .unwrap_or_else(|| panic!("no line about the web app: {:?}", serving.log));
    assert_eq!(warning["level"], "WARN", "{warning}");
    let looked_in = field(warning, "looked_in").as_str().unwrap();
    assert!(looked_in.contains("no-such-bundle"), "{looked_in}");
    assert_eq!(field(entries.last().unwrap(), "web"), "none");
}

/// The README's curl session, run with bash exactly as written against a fresh server (only
/// its address changed to the test's port).
#[test]
fn the_readme_curl_session_runs_as_written() {
    let tools = ["bash", "curl", "python3"];
    let missing: Vec<_> = tools
        .iter()
        .filter(|tool| {
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .stdout(Stdio::null())
                .status()
                .map_or(true, |status| !status.success())
        })
        .collect();
    if !missing.is_empty() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but {missing:?} are missing"
        );
        eprintln!("\n*** SKIPPED the README curl session: {missing:?} not installed\n");
        return;
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let session = readme
        .split("## The tutorial's session, against Tessera")
        .nth(1)
        .and_then(|section| section.split("```sh\n").nth(1))
        .and_then(|block| block.split("```").next())
        .expect("README.md has the tutorial's session in a sh block");
    let cli = Cli::new();
    let serving = cli
        .serve(&[
            ("TESSERA_LOG_FORMAT", "json"),
            ("TESSERA_SECRET_KEY", SECRET),
        ])
        .listening();
    let script = session.replace(
        "http://127.0.0.1:8080",
        &format!("http://127.0.0.1:{}", serving.port),
    );
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(cli.dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", stderr_of(&output));
    assert!(stdout.contains("{\"username\":\"miguel\"}"), "{stdout}");
    assert_eq!(
        stdout.matches("\"Hello, miguel\"").count(),
        2,
        "both ways of sending the token work: {stdout}"
    );
    assert!(
        stdout.lines().any(|line| line.starts_with("eyJ")),
        "the token is printed without JSON quotes: {stdout}"
    );
}

/// A first start on a full disk fails without leaving an empty `secret.key`, which a later
/// start would have taken as an empty HMAC key; once there is space, the start succeeds.
#[test]
fn a_full_disk_on_first_start_leaves_no_empty_secret() {
    let Some(disk) = Tmpfs::mount("1m") else {
        return;
    };
    let cli = Cli::new();
    let data_dir = disk.path().join("data");
    std::fs::create_dir(&data_dir).unwrap();
    disk.fill();
    let database = format!("sqlite://{}/tessera.db", cli.dir.path().display());
    let env = [
        ("TESSERA_DATA_DIR", data_dir.to_str().unwrap()),
        ("DATABASE_URL", database.as_str()),
    ];
    let message = cli.serve(&env).refused();
    assert!(message.contains("secret"), "{message}");
    let left: Vec<_> = std::fs::read_dir(&data_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(
        left.is_empty(),
        "no secret file, whole or partial: {left:?}"
    );

    disk.free();
    drop(cli.serve(&env).listening());
    let secret = std::fs::read(data_dir.join("secret.key")).unwrap();
    assert!(secret.len() >= 32, "{} bytes", secret.len());
}
