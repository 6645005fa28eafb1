//! Who is asking ([`Client`], as every entry point hands it to the use cases), and where a
//! session was signed in from, as the user's list of sessions shows it: the client's
//! `User-Agent` and address, kept from the sign-in.
//!
//! Both come from the client, so they are never used for a decision, and whatever a client
//! sends is made harmless here, the one place every sign-in passes: control characters
//! (and the invisible ones that reorder text) are dropped, white space at the ends is
//! trimmed, and at most [`USER_AGENT_MAX_CHARS`] characters are kept, so a hostile client
//! can neither fill the store nor put terminal escapes or reversed text on a page or in an
//! operator's terminal.

use std::net::IpAddr;

use tessera_api::policy::USER_AGENT_MAX_CHARS;

/// Who is asking, as the entry point saw them: what the limits count against, and what a
/// session started for them records ([`SessionOrigin::of`] cleans it). It lives here, apart
/// from the use cases, so that sessions can name it without importing them.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    /// The client's address (an IP address, or `"unknown"`).
    pub address: &'a str,
    /// The `User-Agent` the client sent, as sent; `None` when it sent none (or, over HTTP,
    /// one that is not UTF-8).
    pub user_agent: Option<&'a str>,
}

/// A session's client as recorded at sign-in. A refresh keeps it: it says where the
/// password was presented, and a refresh proves only that the refresh token was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionOrigin {
    /// The `User-Agent`, cleaned: see [`SessionOrigin::of`].
    pub user_agent: Option<String>,
    /// The client's IP address as the limits counted it.
    pub address: Option<String>,
}

impl SessionOrigin {
    /// What a session started by `client` records. The `User-Agent` loses its control and
    /// bidirectional-formatting characters and the white space at its ends, and is cut to
    /// [`USER_AGENT_MAX_CHARS`] characters; nothing left is `None`. An address that is not
    /// an IP address (`"unknown"`) is `None`.
    pub fn of(client: Client<'_>) -> SessionOrigin {
        SessionOrigin {
            user_agent: client.user_agent.and_then(clean_user_agent),
            address: client
                .address
                .trim()
                .parse::<IpAddr>()
                .ok()
                .map(|address| address.to_string()),
        }
    }
}

/// The characters a stored `User-Agent` keeps: no C0 or C1 control (NUL, tab, line breaks,
/// ESC, DEL, CSI, …) and no bidirectional formatting character (which could make a page
/// show the text around it reversed).
fn is_shown(c: char) -> bool {
    !c.is_control()
        && !matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// Cleans a `User-Agent`, reading no more of it than the characters it keeps (and the
/// dropped ones between them).
fn clean_user_agent(raw: &str) -> Option<String> {
    let mut kept: String = raw
        .chars()
        .filter(|&c| is_shown(c))
        .skip_while(|c| c.is_whitespace())
        .take(USER_AGENT_MAX_CHARS)
        .collect();
    kept.truncate(kept.trim_end().len());
    (!kept.is_empty()).then_some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_agent(raw: &str) -> Option<String> {
        SessionOrigin::of(Client {
            address: "unknown",
            user_agent: Some(raw),
        })
        .user_agent
    }

    fn address(raw: &str) -> Option<String> {
        SessionOrigin::of(Client {
            address: raw,
            user_agent: None,
        })
        .address
    }

    #[test]
    fn an_ordinary_user_agent_is_kept_as_sent() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
        assert_eq!(user_agent(firefox).as_deref(), Some(firefox));
        let mixed = "Ünïcødé-Client/1.0 (日本語; Ελληνικά)";
        assert_eq!(user_agent(mixed).as_deref(), Some(mixed));
    }

    #[test]
    fn control_and_bidi_characters_are_dropped() {
        assert_eq!(
            user_agent("\0Mo\tzil\rla\n/5.0\u{1b}[31m\u{7f} x\u{85}\u{9b}y").as_deref(),
            Some("Mozilla/5.0[31m xy")
        );
        assert_eq!(
            user_agent("curl/8.0 \u{202e}gnp.exe\u{202c}\u{2066}\u{200f}").as_deref(),
            Some("curl/8.0 gnp.exe")
        );
    }

    #[test]
    fn white_space_at_the_ends_is_trimmed_and_nothing_left_is_none() {
        assert_eq!(
            user_agent("  \t curl/8.0 \u{3000}").as_deref(),
            Some("curl/8.0")
        );
        for empty in ["", "   ", "\t\r\n", "\0\0", "\u{202e}\u{85}", " \u{1b} "] {
            assert_eq!(user_agent(empty), None, "{empty:?}");
        }
        assert_eq!(
            SessionOrigin::of(Client {
                address: "unknown",
                user_agent: None,
            }),
            SessionOrigin::default()
        );
    }

    #[test]
    fn a_huge_user_agent_is_cut_on_a_character_boundary() {
        let huge = "A".repeat(10_000);
        assert_eq!(user_agent(&huge), Some("A".repeat(USER_AGENT_MAX_CHARS)));
        // Two-, three- and four-byte characters: the bound is in characters, and the cut
        // never splits one.
        for wide in ["é", "語", "😀"] {
            let kept = user_agent(&wide.repeat(USER_AGENT_MAX_CHARS + 1)).unwrap();
            assert_eq!(kept, wide.repeat(USER_AGENT_MAX_CHARS), "{wide}");
        }
        // Dropped characters do not count against the bound.
        let padded = "\0".repeat(5_000) + &"b".repeat(300);
        assert_eq!(user_agent(&padded), Some("b".repeat(USER_AGENT_MAX_CHARS)));
        // White space the cut leaves at the end goes too.
        let spaced = "c".repeat(USER_AGENT_MAX_CHARS - 1) + "  d";
        assert_eq!(
            user_agent(&spaced),
            Some("c".repeat(USER_AGENT_MAX_CHARS - 1))
        );
    }

    #[test]
    fn only_an_ip_address_is_kept_as_the_address() {
        assert_eq!(address("203.0.113.9").as_deref(), Some("203.0.113.9"));
        assert_eq!(address("2001:db8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(
            address("2001:0DB8:0000::0001").as_deref(),
            Some("2001:db8::1"),
            "one spelling"
        );
        for not_an_address in ["unknown", "", "test", "203.0.113.9:80", &"1".repeat(1000)] {
            assert_eq!(address(not_an_address), None, "{not_an_address}");
        }
    }
}
