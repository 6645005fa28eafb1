//! The client's address as the limits count it, behind zero or more trusted proxies.
//!
//! Without trusted proxies the peer of the TCP connection is the client and every header is
//! ignored. When the peer is a trusted proxy, `X-Forwarded-For` is read **from the right**:
//! each trusted proxy appends the address it saw, so the rightmost entry that is not itself a
//! trusted proxy is the first address no trusted party vouches for beyond — the client. The
//! entries to its left were written by the client and are never used, so rotating them
//! changes nothing.
//!
//! Several `X-Forwarded-For` headers count as one list, in the order they arrive. A
//! malformed entry (not a bare IP address: empty, a name, `ip:port`, `unknown`) stops the
//! walk and the last good address — a trusted proxy — is the answer: only a proxy we trust
//! could have written what is to the right of it, so the garbage came from its client, and
//! counting that client under the proxy's address is the safe side (never an address of the
//! client's choosing). `Forwarded` (RFC 7239) is not read.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The proxies whose `X-Forwarded-For` entries are believed: addresses and CIDR networks.
/// Empty (the default) trusts no header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A `trusted_proxies` entry that is neither an IP address nor a CIDR network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trusted_proxies: {0:?} is not an IP address or a CIDR network (e.g. 10.0.0.0/8)")]
pub struct InvalidProxy(String);

impl TrustedProxies {
    /// Trusts these networks.
    pub fn new(networks: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(networks)
    }

    /// The networks trusted.
    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }

    /// Whether any proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `address` is a trusted proxy.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client's address: `peer` unless it is a trusted proxy; then the rightmost entry of
    /// the `X-Forwarded-For` values (`forwarded_for`, in arrival order) that is not a trusted
    /// proxy, as the module documentation explains.
    pub fn client_address<'a, I>(&self, peer: IpAddr, forwarded_for: I) -> IpAddr
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        let headers: Vec<&[u8]> = forwarded_for.into_iter().collect();
        // Right to left over the headers, and within each header.
        for value in headers.into_iter().rev() {
            let Ok(value) = std::str::from_utf8(value) else {
                return client;
            };
            for entry in value.rsplit(',') {
                let Ok(address) = IpAddr::from_str(entry.trim()) else {
                    return client;
                };
                client = address.to_canonical();
                if !self.contains(client) {
                    return client;
                }
            }
        }
        client
    }
}

impl FromStr for TrustedProxies {
    type Err = InvalidProxy;

    /// A list separated by commas or white space; a bare address is a /32 (or /128).
    fn from_str(list: &str) -> Result<TrustedProxies, InvalidProxy> {
        list.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty())
            .map(parse_network)
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

fn parse_network(entry: &str) -> Result<IpNet, InvalidProxy> {
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| InvalidProxy(entry.to_owned()))
}

impl std::fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut separator = "";
        for network in &self.0 {
            write!(f, "{separator}{network}")?;
            separator = ",";
        }
        Ok(())
    }
}

/// Serialized as a list of strings, e.g. `["127.0.0.1/32", "10.0.0.0/8"]`.
impl Serialize for TrustedProxies {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

/// Read from a list of strings (TOML) or one string separated by commas (an environment
/// variable: `TESSERA_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8`).
impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Given {
            One(String),
            Many(Vec<String>),
        }
        let list = match Given::deserialize(deserializer)? {
            Given::One(list) => list,
            Given::Many(entries) => entries.join(","),
        };
        list.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn proxies(list: &str) -> TrustedProxies {
        list.parse().unwrap()
    }

    fn ip(address: &str) -> IpAddr {
        address.parse().unwrap()
    }

    fn client(trusted: &str, peer: &str, headers: &[&str]) -> IpAddr {
        proxies(trusted).client_address(ip(peer), headers.iter().map(|h| h.as_bytes()))
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header() {
        assert_eq!(
            client("", "203.0.113.9", &["198.51.100.1"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_the_header() {
        assert_eq!(
            client("10.0.0.0/8", "203.0.113.9", &["10.0.0.1"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_an_appending_proxy_the_entries_the_client_wrote_are_ignored() {
        // nginx's `$proxy_add_x_forwarded_for`: whatever the client sent, then its address.
        for forged in ["1.2.3.4", "1.2.3.4, 5.6.7.8", "127.0.0.1", "garbage"] {
            let header = format!("{forged}, 203.0.113.9");
            assert_eq!(
                client("127.0.0.1", "127.0.0.1", &[&header]),
                ip("203.0.113.9"),
                "{header}"
            );
        }
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_from_the_right() {
        assert_eq!(
            client(
                "127.0.0.1, 10.0.0.0/8",
                "127.0.0.1",
                &["6.6.6.6, 203.0.113.9, 10.1.2.3"]
            ),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn several_headers_are_one_list_in_order() {
        assert_eq!(
            client(
                "127.0.0.1, 10.0.0.0/8",
                "127.0.0.1",
                &["6.6.6.6, 203.0.113.9", "10.1.2.3"]
            ),
            ip("203.0.113.9")
        );
        assert_eq!(
            client("127.0.0.1", "127.0.0.1", &["203.0.113.9", "198.51.100.7"]),
            ip("198.51.100.7"),
            "the last header is the rightmost"
        );
    }

    #[test]
    fn a_malformed_entry_stops_the_walk_at_the_last_good_address() {
        for bad in ["", "unknown", "203.0.113.9:1234", "example.com", "1.2.3"] {
            let header = format!("6.6.6.6, {bad}, 10.1.2.3");
            assert_eq!(
                client("127.0.0.1, 10.0.0.0/8", "127.0.0.1", &[&header]),
                ip("10.1.2.3"),
                "{header:?}"
            );
        }
        let not_utf8: &[&[u8]] = &[b"6.6.6.6, \xff"];
        assert_eq!(
            proxies("127.0.0.1").client_address(ip("127.0.0.1"), not_utf8.iter().copied()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn only_trusted_entries_or_no_header_give_the_last_trusted_address() {
        assert_eq!(client("127.0.0.1", "127.0.0.1", &[]), ip("127.0.0.1"));
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.1", &["10.0.0.3, 10.0.0.2"]),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn ipv4_mapped_ipv6_peers_and_entries_match_ipv4_networks() {
        assert_eq!(
            client("127.0.0.1", "::ffff:127.0.0.1", &["::ffff:203.0.113.9"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            client("2001:db8::/32", "2001:db8::1", &["2001:db8::2, 2a00::1"]),
            ip("2a00::1")
        );
    }

    #[test]
    fn lists_parse_from_commas_white_space_and_toml_arrays() {
        let parsed = proxies(" 127.0.0.1, 10.0.0.0/8 ::1 ");
        assert_eq!(parsed.to_string(), "127.0.0.1/32,10.0.0.0/8,::1/128");
        assert!(proxies("").is_empty());
        let from_toml: TrustedProxies =
            serde_json::from_str(r#"["127.0.0.1", "10.0.0.0/8"]"#).unwrap();
        assert_eq!(from_toml.to_string(), "127.0.0.1/32,10.0.0.0/8");
        let round_trip: TrustedProxies =
            serde_json::from_str(&serde_json::to_string(&from_toml).unwrap()).unwrap();
        assert_eq!(round_trip, from_toml);
    }

    #[test]
    fn bad_entries_are_refused_by_name() {
        for bad in ["10.0.0.0/33", "localhost", "10.0.0.1:80", "*"] {
            let error = bad.parse::<TrustedProxies>().unwrap_err().to_string();
            assert!(
                error.contains(bad) && error.contains("trusted_proxies"),
                "{error}"
            );
        }
    }
}
