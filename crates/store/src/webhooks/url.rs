//! The shape a subscription URL must have, stated twice in lockstep: as a
//! pattern for the API's schema and as the check the store runs, so a
//! client can tell a valid URL from the schema alone. Where the URL
//! resolves to is the server's check (`server/src/webhooks/target.rs`).

/// The shape of a subscription URL, as a pattern for the API's schema;
/// [`url_has_shape`] checks the same. Hosts are names, IPv4 addresses or
/// bracketed IPv6 addresses; the path is printable ASCII (percent-encode
/// the rest).
pub const WEBHOOK_URL_PATTERN: &str = r"^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/[!-~]*)?$";
/// Longest subscription URL.
pub const WEBHOOK_URL_MAX: usize = 2_000;

/// Whether `url` matches [`WEBHOOK_URL_PATTERN`].
pub fn url_has_shape(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")) else { return false };
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    if !path.chars().all(|c| ('!'..='~').contains(&c)) {
        return false;
    }
    let port = if let Some(v6) = authority.strip_prefix('[') {
        let Some((inner, after)) = v6.split_once(']') else { return false };
        if inner.is_empty() || !inner.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return false;
        }
        after
    } else {
        let (host, port) = authority.find(':').map_or((authority, ""), |i| authority.split_at(i));
        if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
            return false;
        }
        port
    };
    match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(p) => {
            let digits = !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
            digits
                && (p.len() <= 4
                    || (p.len() == 5 && !p.starts_with('0') && p.parse::<u32>().is_ok_and(|n| n <= 65_535)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::url_has_shape;

    #[test]
    fn url_shapes_follow_the_schema_pattern() {
        for ok in [
            "https://example.com/hooks",
            "http://127.0.0.1:8080/x?y=1",
            "http://[::1]:9/",
            "https://a-b.example:65535",
            "http://h:0",
        ] {
            assert!(url_has_shape(ok), "{ok}");
        }
        for bad in [
            "ftp://example.com/",
            "example.com/hooks",
            " http://example.com/",
            "http://",
            "http://exa mple.com/",
            "http://example.com/a b",
            "http://ex_ample.com/",
            "http://example.com:65536/",
            "http://example.com:00080/",
            "http://example.com:/",
            "http://example.com?x=1",
            "http://[]/",
            "http://example.com/é",
        ] {
            assert!(!url_has_shape(bad), "{bad}");
        }
    }
}
