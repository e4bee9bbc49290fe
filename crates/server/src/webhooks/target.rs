//! Where a webhook may post: a guard against server-side request forgery.
//! A subscription URL whose host is, or resolves to, a loopback, private,
//! link-local or otherwise non-public address is refused unless the admin
//! setting `webhooks_allow_private` allows it. The check runs when a
//! subscription is saved (to say so at once) and again on every delivery,
//! inside the HTTP client's resolver, so a name that later resolves
//! elsewhere (DNS rebinding) is still refused, and redirects are not
//! followed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// How long saving a subscription waits for its host to resolve.
const LOOKUP_LIMIT: Duration = Duration::from_secs(5);

/// Why an address is not public, or `None` when it is.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_kind(v4);
            }
            let s = v6.segments();
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("the unspecified address")
            } else if s[0] & 0xfe00 == 0xfc00 {
                Some("a private (unique local) address")
            } else if s[0] & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if v6.is_multicast() {
                Some("a multicast address")
            } else if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                // NAT64: the IPv4 address in the last 32 bits decides.
                v4_kind(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8))
            } else {
                None
            }
        }
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if o[0] == 0 {
        Some("an unspecified (\"this network\") address")
    } else if o[0] == 100 && (64..128).contains(&o[1]) {
        Some("a shared (carrier-grade NAT) address")
    } else if o[0] == 198 && (o[1] == 18 || o[1] == 19) {
        Some("a benchmarking address")
    } else if ip.is_multicast() || o[0] >= 240 {
        Some("a multicast or reserved address")
    } else {
        None
    }
}

/// The refusal, said so the admin knows what to change.
pub fn refusal(ip: IpAddr, kind: &str) -> String {
    format!(
        "resolves to {ip}, {kind}; webhooks to loopback, private and link-local networks are refused \
         unless an admin sets `webhooks_allow_private` in the settings"
    )
}

/// Checks a subscription URL when it is saved: its scheme, and every
/// address its host resolves to. The error is the message for `url`.
pub async fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| format!("is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".into());
    }
    let Some(host) = parsed.host_str() else { return Err("has no host".into()) };
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return check_ips(&[ip], allow_private);
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let lookup = tokio::time::timeout(LOOKUP_LIMIT, tokio::net::lookup_host((host, port))).await.map_err(|_| {
        format!("its host {host:?} did not resolve within {} seconds; try again", LOOKUP_LIMIT.as_secs())
    })?;
    let addrs: Vec<SocketAddr> =
        lookup.map_err(|e| format!("its host {host:?} does not resolve ({e}); check the address"))?.collect();
    let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
    check_ips(&ips, allow_private)
}

fn check_ips(ips: &[IpAddr], allow_private: bool) -> Result<(), String> {
    if allow_private {
        return Ok(());
    }
    match ips.iter().find_map(|ip| non_public(*ip).map(|k| (*ip, k))) {
        Some((ip, kind)) => Err(refusal(ip, kind)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::non_public;

    #[test]
    fn sorts_addresses_into_public_and_not() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "224.0.0.1",
        ] {
            assert!(non_public(private.parse().expect("an address")).is_some(), "{private} is not public");
        }
        for public in ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "172.32.0.1", "64:ff9b::808:808"] {
            assert_eq!(non_public(public.parse().expect("an address")), None, "{public} is public");
        }
    }
}
