//! Which session is in force, as a reducer: answers that arrive late (an old request's
//! 401, a renewal overtaken by signing out, a cookie renewal started before a sign-in)
//! must not change a session started since.

use std::rc::Rc;

use yew::prelude::*;

use super::Session;

#[derive(Debug, PartialEq)]
pub(super) struct AuthState {
    pub(super) session: Option<Session>,
    /// Until the first renewal through the cookie has answered, nobody knows yet whether
    /// the user is signed in.
    pub(super) restoring: bool,
    /// Counts sign-ins and sign-outs, so that a cookie renewal started before one of them
    /// is not applied after it.
    pub(super) epoch: u32,
}

impl Default for AuthState {
    fn default() -> Self {
        AuthState {
            session: None,
            restoring: true,
            epoch: 0,
        }
    }
}

pub(super) enum AuthAction {
    SignedIn(Session),
    SignedOut,
    /// Ends the session only if it still holds this token: an answer to an old request
    /// must not end a session the user has started since.
    Ended(Rc<str>),
    /// A new access token for the session holding `old`; ignored if it holds another by
    /// now (the user signed out or in meanwhile).
    Renewed {
        old: Rc<str>,
        new: Session,
    },
    /// What the cookie said (a session, or none) to a renewal asked at `epoch`; ignored if
    /// the user has signed in or out since.
    Resumed {
        epoch: u32,
        session: Option<Session>,
    },
}

impl AuthState {
    fn next(&self, session: Option<Session>) -> Rc<AuthState> {
        Rc::new(AuthState {
            session,
            restoring: false,
            epoch: self.epoch.wrapping_add(1),
        })
    }
}

impl Reducible for AuthState {
    type Action = AuthAction;

    fn reduce(self: Rc<Self>, action: AuthAction) -> Rc<Self> {
        let holds = |token: &Rc<str>| {
            self.session
                .as_ref()
                .is_some_and(|session| session.access_token == *token)
        };
        match action {
            AuthAction::SignedIn(session) => self.next(Some(session)),
            AuthAction::SignedOut => self.next(None),
            AuthAction::Ended(token) if holds(&token) => self.next(None),
            AuthAction::Renewed { old, new } if holds(&old) => Rc::new(AuthState {
                session: Some(new),
                restoring: false,
                epoch: self.epoch,
            }),
            AuthAction::Resumed { epoch, session } if epoch == self.epoch => self.next(session),
            AuthAction::Ended(_) | AuthAction::Renewed { .. } | AuthAction::Resumed { .. } => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::session;
    use super::*;

    fn signed_in(session: &Session) -> Rc<AuthState> {
        Rc::new(AuthState::default()).reduce(AuthAction::SignedIn(session.clone()))
    }

    #[test]
    fn the_app_starts_not_knowing_and_the_cookie_decides() {
        let start = Rc::new(AuthState::default());
        assert!(start.restoring);
        let found = session(Some(1_000), 1_600, "a");
        let state = start.clone().reduce(AuthAction::Resumed {
            epoch: start.epoch,
            session: Some(found.clone()),
        });
        assert!(!state.restoring);
        assert_eq!(state.session.as_ref(), Some(&found));
        let state = start.clone().reduce(AuthAction::Resumed {
            epoch: start.epoch,
            session: None,
        });
        assert_eq!((state.restoring, state.session.as_ref()), (false, None));
    }

    #[test]
    fn a_cookie_answer_asked_before_a_sign_out_does_not_sign_back_in() {
        let start = Rc::new(AuthState::default());
        let asked_at = start.epoch;
        let state = start.reduce(AuthAction::SignedOut);
        let state = state.reduce(AuthAction::Resumed {
            epoch: asked_at,
            session: Some(session(Some(1_000), 1_600, "late")),
        });
        assert_eq!(state.session, None);
        // Signed in by the form while the cookie was asked: the form's session stays.
        let mine = session(Some(1_000), 1_600, "mine");
        let asked_at = state.epoch;
        let state = state
            .reduce(AuthAction::SignedIn(mine.clone()))
            .reduce(AuthAction::Resumed {
                epoch: asked_at,
                session: None,
            });
        assert_eq!(state.session.as_ref(), Some(&mine));
    }

    #[test]
    fn ending_an_old_session_keeps_the_new_one() {
        let old = session(None, 1_000, "old");
        let new = session(None, 2_000, "new");
        let state = signed_in(&old).reduce(AuthAction::SignedIn(new.clone()));
        let state = state.reduce(AuthAction::Ended(old.access_token.clone()));
        assert_eq!(state.session.as_ref(), Some(&new));
        let state = state.reduce(AuthAction::Ended(new.access_token.clone()));
        assert_eq!(state.session, None);
    }

    #[test]
    fn renewal_applies_only_to_the_session_it_renews() {
        let first = session(Some(1_000), 1_600, "first");
        let renewed = session(Some(1_500), 2_100, "renewed");
        let state = signed_in(&first);
        let epoch = state.epoch;
        let state = state.reduce(AuthAction::Renewed {
            old: first.access_token.clone(),
            new: renewed.clone(),
        });
        assert_eq!(state.session.as_ref(), Some(&renewed));
        assert_eq!(state.epoch, epoch, "a renewal is no sign-in");
        // Signed out while the renewal ran: it must not sign the user back in.
        let state = state
            .reduce(AuthAction::SignedOut)
            .reduce(AuthAction::Renewed {
                old: renewed.access_token.clone(),
                new: session(Some(1_900), 2_500, "late"),
            });
        assert_eq!(state.session, None);
    }

    #[test]
    fn sign_out_ends_any_session_and_any_restoring() {
        let state = signed_in(&session(None, 1_000, "a")).reduce(AuthAction::SignedOut);
        assert_eq!(state.session, None);
        let state = Rc::new(AuthState::default()).reduce(AuthAction::SignedOut);
        assert!(!state.restoring);
    }
}
