//! The use cases: every entry point (HTTP routes, the tutorial's routes, the CLI) calls
//! these and nothing else, so each rule — limits, password bounds, the dummy-hash defence,
//! sessions, revocation — holds the same way on every path.
//!
//! Every method is synchronous and may block on the store or on password hashing, except
//! [`Auth::check_token`], which works in memory for the hot path. Callers pick the thread.

use chrono::{DateTime, Utc};

use crate::accounts::Accounts;
use crate::clients::{ClientCredentials, ClientSecret, Clients, ServiceClient};
use crate::forward_auth::{ForwardAuthPolicy, ForwardDecision};
use crate::signing_keys::{SigningKeyInfo, SigningKeys};
use crate::tokens::superseded;
use crate::{
    Client, Error, Limits, RefreshToken, Session, SessionId, SessionOrigin, Sessions, TokenIssuer,
    TokenRefusal, TokenSource, User, UserCache, VerifiedToken,
};

/// What a sign-in starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A session with a refresh token, for the versioned API.
    Refreshable,
    /// The tutorial's `GET /api/login`: an access token only, and a session that ends with
    /// it (so "sign out everywhere" reaches it too).
    AccessOnly,
}

/// A successful sign-in or refresh.
#[derive(Debug)]
pub struct SignedIn {
    /// The user, as stored now.
    pub user: User,
    /// The session.
    pub session: Session,
    /// A signed access token for the session.
    pub access_token: String,
    /// The session's new refresh token ([`SessionKind::Refreshable`] only).
    pub refresh_token: Option<RefreshToken>,
}

/// A request's bearer, once their token has passed every check.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The user, as stored now (or within the cache's bound).
    pub user: User,
    /// How the token authenticated them.
    pub source: TokenSource,
}

impl Authenticated {
    /// The session of the token, unless it is a session-less legacy token.
    pub fn session(&self) -> Option<&SessionId> {
        self.source.session()
    }
}

/// The outcome of [`Auth::check_token`].
#[derive(Debug)]
pub enum TokenCheck {
    /// Decided in memory.
    Done(Authenticated),
    /// The token holds so far; [`Auth::finish_token_check`] must read its user.
    NeedsUser(VerifiedToken),
}

/// What a forward-auth request presents as proof of a sign-in.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// An access token (`Authorization: Bearer`).
    Bearer(&'a str),
    /// A browser session's cookie.
    SessionCookie(&'a str),
    /// Nothing.
    None,
}

/// How long the token forward auth hands to an upstream lives, at most: the upstream
/// reads it once, as the request passes.
const UPSTREAM_TOKEN_TTL_SECONDS: i64 = 60;

/// An access token from the client-credentials grant.
#[derive(Debug)]
pub struct ClientGrant {
    /// The signed token.
    pub access_token: String,
    /// How long it lives.
    pub expires_in: chrono::Duration,
    /// The scope granted, when one was asked for.
    pub scope: Option<String>,
}

/// What introspection reports of a live access token (RFC 7662 §2.2).
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveToken {
    /// `sub`: the user id, or the service client's id.
    pub subject: String,
    /// The user's name (users' tokens).
    pub username: Option<String>,
    /// The service client's id (clients' tokens).
    pub client_id: Option<String>,
    /// `iss`, when the token names one.
    pub issuer: Option<String>,
    /// `aud`, when the token names one.
    pub audience: Option<tessera_token::Audience>,
    /// `exp`, seconds since the epoch.
    pub expires_at: i64,
    /// `iat`, seconds since the epoch.
    pub issued_at: i64,
    /// The session (users' Tessera tokens).
    pub session: Option<String>,
    /// The scope (clients' tokens that were granted one).
    pub scope: Option<String>,
}

impl ActiveToken {
    fn of_user(who: &Authenticated) -> ActiveToken {
        let (issuer, audience, expires_at, issued_at) = match &who.source {
            TokenSource::Session { claims, .. } => (
                claims.iss.clone(),
                claims.aud.clone(),
                claims.exp,
                claims.iat,
            ),
            TokenSource::Legacy { claims } => (None, None, claims.exp, claims.iat),
        };
        ActiveToken {
            subject: who.user.id.to_string(),
            username: Some(who.user.username.clone()),
            client_id: None,
            issuer,
            audience,
            expires_at,
            issued_at,
            session: who.session().map(|id| id.0.clone()),
            scope: None,
        }
    }

    fn of_client(claims: tessera_token::Claims) -> ActiveToken {
        let scope = claims
            .extra
            .get("scope")
            .and_then(|scope| scope.as_str())
            .map(str::to_owned);
        ActiveToken {
            client_id: Some(claims.sub.clone()),
            subject: claims.sub,
            username: None,
            issuer: claims.iss,
            audience: claims.aud,
            expires_at: claims.exp,
            issued_at: claims.iat,
            session: None,
            scope,
        }
    }
}

/// What `tessera token verify` reports of a token.
#[derive(Debug)]
pub struct TokenInspection {
    /// The format the token has (or looks like).
    pub format: crate::TokenFormat,
    /// Why it is refused, if it is.
    pub refusal: Option<TokenRefusal>,
    /// `Some(true)` live, `Some(false)` ended, `None` no session (legacy, or unverified).
    pub session_live: Option<bool>,
    /// Whether the user it names exists; `None` when it names none.
    pub user_exists: Option<bool>,
}

/// The use cases over the store, the hasher, the limits and the token keys.
#[derive(Debug, Clone)]
pub struct Auth {
    pub(crate) accounts: Accounts,
    sessions: Sessions,
    limits: Limits,
    tokens: TokenIssuer,
    users: UserCache,
    clients: Clients,
    signing_keys: Option<SigningKeys>,
    forward_auth: ForwardAuthPolicy,
}

impl Auth {
    /// The use cases. `users` caches users for the token check; give it a ttl no longer
    /// than the revocation sync interval.
    pub fn new(
        accounts: Accounts,
        sessions: Sessions,
        limits: Limits,
        tokens: TokenIssuer,
        users: UserCache,
        clients: Clients,
    ) -> Auth {
        Auth {
            accounts,
            sessions,
            limits,
            tokens,
            users,
            clients,
            signing_keys: None,
            forward_auth: ForwardAuthPolicy::default(),
        }
    }

    /// Guards what `policy` says for reverse proxies (no host at all by default).
    pub fn with_forward_auth(mut self, policy: ForwardAuthPolicy) -> Auth {
        self.forward_auth = policy;
        self
    }

    /// Signs with the stored keys of `signing_keys` (made or rotated first, as its policy
    /// says) and keeps them current in [`Auth::maintain`].
    pub fn with_signing_keys(mut self, signing_keys: SigningKeys) -> Result<Auth, Error> {
        if let Some(keys) = signing_keys.refresh(Utc::now())? {
            self.tokens.replace_keys(keys);
        }
        self.signing_keys = Some(signing_keys);
        Ok(self)
    }

    /// The keys tokens are signed and verified with: what the JWKS publishes.
    pub fn key_set(&self) -> std::sync::Arc<tessera_token::KeySet> {
        self.tokens.keys()
    }

    /// How long verifiers may cache the JWKS.
    pub fn jwks_max_age(&self) -> chrono::Duration {
        self.signing_keys
            .as_ref()
            .map_or(chrono::Duration::minutes(5), |keys| {
                keys.policy().jwks_max_age()
            })
    }

    /// The issuer written into tokens, if configured.
    pub fn issuer(&self) -> Option<&str> {
        self.tokens.issuer()
    }

    /// Every signing key, for the operator.
    pub fn signing_keys(&self) -> Result<Vec<SigningKeyInfo>, Error> {
        self.stored_keys()?.list()
    }

    /// Rotates the signing keys by hand (see [`SigningKeys::rotate`]) and signs with the new
    /// active key at once.
    pub fn rotate_signing_keys(&self, force: bool) -> Result<(), Error> {
        let keys = self.stored_keys()?;
        let now = Utc::now();
        keys.rotate(now, force)?;
        if let Some(set) = keys.refresh(now)? {
            self.tokens.replace_keys(set);
        }
        Ok(())
    }

    fn stored_keys(&self) -> Result<&SigningKeys, Error> {
        self.signing_keys
            .as_ref()
            .ok_or_else(|| Error::Internal("no signing-key store configured".into()))
    }

    /// Prepares what the first sign-in would otherwise pay for (the dummy hash).
    pub fn warm_up(&self) {
        self.accounts.hasher().warm_up();
    }

    /// How long access tokens live.
    pub fn token_ttl(&self) -> chrono::Duration {
        self.tokens.ttl()
    }

    /// Creates an account, within the client's registration limit.
    pub fn register(
        &self,
        username: &str,
        password: &str,
        client: Client<'_>,
    ) -> Result<User, Error> {
        self.limits
            .reserve_registration(client.address, Utc::now())?;
        self.accounts.register(username, password)
    }

    /// Checks a username and password within the limits (429 before any hashing while the
    /// account or the address is locked) and starts a session, which records the client
    /// ([`SessionOrigin::of`]).
    pub fn sign_in(
        &self,
        username: &str,
        password: &str,
        kind: SessionKind,
        client: Client<'_>,
    ) -> Result<SignedIn, Error> {
        let user = self.check_password(username, password, client)?;
        let now = Utc::now();
        let origin = SessionOrigin::of(client);
        let (session, refresh) = match kind {
            SessionKind::Refreshable => self.sessions.start(user.id, now, origin)?,
            SessionKind::AccessOnly => {
                self.sessions
                    .start_for(user.id, now, self.tokens.ttl(), origin)?
            }
        };
        let access_token = self.tokens.issue(&user, &session.id, now)?;
        Ok(SignedIn {
            user,
            session,
            access_token,
            refresh_token: (kind == SessionKind::Refreshable).then_some(refresh),
        })
    }

    /// The password check of a sign-in or a confirmation, within the limits.
    fn check_password(
        &self,
        username: &str,
        password: &str,
        client: Client<'_>,
    ) -> Result<User, Error> {
        let attempt = self
            .limits
            .reserve_sign_in(username, client.address, Utc::now())?;
        let user = self.accounts.authenticate(username, password)?;
        self.limits.succeeded(attempt)?;
        Ok(user)
    }

    /// The signed-in user's password again, for changes a stolen token alone must not make.
    fn confirm_password(
        &self,
        who: &Authenticated,
        password: &str,
        client: Client<'_>,
    ) -> Result<(), Error> {
        match self.check_password(&who.user.username, password, client) {
            Ok(user) if user.id == who.user.id => Ok(()),
            Ok(_) | Err(Error::InvalidCredentials | Error::InvalidPassword(_)) => {
                Err(Error::WrongPassword)
            }
            Err(other) => Err(other),
        }
    }

    /// Exchanges a refresh token for a new pair (rotation; a spent one ends the session).
    /// The session keeps the client it recorded at sign-in.
    pub fn refresh(&self, refresh_token: &str) -> Result<SignedIn, Error> {
        let now = Utc::now();
        let Ok((session, refresh)) = self.sessions.refresh(refresh_token, now)? else {
            return Err(Error::InvalidRefreshToken);
        };
        let user = match self.accounts.find(session.user_id) {
            Ok(user) => user,
            Err(Error::UserNotFound) => return Err(Error::InvalidRefreshToken),
            Err(other) => return Err(other),
        };
        let access_token = self.tokens.issue(&user, &session.id, now)?;
        Ok(SignedIn {
            user,
            session,
            access_token,
            refresh_token: Some(refresh),
        })
    }

    /// The session cookie of a browser session: what forward auth and a cookie sign-out
    /// take as proof of the session.
    pub fn session_cookie(&self, session: &SessionId) -> String {
        self.sessions.cookie(session)
    }

    /// Ends the session a session cookie names; `false` when the cookie names no live
    /// session (forged, or ended already).
    pub fn sign_out_by_cookie(&self, cookie: &str) -> Result<bool, Error> {
        let now = Utc::now();
        match self.sessions.of_cookie(cookie, now)? {
            Some(session) => self.sessions.end(&session.id, now),
            None => Ok(false),
        }
    }

    /// Whether a user may be sent back to `host` after signing in: one of the hosts
    /// forward auth guards, so the sign-in page is never an open redirect.
    pub fn may_return_to(&self, host: &str) -> bool {
        self.forward_auth.allows_host(host)
    }

    /// Forward auth: may a request with `credential`, going to `host` (when the proxy said),
    /// pass? A credential that does not hold counts as none; a store failure is an error.
    pub fn forward(
        &self,
        credential: Credential<'_>,
        host: Option<&str>,
    ) -> Result<ForwardDecision, Error> {
        let now = Utc::now();
        let signed_in = match credential {
            Credential::Bearer(token) => match self.authenticate(token) {
                Ok(who) => Some((who.source.session().cloned(), who.user)),
                Err(Error::InvalidToken(_)) => None,
                Err(other) => return Err(other),
            },
            Credential::SessionCookie(cookie) => match self.sessions.of_cookie(cookie, now)? {
                Some(session) => match self.cached_user(session.user_id) {
                    Ok(user) => Some((Some(session.id), user)),
                    Err(Error::UserNotFound) => None,
                    Err(other) => return Err(other),
                },
                None => None,
            },
            Credential::None => None,
        };
        let (session, user) = signed_in.unzip();
        match self.forward_auth.decide(host, user) {
            ForwardDecision::Admit { user, .. } => {
                let upstream_token =
                    match (session.flatten(), self.forward_auth.wants_upstream_token()) {
                        (Some(session), true) => Some(
                            self.tokens.issue_lasting(
                                &user,
                                &session,
                                now,
                                chrono::Duration::seconds(UPSTREAM_TOKEN_TTL_SECONDS)
                                    .min(self.tokens.ttl()),
                            )?,
                        ),
                        _ => None,
                    };
                Ok(ForwardDecision::Admit {
                    user,
                    upstream_token,
                })
            }
            other => Ok(other),
        }
    }

    /// The in-memory part of the token check: signature, algorithm, time claims, `sid` and
    /// `sub`, the revoked-session list, and the cached user. Never blocks.
    pub fn check_token(&self, token: &str) -> Result<TokenCheck, Error> {
        let verified = self.tokens.verify(token, Utc::now())?;
        if let Some(session) = verified.source.session() {
            if self.sessions.revoked().contains(&session.0) {
                return Err(TokenRefusal::SessionEnded.into());
            }
            // Just started: the store's revocations are not known yet.
            if !self.sessions.revoked().is_synced() {
                return Ok(TokenCheck::NeedsUser(verified));
            }
        }
        match self.users.get(verified.user_id) {
            Some(user) => admit(user, verified).map(TokenCheck::Done),
            None => Ok(TokenCheck::NeedsUser(verified)),
        }
    }

    /// The rest of the token check: reads the user from the store (and caches it).
    pub fn finish_token_check(&self, verified: VerifiedToken) -> Result<Authenticated, Error> {
        if let Some(session) = verified.source.session() {
            if self.sessions.is_revoked(session, Utc::now())? {
                return Err(TokenRefusal::SessionEnded.into());
            }
        }
        let user = match self.cached_user(verified.user_id) {
            Ok(user) => user,
            Err(Error::UserNotFound) => return Err(TokenRefusal::UserGone.into()),
            Err(other) => return Err(other),
        };
        admit(user, verified)
    }

    /// A user from the user cache, else from the store (and then cached).
    fn cached_user(&self, id: crate::UserId) -> Result<User, Error> {
        if let Some(user) = self.users.get(id) {
            return Ok(user);
        }
        let user = self.accounts.find(id)?;
        self.users.put(&user);
        Ok(user)
    }

    /// The whole token check, for callers already off the async workers.
    pub fn authenticate(&self, token: &str) -> Result<Authenticated, Error> {
        match self.check_token(token)? {
            TokenCheck::Done(authenticated) => Ok(authenticated),
            TokenCheck::NeedsUser(verified) => self.finish_token_check(verified),
        }
    }

    /// Ends what the token belongs to: its session, or (a legacy token) every session-less
    /// token of the user issued until now.
    pub fn sign_out(&self, who: &Authenticated) -> Result<(), Error> {
        let now = Utc::now();
        match who.session() {
            Some(session) => {
                self.sessions.end(session, now)?;
            }
            None => {
                self.accounts.end_session_less_tokens(who.user.id, now)?;
                self.users.forget(who.user.id);
            }
        }
        Ok(())
    }

    /// Changes the signed-in user's password after checking the current one: every other
    /// session and every session-less token ends; this session stays. Returns how many
    /// sessions ended.
    pub fn change_password(
        &self,
        who: &Authenticated,
        current_password: &str,
        new_password: &str,
        client: Client<'_>,
    ) -> Result<usize, Error> {
        self.confirm_password(who, current_password, client)?;
        self.replace_password(&who.user, new_password, who.session())
    }

    /// Deletes the signed-in user's account after checking the password; every session
    /// ends. Returns how many.
    pub fn delete_account(
        &self,
        who: &Authenticated,
        password: &str,
        client: Client<'_>,
    ) -> Result<usize, Error> {
        self.confirm_password(who, password, client)?;
        self.remove(&who.user)
    }

    /// The signed-in user's live sessions, newest first.
    pub fn sessions(&self, who: &Authenticated) -> Result<Vec<Session>, Error> {
        self.sessions.list(who.user.id, Utc::now())
    }

    /// Ends one of the signed-in user's sessions; another user's is [`Error::SessionNotFound`].
    pub fn end_session(&self, who: &Authenticated, id: &str) -> Result<(), Error> {
        let id = SessionId(id.to_owned());
        let ended = match self.sessions.find(&id)? {
            Some(session) if session.user_id == who.user.id && session.revoked_at.is_none() => {
                self.sessions.end(&id, Utc::now())?
            }
            _ => false,
        };
        if ended {
            Ok(())
        } else {
            Err(Error::SessionNotFound)
        }
    }

    /// `tessera users add`: an account, without the registration limit.
    pub fn add_user(&self, username: &str, password: &str) -> Result<User, Error> {
        self.accounts.register(username, password)
    }

    /// `tessera users list`.
    pub fn list_users(&self) -> Result<Vec<User>, Error> {
        Ok(self.accounts.users().list_users()?)
    }

    /// `tessera users delete`: the account and every session of it.
    pub fn delete_user(&self, username: &str) -> Result<(User, usize), Error> {
        let user = self.accounts.find_by_username(username)?;
        let ended = self.remove(&user)?;
        Ok((user, ended))
    }

    /// `tessera users delete --id`: the same, for a user named by id.
    pub fn delete_user_by_id(&self, id: crate::UserId) -> Result<(User, usize), Error> {
        let user = self.accounts.find(id)?;
        let ended = self.remove(&user)?;
        Ok((user, ended))
    }

    /// `tessera users set-password`: an operator's reset ends every session and every
    /// session-less token of the user, as a lost password demands.
    pub fn set_password(&self, username: &str, new_password: &str) -> Result<(User, usize), Error> {
        let user = self.accounts.find_by_username(username)?;
        let ended = self.replace_password(&user, new_password, None)?;
        Ok((user, ended))
    }

    /// `tessera token verify`: everything the token check decides, at `at`, and what became
    /// of its session and user.
    pub fn inspect_token(&self, token: &str, at: DateTime<Utc>) -> Result<TokenInspection, Error> {
        let verified = match self.tokens.verify(token, at) {
            Ok(verified) => verified,
            Err(refusal) => {
                let format = match refusal {
                    TokenRefusal::Rejected(format, _) => format,
                    _ => crate::TokenFormat::Jwt,
                };
                return Ok(TokenInspection {
                    format,
                    refusal: Some(refusal),
                    session_live: None,
                    user_exists: None,
                });
            }
        };
        let session_live = match verified.source.session() {
            Some(id) => Some(
                self.sessions
                    .find(id)?
                    .is_some_and(|s| s.revoked_at.is_none() && s.expires_at > at),
            ),
            None => None,
        };
        let user = match self.accounts.find(verified.user_id) {
            Ok(user) => Some(user),
            Err(Error::UserNotFound) => None,
            Err(other) => return Err(other),
        };
        let refusal = match (&user, session_live) {
            (None, _) => Some(TokenRefusal::UserGone),
            (_, Some(false)) => Some(TokenRefusal::SessionEnded),
            (Some(user), _) if superseded(user, &verified.source) => Some(TokenRefusal::Superseded),
            _ => None,
        };
        Ok(TokenInspection {
            format: verified.source.format(),
            refusal,
            session_live,
            user_exists: Some(user.is_some()),
        })
    }

    /// Periodic work: learns of other processes' revocations, makes and rotates signing keys
    /// when due and learns of other processes' rotations, and forgets old rate-limit counts.
    pub fn maintain(&self, now: DateTime<Utc>) -> Result<(), Error> {
        self.sessions.sync_revocations(now)?;
        self.clients.reload()?;
        if let Some(set) = self
            .signing_keys
            .as_ref()
            .map(|keys| keys.refresh(now))
            .transpose()?
            .flatten()
        {
            self.tokens.replace_keys(set);
        }
        self.limits
            .throttle
            .forget_before(now - chrono::Duration::hours(2))?;
        Ok(())
    }

    /// `tessera clients add`: a service client and its secret, shown once.
    pub fn add_client(
        &self,
        name: &str,
        audiences: &[String],
        scopes: &[String],
    ) -> Result<(ServiceClient, ClientSecret), Error> {
        self.clients.add(name, audiences, scopes, Utc::now())
    }

    /// `tessera clients list`.
    pub fn list_clients(&self) -> Result<Vec<ServiceClient>, Error> {
        self.clients.list()
    }

    /// `tessera clients delete`: the client's secret and tokens stop.
    pub fn delete_client(&self, id: &str) -> Result<ServiceClient, Error> {
        self.clients.delete(id)
    }

    /// `tessera clients rotate-secret`: a new secret, shown once; the old one stops.
    pub fn rotate_client_secret(&self, id: &str) -> Result<(ServiceClient, ClientSecret), Error> {
        self.clients.rotate_secret(id, Utc::now())
    }

    /// The client-credentials grant (RFC 6749 §4.4): an access token for the client, with
    /// `scope` (space-separated) when every scope in it was registered for the client.
    pub fn client_token(
        &self,
        credentials: ClientCredentials<'_>,
        scope: Option<&str>,
        client: Client<'_>,
    ) -> Result<ClientGrant, Error> {
        let service = self.authenticate_client(credentials, client)?;
        let scope = match scope.map(str::trim).filter(|scope| !scope.is_empty()) {
            Some(scope) => {
                let mut granted: Vec<&str> = Vec::new();
                for one in scope.split(' ').filter(|one| !one.is_empty()) {
                    if !service.scopes.iter().any(|allowed| allowed == one) {
                        return Err(Error::InvalidScope(one.chars().take(64).collect()));
                    }
                    if !granted.contains(&one) {
                        granted.push(one);
                    }
                }
                Some(granted.join(" "))
            }
            None => None,
        };
        let access_token = self
            .tokens
            .issue_for_client(&service, scope.as_deref(), Utc::now())?;
        Ok(ClientGrant {
            access_token,
            expires_in: self.tokens.ttl(),
            scope,
        })
    }

    /// Token introspection (RFC 7662) for an authenticated client: what an access token
    /// says, if it is live exactly as the token check sees it (revocation included); `None`
    /// for anything else — expired, forged, revoked, a refresh token, garbage.
    pub fn introspect(
        &self,
        credentials: ClientCredentials<'_>,
        token: &str,
        client: Client<'_>,
    ) -> Result<Option<ActiveToken>, Error> {
        self.authenticate_client(credentials, client)?;
        let now = Utc::now();
        match self.authenticate(token) {
            Ok(who) => Ok(Some(ActiveToken::of_user(&who))),
            Err(Error::InvalidToken(TokenRefusal::ClientToken)) => {
                let Ok(claims) = self.tokens.verify_client(token, now) else {
                    return Ok(None);
                };
                Ok(self
                    .clients
                    .find(&claims.sub)?
                    .map(|_| ActiveToken::of_client(claims)))
            }
            Err(Error::InvalidToken(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Token revocation (RFC 7009) for an authenticated client: a refresh token, or a live
    /// access token, ends its session (a tutorial token: the user's session-less tokens); anything unknown changes nothing and is no error. A
    /// service client's own access token is [`Error::UnsupportedTokenType`].
    pub fn revoke(
        &self,
        credentials: ClientCredentials<'_>,
        token: &str,
        client: Client<'_>,
    ) -> Result<(), Error> {
        self.authenticate_client(credentials, client)?;
        let now = Utc::now();
        // A refresh token is `<session>.<secret>`; a JWT has two dots.
        if token.bytes().filter(|&b| b == b'.').count() == 1 {
            self.sessions.end_with_refresh_token(token, now)?;
            return Ok(());
        }
        // A live access token ends as its bearer's sign-out would end it.
        match self.authenticate(token) {
            Ok(who) => self.sign_out(&who),
            Err(Error::InvalidToken(TokenRefusal::ClientToken)) => Err(Error::UnsupportedTokenType),
            Err(Error::InvalidToken(_)) => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// The client these credentials belong to; a failure counts against the client id and
    /// the address (see [`Limits::client_failed`]).
    fn authenticate_client(
        &self,
        credentials: ClientCredentials<'_>,
        client: Client<'_>,
    ) -> Result<ServiceClient, Error> {
        match self.clients.authenticate(credentials)? {
            Some(service) => Ok(service),
            None => {
                self.limits
                    .client_failed(credentials.id, client.address, Utc::now())?;
                Err(Error::InvalidClient)
            }
        }
    }

    /// Whether the store answers.
    pub fn ping(&self) -> Result<(), Error> {
        Ok(self.accounts.users().ping()?)
    }

    fn replace_password(
        &self,
        user: &User,
        new_password: &str,
        keep: Option<&SessionId>,
    ) -> Result<usize, Error> {
        let password_hash = self.accounts.new_password_hash(user, new_password)?;
        let now = Utc::now();
        let ending = self.sessions.ending(user.id, keep, now)?;
        // Stored first: a change that fails to persist must not look done on this process
        // and be undone by a restart.
        self.accounts
            .set_password_hash(user.id, &password_hash, keep)?;
        self.users.forget(user.id);
        Ok(self.sessions.note_ended(ending, now))
    }

    fn remove(&self, user: &User) -> Result<usize, Error> {
        let now = Utc::now();
        let ending = self.sessions.ending(user.id, None, now)?;
        self.accounts.delete(user.id)?;
        self.users.forget(user.id);
        Ok(self.sessions.note_ended(ending, now))
    }
}

/// The last rule, once the user is known: a session-less token must postdate the user's
/// `tokens_not_before`.
fn admit(user: User, verified: VerifiedToken) -> Result<Authenticated, Error> {
    if superseded(&user, &verified.source) {
        return Err(TokenRefusal::Superseded.into());
    }
    Ok(Authenticated {
        user,
        source: verified.source,
    })
}
