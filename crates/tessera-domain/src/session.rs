//! Sign-in sessions: what a login creates, what refresh tokens rotate, what logout ends.
//!
//! A refresh token is `<session id>.<secret>`. Only the SHA-256 of the secret is stored.
//! Every refresh replaces the secret (rotation), and the hash of the secret it replaced is
//! kept until the session expires. Presenting such a rotated-out secret means a copy of the
//! token is in someone else's hands, so the whole session ends (reuse detection, RFC 9700
//! section 4.14.2). A secret the session never had is only refused: knowing a session id
//! (it is in every access token) must not let anyone end that session.
//!
//! Except within the reuse interval (supabase/auth's idea, 10 s by default): a secret
//! rotated out that long ago or less is a second tab or a retried request of the same
//! browser, not a thief, and gets the session's current token. Rotated secrets are not
//! random but the HMAC of the secret they replace ([`SessionKeys`]), so the current one is
//! found by following the chain from the presented one, and no secret is ever stored.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use subtle::ConstantTimeEq;

use crate::random::secret_digest;
use crate::{Error, SessionId, SessionKeys, SessionOrigin, StoreError, UserId, random_token};

/// A session as the user may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The id.
    pub id: SessionId,
    /// Whose session it is.
    pub user_id: UserId,
    /// When the user signed in.
    pub created_at: DateTime<Utc>,
    /// When its refresh token was last used (or the sign-in).
    pub last_used_at: DateTime<Utc>,
    /// The absolute end of the session.
    pub expires_at: DateTime<Utc>,
    /// When it was ended, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The client it was signed in from; a refresh leaves it as it was.
    pub origin: SessionOrigin,
}

/// A session with the hash of its current refresh secret, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The session.
    pub session: Session,
    /// Hex SHA-256 of the current refresh secret.
    pub refresh_hash: String,
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSession")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// A refresh token handed to the client once; never stored or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    /// The token to send to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

/// Storage of sessions. Implemented by `tessera-store`; synchronous and blocking.
pub trait SessionRepository: Send + Sync + 'static {
    /// Stores a new session.
    fn insert_session(&self, session: &Session, refresh_hash: &str) -> Result<(), StoreError>;
    /// Finds a session, live or not.
    fn find_session(&self, id: &SessionId) -> Result<Option<StoredSession>, StoreError>;
    /// Replaces the refresh hash when it is still `expected` and the session is not
    /// revoked, and in the same transaction keeps `expected` as a spent secret of the
    /// session until `expires_at`; `false` when another refresh got there first or the
    /// session ended.
    fn rotate_refresh_hash(
        &self,
        id: &SessionId,
        expected: &str,
        replacement: &str,
        used_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// When session `id` rotated out the refresh secret `hash`; `None` when it never had it.
    fn spent_refresh_hash(
        &self,
        id: &SessionId,
        hash: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// Ends one session; `false` when it had already ended or does not exist.
    fn revoke_session(&self, id: &SessionId, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// A user's sessions that are neither revoked nor expired at `now`, newest first.
    fn live_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError>;
    /// Sessions revoked at or after `since`, with when.
    fn revoked_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(SessionId, DateTime<Utc>)>, StoreError>;
    /// Ends the user's live sessions beyond the `keep` most recently used, in one
    /// transaction; returns their ids.
    fn end_sessions_beyond(
        &self,
        user_id: UserId,
        keep: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError>;
    /// Deletes sessions (and their spent secrets) that expired before `before`; returns how
    /// many sessions.
    fn delete_expired_sessions(&self, before: DateTime<Utc>) -> Result<usize, StoreError>;
}

/// The default cap on a user's live sessions: far above the browsers and devices one person
/// signs in from.
pub const DEFAULT_MAX_SESSIONS_PER_USER: usize = 50;

/// How long sessions last, and how many a user may have.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// The absolute lifetime: no refresh extends a session past it.
    pub lifetime: Duration,
    /// A session whose refresh token goes unused this long ends.
    pub idle_timeout: Duration,
    /// Live sessions a user may have; a new one ends the least recently used beyond it, so
    /// sign-ins in a loop cannot grow the table without bound. 0 means no cap.
    pub max_per_user: usize,
    /// How long after its rotation a refresh token still yields the session's current
    /// token instead of ending the session; zero makes every reuse end it.
    pub reuse_interval: Duration,
}

/// The default reuse interval: supabase/auth's, long enough for tabs refreshing at once
/// and a retry after a lost response, short for a thief.
pub const DEFAULT_REFRESH_REUSE_INTERVAL_SECONDS: i64 = 10;

/// Most rotations followed from a secret presented within the reuse interval: far more
/// than a session rotates in that time, and a bound on the work a request can cause.
const MAX_FOLLOWED_ROTATIONS: usize = 16;

impl SessionPolicy {
    /// Whether `session` is live at `now`: not ended, within its lifetime and idle timeout.
    pub fn is_live(&self, session: &Session, now: DateTime<Utc>) -> bool {
        session.revoked_at.is_none()
            && now < session.expires_at
            && now - session.last_used_at <= self.idle_timeout
    }
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            lifetime: Duration::days(30),
            idle_timeout: Duration::days(7),
            max_per_user: DEFAULT_MAX_SESSIONS_PER_USER,
            reuse_interval: Duration::seconds(DEFAULT_REFRESH_REUSE_INTERVAL_SECONDS),
        }
    }
}

/// Why a refresh token was refused. The client sees one answer for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// Not of the form `<id>.<secret>`, no such session, or a secret it never had.
    Unknown,
    /// The session was ended.
    Revoked,
    /// Past the absolute lifetime or the idle timeout.
    Expired,
    /// A secret the live session rotated out before the reuse interval: the session is
    /// ended now.
    Reused,
}

/// The session use cases.
#[derive(Clone)]
pub struct Sessions {
    repository: Arc<dyn SessionRepository>,
    policy: SessionPolicy,
    revoked: RevokedSessions,
    keys: SessionKeys,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Sessions over `repository`; revocations are also recorded in `revoked`, the
    /// in-memory list the token check consults. `keys` derive rotated refresh secrets and
    /// session cookies: every process of a deployment must have the same.
    pub fn new(
        repository: Arc<dyn SessionRepository>,
        policy: SessionPolicy,
        revoked: RevokedSessions,
        keys: SessionKeys,
    ) -> Sessions {
        Sessions {
            repository,
            policy,
            revoked,
            keys,
        }
    }

    /// The policy sessions follow.
    pub fn policy(&self) -> &SessionPolicy {
        &self.policy
    }

    /// The in-memory list of recently revoked sessions.
    pub fn revoked(&self) -> &RevokedSessions {
        &self.revoked
    }

    /// Starts a session for a user who just proved who they are, from `origin`.
    pub fn start(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
        origin: SessionOrigin,
    ) -> Result<(Session, RefreshToken), Error> {
        self.start_for(user_id, now, self.policy.lifetime, origin)
    }

    /// Starts a session that ends after `lifetime` at most (the tutorial's sign-in, which
    /// hands out no refresh token, lives as long as its access token).
    pub fn start_for(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
        lifetime: Duration,
        origin: SessionOrigin,
    ) -> Result<(Session, RefreshToken), Error> {
        let session = Session {
            id: SessionId(random_token::<16>()?),
            user_id,
            created_at: now,
            last_used_at: now,
            expires_at: now + lifetime.min(self.policy.lifetime),
            revoked_at: None,
            origin,
        };
        let secret = random_token::<32>()?;
        self.repository
            .insert_session(&session, &secret_digest(&secret))?;
        if self.policy.max_per_user > 0 {
            let ended =
                self.repository
                    .end_sessions_beyond(user_id, self.policy.max_per_user, now)?;
            for id in ended {
                self.revoked.insert(id, now);
            }
        }
        let token = RefreshToken(format!("{}.{secret}", session.id));
        Ok((session, token))
    }

    /// Exchanges a refresh token for a new one of the same session (rotation); within the
    /// reuse interval of its rotation, for the session's current one. The session's
    /// [`SessionOrigin`] stays the sign-in's: it tells the user where their password was
    /// used, which a refresh token (possibly copied elsewhere) must not rewrite.
    pub fn refresh(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(Session, RefreshToken), RefreshRefusal>, Error> {
        let Some((id, secret)) = token.split_once('.') else {
            return Ok(Err(RefreshRefusal::Unknown));
        };
        let id = SessionId(id.to_owned());
        let Some(stored) = self.repository.find_session(&id)? else {
            return Ok(Err(RefreshRefusal::Unknown));
        };
        let session = stored.session;
        if session.revoked_at.is_some() {
            return Ok(Err(RefreshRefusal::Revoked));
        }
        if !self.policy.is_live(&session, now) {
            self.end(&id, now)?;
            return Ok(Err(RefreshRefusal::Expired));
        }
        let presented = secret_digest(secret);
        if is_current(&presented, &stored.refresh_hash) {
            let next = self.keys.successor(&id, secret);
            if self.repository.rotate_refresh_hash(
                &id,
                &presented,
                &secret_digest(&next),
                now,
                session.expires_at,
            )? {
                let session = Session {
                    last_used_at: now,
                    ..session
                };
                return Ok(Ok((session, RefreshToken(format!("{id}.{next}")))));
            }
            // Another refresh of this secret won the race: it was rotated out just now.
        }
        let Some(rotated_at) = self.repository.spent_refresh_hash(&id, &presented)? else {
            return Ok(Err(RefreshRefusal::Unknown));
        };
        let reuse_interval = self.policy.reuse_interval;
        if reuse_interval.is_zero() || now - rotated_at > reuse_interval {
            return self.end_reused(&session, now);
        }
        self.current_successor(&id, secret)
    }

    /// The session's current refresh token, when it is a successor of `secret` (a secret
    /// it rotated out within the reuse interval).
    fn current_successor(
        &self,
        id: &SessionId,
        secret: &str,
    ) -> Result<Result<(Session, RefreshToken), RefreshRefusal>, Error> {
        let Some(current) = self.repository.find_session(id)? else {
            return Ok(Err(RefreshRefusal::Unknown));
        };
        if current.session.revoked_at.is_some() {
            return Ok(Err(RefreshRefusal::Revoked));
        }
        let mut candidate = secret.to_owned();
        for _ in 0..MAX_FOLLOWED_ROTATIONS {
            candidate = self.keys.successor(id, &candidate);
            if is_current(&secret_digest(&candidate), &current.refresh_hash) {
                let token = RefreshToken(format!("{id}.{candidate}"));
                return Ok(Ok((current.session, token)));
            }
        }
        // Derived under another secret (the configured one rotated meanwhile): refused, but
        // this is no proof of theft, so the session stays.
        Ok(Err(RefreshRefusal::Unknown))
    }

    /// The session cookie of session `id`, for forward auth.
    pub fn cookie(&self, id: &SessionId) -> String {
        self.keys.cookie(id)
    }

    /// The live session a session cookie names; `None` for a forged cookie (decided before
    /// any lookup) or a session that ended.
    pub fn of_cookie(&self, cookie: &str, now: DateTime<Utc>) -> Result<Option<Session>, Error> {
        let Some(id) = self.keys.session_of_cookie(cookie) else {
            return Ok(None);
        };
        Ok(self
            .find(&id)?
            .filter(|session| self.policy.is_live(session, now)))
    }

    /// Ends the session of a refresh token presented for revocation (RFC 7009): its current
    /// secret, or one it rotated out (reuse ends the session anyway). A secret the session
    /// never had changes nothing, so knowing a session id is not enough. `true` when a
    /// session ended.
    pub fn end_with_refresh_token(&self, token: &str, now: DateTime<Utc>) -> Result<bool, Error> {
        let Some((id, secret)) = token.split_once('.') else {
            return Ok(false);
        };
        let id = SessionId(id.to_owned());
        let Some(stored) = self.repository.find_session(&id)? else {
            return Ok(false);
        };
        if stored.session.revoked_at.is_some() {
            return Ok(false);
        }
        let presented = secret_digest(secret);
        if !is_current(&presented, &stored.refresh_hash)
            && self
                .repository
                .spent_refresh_hash(&id, &presented)?
                .is_none()
        {
            return Ok(false);
        }
        self.end(&id, now)
    }

    /// A rotated-out secret came back: a copy of the token is in someone else's hands.
    fn end_reused(
        &self,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<Result<(Session, RefreshToken), RefreshRefusal>, Error> {
        tracing::warn!(session = %session.id, user = %session.user_id, "refresh token reused; session ended");
        self.end(&session.id, now)?;
        Ok(Err(RefreshRefusal::Reused))
    }

    /// A session by id, live or not.
    pub fn find(&self, id: &SessionId) -> Result<Option<Session>, Error> {
        Ok(self
            .repository
            .find_session(id)?
            .map(|stored| stored.session))
    }

    /// Ends a session: first in the store, then on this process's revoked list, so its
    /// tokens stop working at once here. When the store fails nothing has changed: the
    /// caller answers an error and the tokens still work, as they will after a restart,
    /// rather than a success that a restart would undo.
    pub fn end(&self, id: &SessionId, now: DateTime<Utc>) -> Result<bool, Error> {
        let ended = self.repository.revoke_session(id, now)?;
        self.revoked.insert(id.clone(), now);
        Ok(ended)
    }

    /// The live sessions of a user but `keep`, which a store operation is about to end in
    /// its own transaction (a new password, a deletion). Pass them to
    /// [`Sessions::note_ended`] once that transaction has committed.
    pub(crate) fn ending(
        &self,
        user_id: UserId,
        keep: Option<&SessionId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, Error> {
        Ok(self
            .repository
            .live_sessions(user_id, now)?
            .into_iter()
            .map(|session| session.id)
            .filter(|id| Some(id) != keep)
            .collect())
    }

    /// Puts sessions the store has ended on this process's revoked list; returns how many.
    pub(crate) fn note_ended(&self, ended: Vec<SessionId>, now: DateTime<Utc>) -> usize {
        let count = ended.len();
        for id in ended {
            self.revoked.insert(id, now);
        }
        count
    }

    /// Whether session `id` has ended, as far as this process knows, after learning the
    /// store's revocations first if it has not yet: a process that just started knows none
    /// of them, and sessions ended before the restart must stay ended.
    pub fn is_revoked(&self, id: &SessionId, now: DateTime<Utc>) -> Result<bool, Error> {
        if !self.revoked.is_synced() {
            let since = self.revoked.sync_from(now);
            for (ended, at) in self.repository.revoked_since(since)? {
                self.revoked.insert(ended, at);
            }
            self.revoked.mark_synced(now);
        }
        Ok(self.revoked.contains(&id.0))
    }

    /// A user's live sessions, newest first.
    pub fn list(&self, user_id: UserId, now: DateTime<Utc>) -> Result<Vec<Session>, Error> {
        Ok(self.repository.live_sessions(user_id, now)?)
    }

    /// Learns of revocations made by other processes since the last call, forgets those
    /// older than any token they could concern, and deletes long-expired rows.
    pub fn sync_revocations(&self, now: DateTime<Utc>) -> Result<(), Error> {
        let since = self.revoked.sync_from(now);
        for (id, at) in self.repository.revoked_since(since)? {
            self.revoked.insert(id, at);
        }
        // Only now: a failed fetch must be tried again from the same point.
        self.revoked.mark_synced(now);
        self.revoked.forget_before(now);
        self.repository
            .delete_expired_sessions(now - self.revoked.horizon)?;
        Ok(())
    }
}

/// Whether the presented secret's digest is the stored one, in constant time.
fn is_current(presented: &str, stored: &str) -> bool {
    bool::from(presented.as_bytes().ct_eq(stored.as_bytes()))
}

/// Sessions revoked recently enough that access tokens naming them may still be unexpired:
/// the check every authenticated request makes, in memory.
#[derive(Debug, Clone)]
pub struct RevokedSessions {
    inner: Arc<RwLock<RevokedInner>>,
    /// How long a revocation must be remembered: the access token lifetime plus a margin
    /// for clock differences between processes.
    horizon: Duration,
}

#[derive(Debug, Default)]
struct RevokedInner {
    sessions: HashMap<SessionId, DateTime<Utc>>,
    synced_at: Option<DateTime<Utc>>,
}

/// Revocations are fetched again from this far back, so one committed late or stamped by
/// a process whose clock is behind is still seen.
const SYNC_OVERLAP_SECONDS: i64 = 60;

impl RevokedSessions {
    /// An empty list for access tokens living `token_ttl`.
    pub fn new(token_ttl: Duration) -> RevokedSessions {
        RevokedSessions {
            inner: Arc::default(),
            horizon: token_ttl + Duration::seconds(SYNC_OVERLAP_SECONDS),
        }
    }

    /// Whether tokens of this session must be refused.
    pub fn contains(&self, id: &str) -> bool {
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.sessions.contains_key(&SessionId(id.to_owned()))
    }

    fn insert(&self, id: SessionId, at: DateTime<Utc>) {
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.sessions.insert(id, at);
    }

    /// Whether revocations have been fetched from the store at least once; until then this
    /// list cannot say that a session is live.
    pub fn is_synced(&self) -> bool {
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.synced_at.is_some()
    }

    /// The time to fetch revocations from.
    fn sync_from(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match inner.synced_at {
            Some(last) => last - Duration::seconds(SYNC_OVERLAP_SECONDS),
            None => now - self.horizon,
        }
    }

    /// Marks `now` as the last sync, once its revocations are in the list.
    fn mark_synced(&self, now: DateTime<Utc>) {
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.synced_at = Some(inner.synced_at.map_or(now, |last| last.max(now)));
    }

    fn forget_before(&self, now: DateTime<Utc>) {
        let cutoff = now - self.horizon;
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.sessions.retain(|_, at| *at >= cutoff);
    }
}
