//! Importing accounts from another system, such as the Flask tutorial's `users` table.
//!
//! The rules are on [`Accounts::import`].

use std::collections::HashMap;

use chrono::Utc;

use crate::{Auth, Error, ImportOutcome, ImportedUser, UserId, Username, UsernameError};

/// One account as read from the other system.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportRecord {
    /// Where it was read, for the report: e.g. `id 7` or `line 12`.
    pub source: String,
    /// The id there, if it had one.
    pub id: Option<i64>,
    /// The username there (`NULL` is possible in the tutorial's table).
    pub username: Option<String>,
    /// The password hash there.
    pub password_hash: Option<String>,
}

impl std::fmt::Debug for ImportRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportRecord")
            .field("source", &self.source)
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

/// Why a record was not imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// The record itself could not be read (e.g. a line of a file that is not the expected
    /// JSON); the text says why, without repeating the record.
    #[error("unreadable record: {0}")]
    Unreadable(String),
    /// No username at all.
    #[error("no username")]
    MissingUsername,
    /// The username breaks the policy.
    #[error("invalid username: {0}")]
    InvalidUsername(UsernameError),
    /// No password hash at all.
    #[error("no password hash")]
    MissingPasswordHash,
    /// The hash is in a format Tessera cannot verify.
    #[error(
        "password hash in an unsupported format (expected sha512_crypt, sha256_crypt, bcrypt \
         or bcrypt_sha256)"
    )]
    UnsupportedHash,
    /// An earlier record has the same username regardless of case.
    #[error("duplicate username regardless of case: {first} was imported instead")]
    DuplicateUsername {
        /// The record that was kept.
        first: String,
    },
    /// Another account here already has this username.
    #[error("username already taken here by another account (id {existing})")]
    UsernameTaken {
        /// That account.
        existing: UserId,
    },
}

/// A record that became a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Where it was read.
    pub source: String,
    /// The username, as stored.
    pub username: String,
    /// The id it had.
    pub old_id: Option<i64>,
    /// The id it has now.
    pub id: UserId,
}

impl Imported {
    /// True when the old id was taken, so the user got another one (old tokens naming the
    /// old id do not reach this user).
    pub fn renumbered(&self) -> bool {
        self.old_id.is_some_and(|old| old != self.id.0)
    }
}

/// A record whose account was already here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Where it was read.
    pub source: String,
    /// The username.
    pub username: String,
    /// The existing account.
    pub id: UserId,
}

/// A record that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Where it was read.
    pub source: String,
    /// The username, when there was one.
    pub username: Option<String>,
    /// Why.
    pub reason: RejectReason,
}

/// What an import did, record by record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Records that became users.
    pub imported: Vec<Imported>,
    /// Records whose account already existed.
    pub skipped: Vec<Skipped>,
    /// Records that were refused.
    pub rejected: Vec<Rejected>,
}

/// A record that passed validation, waiting for the store.
struct Candidate<'a> {
    record: &'a ImportRecord,
    username: Username,
    password_hash: &'a str,
}

impl Auth {
    /// Imports `records`. `unreadable` are records the caller could not read at all,
    /// reported as rejected. `progress` is called with the number of valid records handled
    /// so far. On error nothing was imported.
    ///
    /// The rules, in order:
    ///
    /// 1. A record needs a username that [`Username::parse`] accepts and a password hash in a
    ///    format [`crate::PasswordHasher::verify`] understands (SHA-crypt `$6$`/`$5$`, bcrypt,
    ///    `bcrypt_sha256`); anything else is rejected with the reason.
    /// 2. Of valid records whose usernames are equal regardless of case (the tutorial's column
    ///    was not unique), the first is imported and the others are rejected as duplicates. The
    ///    first is the lowest id when reading a table, the earliest line of a file: the row the
    ///    tutorial itself signed in on MySQL, whose default collation ignores case.
    /// 3. A username that already exists here is skipped when it is the same account (same id
    ///    or same hash: an earlier run of the import), and rejected otherwise.
    /// 4. Old ids are kept when free, since old tokens name them; otherwise the user gets a new
    ///    id, above every old id, and the report says so.
    ///
    /// Everything is written in one transaction, so a failure changes nothing, and running the
    /// same import again changes nothing either.
    pub fn import(
        &self,
        records: &[ImportRecord],
        unreadable: Vec<Rejected>,
        progress: &mut dyn FnMut(usize),
    ) -> Result<ImportReport, Error> {
        let mut report = ImportReport {
            rejected: unreadable,
            ..ImportReport::default()
        };
        let mut candidates: Vec<Candidate<'_>> = Vec::new();
        let mut first_by_key: HashMap<String, &str> = HashMap::new();
        for record in records {
            let reject = |reason| Rejected {
                source: record.source.clone(),
                username: record.username.clone(),
                reason,
            };
            let candidate = match self.validate(record) {
                Ok(candidate) => candidate,
                Err(reason) => {
                    report.rejected.push(reject(reason));
                    continue;
                }
            };
            if let Some(first) = first_by_key.get(&candidate.username.canonical()) {
                report
                    .rejected
                    .push(reject(RejectReason::DuplicateUsername {
                        first: (*first).to_owned(),
                    }));
                continue;
            }
            first_by_key.insert(candidate.username.canonical(), &record.source);
            candidates.push(candidate);
        }

        let created_at = Utc::now();
        let users: Vec<ImportedUser<'_>> = candidates
            .iter()
            .map(|c| ImportedUser {
                id: c.record.id.map(UserId),
                username: &c.username,
                password_hash: c.password_hash,
                created_at,
            })
            .collect();
        // Every old id, rejected ones included, stays reserved: a token may name it.
        let reserve_ids_through = records.iter().filter_map(|r| r.id).max().map(UserId);
        let outcomes = self
            .accounts
            .users()
            .import_users(&users, reserve_ids_through, progress)?;
        if outcomes.len() != candidates.len() {
            return Err(Error::Internal(format!(
                "the store answered {} outcomes for {} users",
                outcomes.len(),
                candidates.len()
            )));
        }
        for (candidate, outcome) in candidates.iter().zip(outcomes) {
            let record = candidate.record;
            match outcome {
                ImportOutcome::Imported(id) => report.imported.push(Imported {
                    source: record.source.clone(),
                    username: candidate.username.as_str().to_owned(),
                    old_id: record.id,
                    id,
                }),
                ImportOutcome::AlreadyPresent(id) => report.skipped.push(Skipped {
                    source: record.source.clone(),
                    username: candidate.username.as_str().to_owned(),
                    id,
                }),
                ImportOutcome::UsernameTaken(existing) => report.rejected.push(Rejected {
                    source: record.source.clone(),
                    username: record.username.clone(),
                    reason: RejectReason::UsernameTaken { existing },
                }),
            }
        }
        Ok(report)
    }

    fn validate<'a>(&self, record: &'a ImportRecord) -> Result<Candidate<'a>, RejectReason> {
        let raw = record
            .username
            .as_deref()
            .ok_or(RejectReason::MissingUsername)?;
        let username = Username::parse(raw).map_err(RejectReason::InvalidUsername)?;
        let password_hash = record
            .password_hash
            .as_deref()
            .filter(|hash| !hash.is_empty())
            .ok_or(RejectReason::MissingPasswordHash)?;
        self.accounts
            .hasher()
            .scheme(password_hash)
            .map_err(|_| RejectReason::UnsupportedHash)?;
        Ok(Candidate {
            record,
            username,
            password_hash,
        })
    }
}
