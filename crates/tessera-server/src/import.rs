//! `tessera users import`: accounts from the Flask tutorial's `users` table, or from a file
//! of JSON lines, with their password hashes and (where free) their ids.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Deserialize;
use tessera_domain::{Auth, ImportRecord, ImportReport, RejectReason, Rejected};

/// Without a terminal, a progress line goes to stderr after every this many users.
pub const PROGRESS_EVERY: usize = 1000;

/// Where the accounts come from.
#[derive(Debug, Clone)]
pub enum ImportSource {
    /// The tutorial's database: `sqlite://…`, `postgres://…` or `mysql://…`.
    Database(String),
    /// JSON lines `{"username": …, "password_hash": …, "id": …}` (`id` optional).
    File(PathBuf),
}

impl std::fmt::Display for ImportSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportSource::Database(url) => f.write_str(&tessera_store::redact_url(url)),
            ImportSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// One line of an import file.
#[derive(Deserialize)]
struct FileRecord {
    #[serde(default)]
    id: Option<i64>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password_hash: Option<String>,
}

/// The records of `source`, and those that could not even be read.
pub fn read_records(source: &ImportSource) -> anyhow::Result<(Vec<ImportRecord>, Vec<Rejected>)> {
    match source {
        ImportSource::Database(url) => {
            let rows = tessera_store::tutorial::read_tutorial_users(url)?;
            let records = rows
                .into_iter()
                .map(|row| ImportRecord {
                    source: format!("id {}", row.id),
                    id: Some(i64::from(row.id)),
                    username: row.username,
                    password_hash: row.password,
                })
                .collect();
            Ok((records, Vec::new()))
        }
        ImportSource::File(path) => read_file(path),
    }
}

fn read_file(path: &Path) -> anyhow::Result<(Vec<ImportRecord>, Vec<Rejected>)> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut records = Vec::new();
    let mut unreadable = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let source = format!("line {}", index + 1);
        let line = line.with_context(|| format!("cannot read {} ({source})", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<FileRecord>(&line) {
            Ok(record) => records.push(ImportRecord {
                source,
                id: record.id,
                username: record.username,
                password_hash: record.password_hash,
            }),
            Err(error) => unreadable.push(Rejected {
                source,
                username: None,
                // serde's message without the line itself, which holds a hash.
                reason: RejectReason::Unreadable(format!(
                    "expected a JSON object with username, password_hash and optional \
                     integer id ({} at column {})",
                    match error.classify() {
                        serde_json::error::Category::Data => "wrong field type",
                        _ => "not JSON",
                    },
                    error.column()
                )),
            }),
        }
    }
    Ok((records, unreadable))
}

/// Reads `source` and imports it with `auth`, and returns the report. Progress goes to
/// `progress` (stderr): a bar with the rate and the time left when `terminal`, else a
/// line every [`PROGRESS_EVERY`] users; then the time the import took and its rate.
pub fn import(
    auth: &Auth,
    source: &ImportSource,
    progress: &mut dyn Write,
    terminal: bool,
) -> anyhow::Result<ImportReport> {
    let (records, unreadable) = read_records(source)?;
    let total = records.len();
    let _ = writeln!(progress, "read {total} user(s) from {source}");
    let started = Instant::now();
    let bar = terminal.then(|| progress_bar(total));
    let report = auth
        .import(&records, unreadable, &mut |done| match &bar {
            Some(bar) => bar.set_position(done as u64),
            None if done % PROGRESS_EVERY == 0 => {
                let _ = writeln!(progress, "{done} of {total} user(s) handled…");
            }
            None => {}
        })
        .map_err(|e| anyhow::anyhow!("import failed, nothing was changed: {e}"));
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = report?;
    let seconds = started.elapsed().as_secs_f64();
    let _ = writeln!(
        progress,
        "handled {total} user(s) in {seconds:.1} s ({:.0} users/s)",
        total as f64 / seconds.max(0.001)
    );
    Ok(report)
}

/// The bar a person at a terminal watches: users handled, their rate, the time left.
fn progress_bar(total: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    // The template is a constant: it parses, or the plain default bar does.
    let style = ProgressStyle::with_template(
        "{elapsed_precise} [{wide_bar}] {human_pos}/{human_len} users, {per_sec}, {eta} left",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// The report for an operator: the counts first, then one line per notable record.
pub fn describe(report: &ImportReport) -> String {
    let renumbered = report.imported.iter().filter(|i| i.renumbered()).count();
    let mut text = format!(
        "imported {}, skipped {} (already present), rejected {}",
        report.imported.len(),
        report.skipped.len(),
        report.rejected.len()
    );
    if renumbered > 0 {
        text.push_str(&format!(
            "\n{renumbered} imported user(s) got a new id because theirs was taken: their old \
             tokens will not reach them, and while TESSERA_LEGACY_SECRET_KEY is set an old \
             token naming such an id reaches whoever holds it here \
             (see docs/migrating-from-flask.md)"
        ));
    }
    for imported in report.imported.iter().filter(|i| i.renumbered()) {
        text.push_str(&format!(
            "\nnew id: {} {:?} is now id {}",
            imported.source, imported.username, imported.id
        ));
    }
    for rejected in &report.rejected {
        let name = rejected
            .username
            .as_deref()
            .map(|name| format!(" {name:?}"))
            .unwrap_or_default();
        text.push_str(&format!(
            "\nrejected: {}{name}: {}",
            rejected.source, rejected.reason
        ));
    }
    text
}

/// The report as one JSON object, for scripts.
pub fn to_json(report: &ImportReport) -> serde_json::Value {
    serde_json::json!({
        "imported": report.imported.len(),
        "skipped": report.skipped.len(),
        "rejected": report.rejected.len(),
        "renumbered": report.imported.iter().filter(|i| i.renumbered()).map(|i| serde_json::json!({
            "source": i.source,
            "username": i.username,
            "old_id": i.old_id,
            "id": i.id.0,
        })).collect::<Vec<_>>(),
        "rejections": report.rejected.iter().map(|r| serde_json::json!({
            "source": r.source,
            "username": r.username,
            "reason": r.reason.to_string(),
        })).collect::<Vec<_>>(),
    })
}
