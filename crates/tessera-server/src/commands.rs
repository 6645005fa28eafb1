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

/// Domain errors in words an operator can act on.
fn describe(error: tessera_domain::Error) -> anyhow::Error {
    use tessera_domain::Error;
    match error {
        Error::UserNotFound => anyhow::anyhow!("no such user"),
        other => anyhow::anyhow!(other.to_string()),
    }
}
