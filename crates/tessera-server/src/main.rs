//! `tessera`: the token-authentication service and its administration commands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tessera_server::config::{Config, LogFormat, Overrides};
use tessera_server::import::{self, ImportSource};
use tessera_server::{Application, commands, keys, startup};
use tracing_subscriber::EnvFilter;

/// Token authentication for your app: register, sign in, get a signed token, call
/// protected endpoints with it.
#[derive(Debug, Parser)]
#[command(
    version,
    about,
    after_help = "Configuration: defaults, then tessera.toml, then TESSERA_* \
    environment variables and DATABASE_URL, then these flags. See docs/configuration.md."
)]
struct Cli {
    /// Configuration file (default: ./tessera.toml when it exists).
    #[arg(long, global = true, env = "TESSERA_CONFIG")]
    config: Option<PathBuf>,
    /// Database: sqlite://PATH, postgres://… or mysql://… (overrides DATABASE_URL).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Directory for the SQLite database and the development secret.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (migrates the database first).
    #[command(after_help = "Example: tessera serve --bind 0.0.0.0:8080")]
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply pending database migrations and exit.
    #[command(after_help = "Example: DATABASE_URL=postgres://tessera@db/tessera tessera migrate")]
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Print a fresh random 256-bit secret for TESSERA_SECRET_KEY.
    #[command(after_help = "Example: tessera keygen > /etc/tessera/secret.key")]
    Keygen,
    /// Print the effective configuration (all layers applied), secrets redacted.
    #[command(after_help = "Example: TESSERA_ENV=production tessera config")]
    Config,
    /// Inspect tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The signing keys: list them, or rotate by hand (asymmetric keys, TESSERA_SIGNING_ALG
    /// EdDSA or ES256).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Service clients: backend jobs that get access tokens at /oauth/token (client
    /// credentials) and may introspect and revoke tokens.
    #[command(subcommand)]
    Clients(ClientsCommand),
}

#[derive(Debug, Subcommand)]
enum ClientsCommand {
    /// Add a confidential client; prints its client_id and client_secret, the secret only
    /// this once (only its hash is stored).
    #[command(
        after_help = "Example: tessera clients add billing-job --audience billing-api --scope invoices:read --json"
    )]
    Add {
        /// The operator's name for the client.
        name: String,
        /// An audience its tokens may name (`aud`); repeat for several. None: the
        /// configured TESSERA_AUDIENCE, if any.
        #[arg(long = "audience", value_name = "AUD")]
        audiences: Vec<String>,
        /// A scope it may ask for; repeat for several.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Print {"client_id": …, "client_secret": …} only.
        #[arg(long)]
        json: bool,
    },
    /// List the clients (never their secrets).
    #[command(after_help = "Example: tessera clients list --json")]
    List {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Delete a client: its secret and its tokens stop.
    #[command(after_help = "Example: tessera clients delete svc_3q2T9vKf1m0aBcDe")]
    Delete {
        /// The client_id.
        id: String,
    },
    /// Give a client a new secret (printed once); the old one stops.
    #[command(after_help = "Example: tessera clients rotate-secret svc_3q2T9vKf1m0aBcDe --json")]
    RotateSecret {
        /// The client_id.
        id: String,
        /// Print {"client_id": …, "client_secret": …} only.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// List every signing key, newest first: id, algorithm, state (next, active, retired),
    /// when it was made, activated and retires, and when it leaves the JWKS.
    #[command(after_help = "Example: tessera keys list --json")]
    List {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Rotate now: the next key signs, the active key retires, a new next key is published.
    /// Refused while the next key is younger than the JWKS cache lifetime, unless --force.
    #[command(after_help = "Example: tessera keys rotate")]
    Rotate {
        /// Rotate even if verifiers caching the JWKS may not have the next key yet.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Check a token with the configured keys (current and legacy) and print what it says
    /// as one JSON object; exit status 0 only when it is valid.
    #[command(after_help = "Examples:\n  tessera token verify \"$TOKEN\"\n  \
        printf '%s\\n' \"$TOKEN\" | tessera token verify - --at 1700000300")]
    Verify {
        /// The token, or `-` to read it from stdin (keeps it out of `ps`).
        token: String,
        /// Evaluate expiry at this time (Unix seconds) instead of now.
        #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
        at: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Create a user; the password is read from a prompt, or from stdin when piped.
    #[command(after_help = "Example: printf '%s\\n' \"$PASSWORD\" | tessera users add alice")]
    Add {
        /// The new username.
        username: String,
    },
    /// List users.
    #[command(after_help = "Example: tessera users list --json")]
    List {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Delete a user and end their sessions.
    #[command(after_help = "Example: tessera users delete alice\n\
        By id, e.g. the second of two look-alike names: tessera users delete --id 7")]
    #[command(group(clap::ArgGroup::new("who").required(true).args(["username", "id"])))]
    Delete {
        /// The username.
        username: Option<String>,
        /// The user's id instead (`tessera users list` shows it).
        #[arg(long)]
        id: Option<i64>,
    },
    /// Set a user's password; read from a prompt, or from stdin when piped.
    #[command(
        after_help = "Example: printf '%s\\n' \"$PASSWORD\" | tessera users set-password alice"
    )]
    SetPassword {
        /// The username.
        username: String,
    },
    /// Import the Flask tutorial's users, keeping their password hashes and ids; safe to
    /// run again (nothing changes twice) and all-or-nothing. See docs/migrating-from-flask.md.
    #[command(
        after_help = "Examples:\n  tessera users import --from mysql://flask:secret@db/flask\n  \
        tessera users import --from sqlite:///srv/flask/data.sqlite\n  \
        tessera users import --file users.jsonl   # {\"username\": …, \"password_hash\": …, \"id\": …}"
    )]
    #[command(group(clap::ArgGroup::new("source").required(true).args(["from", "file"])))]
    Import {
        /// The tutorial's database: mysql://…, postgres://… or sqlite://PATH (read only).
        #[arg(long, value_name = "DATABASE_URL")]
        from: Option<String>,
        /// A file of JSON lines: {"username": …, "password_hash": …, "id": …} (id optional).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is::<InvalidToken>() => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("tessera: {}", describe_error(&error));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, each said once. A cause whose text is already in
/// the line is left out: an error type whose message includes its source (a `thiserror`
/// `"…: {0}"` over a `#[from]` field) would otherwise print it twice, as `{:#}` does.
fn describe_error(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// `tessera token verify`: prints the report; an invalid token is an error exit without a
/// further message (the report says why).
fn verify_token(config: &Config, token: &str, at: Option<i64>) -> anyhow::Result<()> {
    let token = if token == "-" {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim().to_owned()
    } else {
        token.trim().to_owned()
    };
    let at = match at {
        Some(seconds) => chrono::DateTime::from_timestamp(seconds, 0)
            .ok_or_else(|| anyhow::anyhow!("--at {seconds} is out of range"))?,
        None => chrono::Utc::now(),
    };
    let auth = startup::existing_auth(config)?;
    let report = commands::verify_token(&auth, &token, at)?;
    println!("{report}");
    match &report.reason {
        None => Ok(()),
        Some(reason) => {
            eprintln!("tessera: the token is not valid: {reason}");
            Err(InvalidToken.into())
        }
    }
}

/// The exit of `token verify` for a token that is not valid.
#[derive(Debug)]
struct InvalidToken;

impl std::fmt::Display for InvalidToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the token is not valid")
    }
}

impl std::error::Error for InvalidToken {}

/// Lines the log queue holds before a request thread waits for the writer: about 25 MB of
/// JSON lines, seconds of the heaviest load this server can take.
const LOG_QUEUE_LINES: usize = 64 * 1024;

/// Sets up the logs: lines are formatted on the thread that logs, then queued for one
/// writer thread that writes them to stderr in batches (a buffer flushed whenever the
/// queue is empty), so no request waits for a write to a pipe, a terminal or journald.
/// The queue is not lossy: when it is full, loggers wait rather than lose lines (an
/// auth service's log is its audit trail). The guard flushes what is queued when dropped:
/// keep it until the process ends.
fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    use std::io::IsTerminal;
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
    use tracing_subscriber::util::SubscriberInitExt;

    /// Drops actix-web's `error` lines about requests it refused itself as malformed, too
    /// large or too slow (it answered them 400, 431 or 408): any client can send those, and
    /// a client's mistake is not the server's error.
    struct ClientMistakes;

    const CLIENT_MISTAKES: [&str; 3] = [
        "stream error: request parse error",
        "stream error: request did not complete",
        "MAX_BUFFER_SIZE",
    ];

    impl<S: tracing::Subscriber> Layer<S> for ClientMistakes {
        fn event_enabled(&self, event: &tracing::Event<'_>, _: Context<'_, S>) -> bool {
            let metadata = event.metadata();
            if *metadata.level() != tracing::Level::ERROR
                || !metadata.target().starts_with("actix_http::h1")
            {
                return true;
            }
            let mut message = Message(String::new());
            event.record(&mut message);
            !CLIENT_MISTAKES
                .iter()
                .any(|mistake| message.0.starts_with(mistake))
        }
    }

    struct Message(String);

    impl tracing::field::Visit for Message {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                self.0 = format!("{value:?}");
            }
        }
    }

    let filter = EnvFilter::try_from_env("TESSERA_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .thread_name("tessera-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // Colour is for a person at a terminal; in a file or a collector it is noise.
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        // The current span only: its list would repeat the same request id on every line.
        LogFormat::Json => builder
            .json()
            .with_span_list(false)
            .finish()
            .with(ClientMistakes)
            .init(),
        LogFormat::Text => builder.finish().with(ClientMistakes).init(),
    }
    guard
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let bind = match &cli.command {
        Command::Serve { bind } => bind.clone(),
        _ => None,
    };
    let overrides = Overrides {
        bind,
        database_url: cli.database_url,
        data_dir: cli.data_dir,
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    let _log_writer = init_logging(config.log_format);
    match cli.command {
        Command::Serve { .. } => actix_web::rt::System::new().block_on(async {
            let application = Application::build(&config)?;
            application.run_until_stopped().await?;
            tracing::info!("stopped");
            Ok(())
        }),
        Command::Migrate => {
            let report = tessera_store::migrate(&config.database_url())?;
            println!("applied {} migration(s)", report.applied);
            for collision in &report.rekey.collisions {
                println!("{collision}");
            }
            Ok(())
        }
        Command::Keygen => {
            println!("{}", keys::generate_secret()?);
            Ok(())
        }
        Command::Config => {
            println!("{}", serde_json::to_string_pretty(&config)?);
            Ok(())
        }
        Command::Token(TokenCommand::Verify { token, at }) => verify_token(&config, &token, at),
        Command::Keys(command) => {
            let auth = startup::existing_auth(&config)?;
            let output = match command {
                KeysCommand::List { json } => commands::list_keys(&auth, json)?,
                KeysCommand::Rotate { force } => commands::rotate_keys(&auth, force)?,
            };
            println!("{output}");
            Ok(())
        }
        Command::Clients(command) => {
            // Only adding may start a new database, as for users.
            let auth = match command {
                ClientsCommand::Add { .. } => startup::auth(&config)?,
                _ => startup::existing_auth(&config)?,
            };
            let output = match command {
                ClientsCommand::Add {
                    name,
                    audiences,
                    scopes,
                    json,
                } => commands::add_client(&auth, &name, &audiences, &scopes, json)?,
                ClientsCommand::List { json } => commands::list_clients(&auth, json)?,
                ClientsCommand::Delete { id } => commands::delete_client(&auth, &id)?,
                ClientsCommand::RotateSecret { id, json } => {
                    commands::rotate_client_secret(&auth, &id, json)?
                }
            };
            println!("{output}");
            Ok(())
        }
        Command::Users(command) => {
            // Only the commands that add users may start a new database; the others work on
            // existing data, and from the wrong directory would leave an empty one behind.
            let auth = match command {
                UsersCommand::Add { .. } | UsersCommand::Import { .. } => startup::auth(&config)?,
                UsersCommand::List { .. }
                | UsersCommand::Delete { .. }
                | UsersCommand::SetPassword { .. } => startup::existing_auth(&config)?,
            };
            let output = match command {
                UsersCommand::Add { username } => {
                    let password = commands::read_password("Password: ")?;
                    commands::add_user(&auth, &username, &password)?
                }
                UsersCommand::List { json } => commands::list_users(&auth, json)?,
                UsersCommand::Delete { username, id } => {
                    let who = match (username, id) {
                        (_, Some(id)) => commands::UserRef::Id(id),
                        (Some(name), None) => commands::UserRef::Name(name),
                        (None, None) => anyhow::bail!("name the user, or give --id"),
                    };
                    commands::delete_user(&auth, &who)?
                }
                UsersCommand::SetPassword { username } => {
                    let password = commands::read_password("New password: ")?;
                    commands::set_password(&auth, &username, &password)?
                }
                UsersCommand::Import { from, file, json } => {
                    let source = match (from, file) {
                        (Some(url), _) => ImportSource::Database(url),
                        (None, Some(path)) => ImportSource::File(path),
                        (None, None) => {
                            anyhow::bail!("name a source: --from DATABASE_URL or --file FILE")
                        }
                    };
                    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
                    let report = import::import(&auth, &source, &mut std::io::stderr(), terminal)?;
                    if json {
                        import::to_json(&report).to_string()
                    } else {
                        import::describe(&report)
                    }
                }
            };
            println!("{output}");
            Ok(())
        }
    }
}
