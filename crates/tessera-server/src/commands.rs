//! The subcommands other than `serve`: database and account administration.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use tessera_domain::{Auth, ClientSecret, ServiceClient, TokenRefusal};

/// Reads a password: from a prompt without echo on a terminal, else one line of stdin.
/// Never from a flag, where `ps` would show it.
pub fn read_password(prompt: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(prompt)?;
        let again = rpassword::prompt_password("Repeat password: ")?;
        if first != again {
            bail!("the passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.strip_suffix('\r').unwrap_or(password).to_owned())
}

/// `tessera users add NAME`
pub fn add_user(auth: &Auth, username: &str, password: &str) -> anyhow::Result<String> {
    let user = auth.add_user(username, password).map_err(describe)?;
    Ok(format!(
        "created user {} with id {}",
        user.username, user.id
    ))
}

/// `tessera users list`: an aligned table, or JSON lines with `--json`.
pub fn list_users(auth: &Auth, json: bool) -> anyhow::Result<String> {
    let users = auth.list_users().map_err(describe)?;
    if json {
        let lines: Vec<String> = users
            .iter()
            .map(|u| {
                serde_json::json!({
                    "id": u.id.0,
                    "username": u.username,
                    "created_at": u.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                })
                .to_string()
            })
            .collect();
        return Ok(lines.join("\n"));
    }
    let width = column_width(users.iter().map(|u| u.username.as_str()), "USERNAME");
    let mut table = format!("{:>6}  {:<width$}  CREATED\n", "ID", "USERNAME");
    for user in &users {
        table.push_str(&format!(
            "{:>6}  {:<width$}  {}\n",
            user.id.0,
            user.username,
            user.created_at.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    table.push_str(&format!("{} user(s)", users.len()));
    Ok(table)
}

/// `tessera keys list [--json]`: every signing key, newest first.
pub fn list_keys(auth: &Auth, json: bool) -> anyhow::Result<String> {
    let keys = auth.signing_keys().map_err(describe)?;
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    if json {
        let lines: Vec<String> = keys
            .iter()
            .map(|key| {
                serde_json::json!({
                    "kid": key.kid,
                    "alg": key.algorithm,
                    "state": key.state.as_str(),
                    "source": key.source,
                    "created": time(key.created_at),
                    "activated": time(key.activated_at),
                    "retires": time(key.retires_at),
                    "removed_after": time(key.remove_after),
                })
                .to_string()
            })
            .collect();
        return Ok(lines.join("\n"));
    }
    let cell = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map_or_else(
            || "-".to_owned(),
            |at| at.format("%Y-%m-%d %H:%M:%S").to_string(),
        )
    };
    let width = column_width(keys.iter().map(|key| key.kid.as_str()), "KID");
    let mut table = format!(
        "{:<width$}  {:<5}  {:<7}  {:<13}  {:<19}  {:<19}  {:<19}  REMOVED AFTER\n",
        "KID", "ALG", "STATE", "SOURCE", "CREATED", "ACTIVATED", "RETIRES"
    );
    for key in &keys {
        table.push_str(&format!(
            "{:<width$}  {:<5}  {:<7}  {:<13}  {:<19}  {:<19}  {:<19}  {}\n",
            key.kid,
            key.algorithm,
            key.state.as_str(),
            key.source,
            cell(key.created_at),
            cell(key.activated_at),
            cell(key.retires_at),
            cell(key.remove_after),
        ));
    }
    table.push_str(&format!("{} key(s); times in UTC", keys.len()));
    Ok(table)
}

/// `tessera keys rotate [--force]`: the next key signs from now on, on every process within
/// a sync interval.
pub fn rotate_keys(auth: &Auth, force: bool) -> anyhow::Result<String> {
    auth.rotate_signing_keys(force).map_err(describe)?;
    let active = auth
        .key_set()
        .signing_key_id()
        .unwrap_or_default()
        .to_owned();
    Ok(format!("rotated: {active} signs now"))
}

/// `tessera clients add NAME`: the new client's id and its secret, shown this once.
pub fn add_client(
    auth: &Auth,
    name: &str,
    audiences: &[String],
    scopes: &[String],
    json: bool,
) -> anyhow::Result<String> {
    let (client, secret) = auth.add_client(name, audiences, scopes).map_err(describe)?;
    Ok(client_secret_shown(
        &format!("created client {:?}", client.name),
        &client,
        &secret,
        json,
    ))
}

/// `tessera clients rotate-secret ID`: a new secret, shown this once; the old one stops.
pub fn rotate_client_secret(auth: &Auth, id: &str, json: bool) -> anyhow::Result<String> {
    let (client, secret) = auth.rotate_client_secret(id).map_err(describe)?;
    Ok(client_secret_shown(
        &format!("new secret for client {:?}", client.name),
        &client,
        &secret,
        json,
    ))
}

fn client_secret_shown(
    headline: &str,
    client: &ServiceClient,
    secret: &ClientSecret,
    json: bool,
) -> String {
    if json {
        return serde_json::json!({
            "client_id": client.id,
            "client_secret": secret.expose(),
        })
        .to_string();
    }
    format!(
        "{headline}\nclient_id:     {}\nclient_secret: {}\n\
         The secret is shown only now and cannot be recovered; \
         `tessera clients rotate-secret {}` makes a new one.",
        client.id,
        secret.expose(),
        client.id
    )
}

/// `tessera clients list [--json]`: every service client, oldest first (never a secret).
pub fn list_clients(auth: &Auth, json: bool) -> anyhow::Result<String> {
    let clients = auth.list_clients().map_err(describe)?;
    let time =
        |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if json {
        let lines: Vec<String> = clients
            .iter()
            .map(|client| {
                serde_json::json!({
                    "client_id": client.id,
                    "name": client.name,
                    "audiences": client.audiences,
                    "scopes": client.scopes,
                    "created": time(client.created_at),
                    "secret_set": time(client.secret_rotated_at),
                })
                .to_string()
            })
            .collect();
        return Ok(lines.join("\n"));
    }
    let id_width = column_width(clients.iter().map(|c| c.id.as_str()), "CLIENT_ID");
    let name_width = column_width(clients.iter().map(|c| c.name.as_str()), "NAME");
    let mut table = format!(
        "{:<id_width$}  {:<name_width$}  {:<19}  AUDIENCES / SCOPES\n",
        "CLIENT_ID", "NAME", "CREATED"
    );
    for client in &clients {
        table.push_str(&format!(
            "{:<id_width$}  {:<name_width$}  {:<19}  {} / {}\n",
            client.id,
            client.name,
            client.created_at.format("%Y-%m-%d %H:%M:%S"),
            dash_if_empty(&client.audiences),
            dash_if_empty(&client.scopes),
        ));
    }
    table.push_str(&format!("{} client(s); times in UTC", clients.len()));
    Ok(table)
}

fn dash_if_empty(list: &[String]) -> String {
    if list.is_empty() {
        "-".to_owned()
    } else {
        list.join(" ")
    }
}

/// `tessera clients delete ID`: its secret stops, and its tokens stop introspecting as
/// active, on every process within a sync interval.
pub fn delete_client(auth: &Auth, id: &str) -> anyhow::Result<String> {
    let client = auth.delete_client(id).map_err(describe)?;
    Ok(format!("deleted client {:?} ({})", client.name, client.id))
}

/// Which user an operator means: by name, or by id (which reaches either of two users
/// whose names became look-alikes).
#[derive(Debug, Clone)]
pub enum UserRef {
    /// By name, compared as sign-in compares it.
    Name(String),
    /// By id.
    Id(i64),
}

/// `tessera users delete NAME | --id ID`: the account and every session of it.
pub fn delete_user(auth: &Auth, who: &UserRef) -> anyhow::Result<String> {
    let deleted = match who {
        UserRef::Name(name) => auth.delete_user(name),
        UserRef::Id(id) => auth.delete_user_by_id(tessera_domain::UserId(*id)),
    };
    let (user, ended) = deleted.map_err(describe)?;
    Ok(format!(
        "deleted user {} and ended {ended} session(s)",
        user.username
    ))
}

/// `tessera users set-password NAME`: every session of the user ends.
pub fn set_password(auth: &Auth, username: &str, password: &str) -> anyhow::Result<String> {
    let (user, ended) = auth.set_password(username, password).map_err(describe)?;
    Ok(format!(
        "changed the password of {} and ended {ended} session(s)",
        user.username
    ))
}

/// `tessera token verify`: what a token says and whether it is good at `at`, as one line
/// of JSON (`valid`, `error`, `format`, `session`, `user_exists`, `header`, `claims`), and
/// the reason in words when it is not. `valid` is true only when every rule of the token
/// check holds: signature and times, a session that is still live, a user that exists.
///
/// `session` is `"live"`, `"ended"` or `"none"` (a legacy token, or one not verified far
/// enough to trust its `sid`); `user_exists` is `null` when the token was not verified.
/// `header` and `claims` are `null` when the token cannot be decoded at all.
pub fn verify_token(
    auth: &Auth,
    token: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<TokenReport> {
    let (header, claims) = tessera_token::decode_unverified(token)
        .unwrap_or((serde_json::Value::Null, serde_json::Value::Null));
    let inspection = auth.inspect_token(token, at).map_err(describe)?;
    Ok(TokenReport {
        valid: inspection.refusal.is_none(),
        error: inspection.refusal.map(TokenRefusal::code),
        reason: inspection.refusal.map(|r| r.to_string()),
        format: inspection.format.as_str(),
        session: match inspection.session_live {
            Some(true) => "live",
            Some(false) => "ended",
            None => "none",
        },
        user_exists: inspection.user_exists,
        header,
        claims,
    })
}

/// The output of `tessera token verify`, its fields in this order.
#[derive(Debug, serde::Serialize)]
pub struct TokenReport {
    /// Whether the token is good.
    pub valid: bool,
    /// Why not, as a stable code.
    pub error: Option<&'static str>,
    /// Why not, in words (printed on stderr, not in the JSON).
    #[serde(skip)]
    pub reason: Option<String>,
    format: &'static str,
    session: &'static str,
    user_exists: Option<bool>,
    header: serde_json::Value,
    claims: serde_json::Value,
}

impl std::fmt::Display for TokenReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| std::fmt::Error)?;
        f.write_str(&json)
    }
}

/// Domain errors in words an operator can act on.
fn describe(error: tessera_domain::Error) -> anyhow::Error {
    use tessera_domain::Error;
    match error {
        Error::UserNotFound => anyhow::anyhow!("no such user"),
        Error::ClientNotFound => {
            anyhow::anyhow!("no such client: `tessera clients list` shows them")
        }
        other => anyhow::anyhow!(other.to_string()),
    }
}

/// The width of a table column holding `values` under `header`, in characters.
fn column_width<'a>(values: impl Iterator<Item = &'a str>, header: &str) -> usize {
    values
        .map(|value| value.chars().count())
        .max()
        .unwrap_or(0)
        .max(header.len())
}
