//! Forward auth's rules: which hosts Tessera guards for a reverse proxy (and so may send a
//! user back to after sign-in), and who may enter each.
//!
//! A host outside the allowed domains is refused outright, never redirected to: otherwise
//! a link through the sign-in page would be an open redirect.

use crate::{Error, User, Username};

/// An allowed host: `app.example.com`, or `*.example.com` for every name under
/// `example.com` (not `example.com` itself). Compared without letter case or a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    /// The host, or for a wildcard the suffix starting with its dot (`.example.com`).
    name: String,
    wildcard: bool,
}

impl HostPattern {
    /// Parses one pattern of `forward_auth_domains`.
    pub fn parse(pattern: &str) -> Result<HostPattern, Error> {
        let refuse =
            |why: &str| Error::InvalidSetting(format!("forward-auth domain {pattern:?} {why}"));
        let (wildcard, host) = match pattern.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        let host = normalize_host(host);
        let valid_label = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        if host.is_empty() || host.len() > 253 || !host.split('.').all(valid_label) {
            return Err(refuse(
                "is not a host name (letters, digits, hyphens and dots; `*.` only at the start)",
            ));
        }
        if wildcard && !host.contains('.') {
            return Err(refuse("would match every name under a top-level domain"));
        }
        Ok(HostPattern {
            name: if wildcard { format!(".{host}") } else { host },
            wildcard,
        })
    }

    /// Whether `host` (without a port) is this pattern's.
    pub fn matches(&self, host: &str) -> bool {
        let host = normalize_host(host);
        if self.wildcard {
            host.len() > self.name.len() && host.ends_with(&self.name)
        } else {
            host == self.name
        }
    }
}

fn normalize_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Who may enter the hosts matching `host`: the named users only.
#[derive(Debug, Clone)]
pub struct HostRule {
    host: HostPattern,
    /// The users' comparison keys ([`Username::canonical`]).
    users: Vec<String>,
}

impl HostRule {
    /// A rule letting only `users` into the hosts matching `host`.
    pub fn new(host: &str, users: &[String]) -> Result<HostRule, Error> {
        let users = users
            .iter()
            .map(|name| {
                Username::parse(name)
                    .map(|name| name.canonical())
                    .map_err(|e| {
                        Error::InvalidSetting(format!(
                            "forward-auth rule for {host:?}: user {name:?}: {e}"
                        ))
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(HostRule {
            host: HostPattern::parse(host)?,
            users,
        })
    }
}

/// What forward auth is configured to guard.
#[derive(Debug, Clone, Default)]
pub struct ForwardAuthPolicy {
    domains: Vec<HostPattern>,
    rules: Vec<HostRule>,
    upstream_token: bool,
}

/// What forward auth answers for one request.
#[derive(Debug)]
pub enum ForwardDecision {
    /// Let the request through as `user`; `upstream_token` is a short-lived access token
    /// for the app behind the proxy, when configured.
    Admit {
        /// Who is signed in.
        user: User,
        /// A token for the upstream, when `forward_auth_token` is on.
        upstream_token: Option<String>,
    },
    /// Nobody is signed in and the request is for an allowed host: send them to sign in.
    SignIn,
    /// Nobody is signed in and the proxy did not say where the request was going.
    Unauthenticated,
    /// The request is for a host outside the allowed domains.
    HostNotAllowed,
    /// Signed in, but a rule keeps this user out of the host.
    Forbidden,
}

impl ForwardAuthPolicy {
    /// Guards the hosts matching `domains`, with `rules` for some of them (the first rule
    /// whose host matches decides); `upstream_token` adds a token for the upstream.
    pub fn new(domains: Vec<HostPattern>, rules: Vec<HostRule>, upstream_token: bool) -> Self {
        ForwardAuthPolicy {
            domains,
            rules,
            upstream_token,
        }
    }

    /// Whether `host` is one Tessera guards, and so may send a user back to.
    pub fn allows_host(&self, host: &str) -> bool {
        self.domains.iter().any(|pattern| pattern.matches(host))
    }

    /// Whether an upstream token is wanted.
    pub(crate) fn wants_upstream_token(&self) -> bool {
        self.upstream_token
    }

    /// The decision for `who` going to `host`, short of making the upstream token.
    pub(crate) fn decide(&self, host: Option<&str>, who: Option<User>) -> ForwardDecision {
        if let Some(host) = host {
            if !self.allows_host(host) {
                return ForwardDecision::HostNotAllowed;
            }
        }
        let Some(user) = who else {
            return match host {
                Some(_) => ForwardDecision::SignIn,
                None => ForwardDecision::Unauthenticated,
            };
        };
        let rule = host.and_then(|host| self.rules.iter().find(|rule| rule.host.matches(host)));
        if let Some(rule) = rule {
            // Stored names are valid; an unparsable one can match no rule.
            let key = Username::parse(&user.username).map(|name| name.canonical());
            if !key.is_ok_and(|key| rule.users.contains(&key)) {
                return ForwardDecision::Forbidden;
            }
        }
        ForwardDecision::Admit {
            user,
            upstream_token: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserId;

    fn user(name: &str) -> User {
        let now = chrono::Utc::now();
        User {
            id: UserId(7),
            username: name.to_owned(),
            password_hash: String::new(),
            created_at: now,
            updated_at: now,
            tokens_not_before: None,
        }
    }

    fn patterns(list: &[&str]) -> Vec<HostPattern> {
        list.iter()
            .map(|p| HostPattern::parse(p).unwrap())
            .collect()
    }

    #[test]
    fn patterns_match_their_hosts_only() {
        let exact = HostPattern::parse("App1.Tessera.test").unwrap();
        assert!(exact.matches("app1.tessera.test"));
        assert!(exact.matches("APP1.tessera.test."));
        assert!(!exact.matches("app2.tessera.test"));
        assert!(!exact.matches("app1.tessera.test.evil.example"));
        assert!(!exact.matches("evilapp1.tessera.test"));
        let wildcard = HostPattern::parse("*.example.com").unwrap();
        assert!(wildcard.matches("a.example.com"));
        assert!(wildcard.matches("a.b.example.com"));
        assert!(!wildcard.matches("example.com"));
        assert!(!wildcard.matches("badexample.com"));
        assert!(!wildcard.matches("a.example.com.evil.example"));
        for bad in [
            "", "*", "*.com", "a..b", "a b.c", "-a.b", "a.b/c", "*.*.b.c", "a@b.c",
        ] {
            assert!(HostPattern::parse(bad).is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn unknown_hosts_are_refused_whoever_asks_and_nobody_is_sent_to_sign_in_for_them() {
        let policy = ForwardAuthPolicy::new(patterns(&["app1.tessera.test"]), vec![], false);
        assert!(matches!(
            policy.decide(Some("evil.example"), None),
            ForwardDecision::HostNotAllowed
        ));
        assert!(matches!(
            policy.decide(Some("evil.example"), Some(user("alice"))),
            ForwardDecision::HostNotAllowed
        ));
        assert!(matches!(
            policy.decide(Some("app1.tessera.test"), None),
            ForwardDecision::SignIn
        ));
        assert!(matches!(
            policy.decide(None, None),
            ForwardDecision::Unauthenticated
        ));
        assert!(matches!(
            policy.decide(None, Some(user("alice"))),
            ForwardDecision::Admit { .. }
        ));
    }

    #[test]
    fn rules_admit_their_users_by_comparison_key_and_keep_others_out() {
        let rules = vec![HostRule::new("app2.tessera.test", &["Alice".to_owned()]).unwrap()];
        let policy = ForwardAuthPolicy::new(patterns(&["*.tessera.test"]), rules, false);
        let app2 = Some("app2.tessera.test");
        assert!(matches!(
            policy.decide(app2, Some(user("alice"))),
            ForwardDecision::Admit { .. }
        ));
        assert!(matches!(
            policy.decide(app2, Some(user("ＡＬＩＣＥ"))),
            ForwardDecision::Admit { .. }
        ));
        assert!(matches!(
            policy.decide(app2, Some(user("bob"))),
            ForwardDecision::Forbidden
        ));
        assert!(matches!(
            policy.decide(Some("app1.tessera.test"), Some(user("bob"))),
            ForwardDecision::Admit { .. }
        ));
        assert!(HostRule::new("app2.tessera.test", &["a:b".to_owned()]).is_err());
    }
}
