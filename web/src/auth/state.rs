//! Which session is in force, as a reducer: answers that arrive late (an old request's
//! 401, a renewal overtaken by signing out) must not change a session started since.

use std::rc::Rc;

use yew::prelude::*;

use super::Session;

#[derive(Debug, Default, PartialEq)]
pub(super) struct AuthState {
    pub(super) session: Option<Session>,
}

pub(super) enum AuthAction {
    SignedIn(Session),
    SignedOut,
    /// Ends the session only if it still holds this token: an answer to an old request
    /// must not end a session the user has started since.
    Ended(Rc<str>),
    /// New tokens for the session holding `old`; ignored if it holds another by now (the
    /// user signed out or in meanwhile).
    Renewed {
        old: Rc<str>,
        new: Session,
    },
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
            AuthAction::SignedIn(session) => Rc::new(AuthState {
                session: Some(session),
            }),
            AuthAction::SignedOut => Rc::new(AuthState { session: None }),
            AuthAction::Ended(token) if holds(&token) => Rc::new(AuthState { session: None }),
            AuthAction::Renewed { old, new } if holds(&old) => {
                Rc::new(AuthState { session: Some(new) })
            }
            AuthAction::Ended(_) | AuthAction::Renewed { .. } => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{renewable, session};
    use super::*;

    #[test]
    fn ending_an_old_session_keeps_the_new_one() {
        let old = session(1_000, "old");
        let new = session(2_000, "new");
        let state = Rc::new(AuthState::default())
            .reduce(AuthAction::SignedIn(old.clone()))
            .reduce(AuthAction::SignedIn(new.clone()));
        let state = state.reduce(AuthAction::Ended(old.access_token.clone()));
        assert_eq!(state.session.as_ref(), Some(&new));
        let state = state.reduce(AuthAction::Ended(new.access_token.clone()));
        assert_eq!(state.session, None);
    }

    #[test]
    fn renewal_applies_only_to_the_session_it_renews() {
        let first = renewable(1_000, 1_600);
        let renewed = renewable(1_500, 2_100);
        let state = Rc::new(AuthState::default()).reduce(AuthAction::SignedIn(first.clone()));
        let state = state.reduce(AuthAction::Renewed {
            old: first.access_token.clone(),
            new: renewed.clone(),
        });
        assert_eq!(state.session.as_ref(), Some(&renewed));
        // Signed out while the renewal ran: it must not sign the user back in.
        let state = state
            .reduce(AuthAction::SignedOut)
            .reduce(AuthAction::Renewed {
                old: renewed.access_token.clone(),
                new: renewable(1_900, 2_500),
            });
        assert_eq!(state.session, None);
    }

    #[test]
    fn sign_out_ends_any_session() {
        let state = Rc::new(AuthState::default())
            .reduce(AuthAction::SignedIn(session(1_000, "a")))
            .reduce(AuthAction::SignedOut);
        assert_eq!(state.session, None);
    }
}
