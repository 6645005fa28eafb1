//! The subcommands other than `serve`: database and account administration.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use tessera_domain::Accounts;

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
pub fn add_user(accounts: &Accounts, username: &str, password: &str) -> anyhow::Result<String> {
    let user = accounts.register(username, password).map_err(describe)?;
    Ok(format!(
        "created user {} with id {}",
        user.username, user.id
    ))
}

/// `tessera users list`: an aligned table, or JSON lines with `--json`.
pub fn list_users(accounts: &Accounts, json: bool) -> anyhow::Result<String> {
    let users = accounts
        .users()
        .list_users()
        .map_err(|e| describe(e.into()))?;
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
    let width = users
        .iter()
        .map(|u| u.username.chars().count())
        .max()
        .unwrap_or(0)
        .max("USERNAME".len());
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

/// `tessera users delete NAME`
pub fn delete_user(accounts: &Accounts, username: &str) -> anyhow::Result<String> {
    let user = accounts.find_by_username(username).map_err(describe)?;
    accounts.delete(user.id).map_err(describe)?;
    Ok(format!("deleted user {}", user.username))
}

/// `tessera users set-password NAME`
pub fn set_password(accounts: &Accounts, username: &str, password: &str) -> anyhow::Result<String> {
    let user = accounts.find_by_username(username).map_err(describe)?;
    accounts.set_password(user.id, password).map_err(describe)?;
    Ok(format!("changed the password of {}", user.username))
}

/// `tessera token verify`: what a token says and whether the configured keys accept it
/// at `at`, as one line of JSON (`valid`, `error`, `format`, `header`, `claims`); the flag
/// is true only for a valid token.
///
/// A Tessera JWT is tried first, then (when `legacy` is configured) the Flask tutorial's
/// itsdangerous format. For a token neither accepts, the error is that of the format it
/// looks like: legacy when its header carries `exp` (itsdangerous puts the dates there),
/// else JWT. A legacy token without a configured legacy key is `unknown_key`. `header` and
/// `claims` are `null` when the token cannot be decoded at all.
pub fn verify_token(
    keys: &tessera_token::KeySet,
    legacy: Option<&tessera_token::legacy::LegacyVerifier>,
    token: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> (String, bool) {
    use serde_json::Value;
    use tessera_token::ErrorKind;

    let (header, claims) =
        tessera_token::decode_unverified(token).unwrap_or((Value::Null, Value::Null));
    let looks_legacy = header.get("exp").is_some();
    let (format, error) = match keys.verify(token, at) {
        Ok(_) => ("jwt", None),
        Err(jwt_error) => match legacy.map(|verifier| verifier.verify(token, at)) {
            Some(Ok(_)) => ("legacy", None),
            Some(Err(legacy_error)) if looks_legacy => ("legacy", Some(legacy_error.kind())),
            None if looks_legacy => ("legacy", Some(ErrorKind::UnknownKey)),
            _ => ("jwt", Some(jwt_error.kind())),
        },
    };
    let report = TokenReport {
        valid: error.is_none(),
        error: error.map(ErrorKind::as_str),
        format,
        header,
        claims,
    };
    (report.to_string(), report.valid)
}

/// The output of `tessera token verify`, its fields in this order.
#[derive(Debug, serde::Serialize)]
struct TokenReport {
    valid: bool,
    error: Option<&'static str>,
    format: &'static str,
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
        other => anyhow::anyhow!(other.to_string()),
    }
}
