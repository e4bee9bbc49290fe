//! Posting one delivery over HTTP: a 15-second limit, no redirects, and
//! the forgery guard of `target.rs` in the client's own resolver (unless
//! the workspace allows private addresses), so the address checked is the
//! address connected to.

use super::target::{non_public, refusal};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How long one attempt may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How much of an answer's body is read for the delivery log.
const EXCERPT_BYTES: usize = 1_024;

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub excerpt: String,
}

/// Resolves like the system does, then refuses non-public addresses.
struct Guarded;

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if let Some((ip, kind)) = addrs.iter().find_map(|a| non_public(a.ip()).map(|k| (a.ip(), k))) {
                return Err(refusal(ip, kind).into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

fn client(allow_private: bool) -> Result<&'static reqwest::Client, String> {
    static GUARDED: OnceLock<reqwest::Client> = OnceLock::new();
    static OPEN: OnceLock<reqwest::Client> = OnceLock::new();
    let cell = if allow_private { &OPEN } else { &GUARDED };
    if let Some(c) = cell.get() {
        return Ok(c);
    }
    let mut b = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("dealflow-webhooks/", env!("CARGO_PKG_VERSION")));
    if !allow_private {
        b = b.dns_resolver(Arc::new(Guarded));
    }
    let c = b.build().map_err(|e| format!("cannot make the HTTP client: {}", root_cause(&e)))?;
    Ok(cell.get_or_init(|| c))
}

/// The innermost cause of an error: the part that says what went wrong
/// (the outer layers only say "error sending request").
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        last = s.to_string();
        cur = s.source();
    }
    last
}

/// Posts `body` as JSON to `url` with `headers`. `Err` when no answer came
/// (refused address, connection failure, timeout), with the reason.
pub async fn post(url: &str, allow_private: bool, headers: &[(&str, String)], body: String) -> Result<Answer, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("the URL is not valid: {e}"))?;
    if !allow_private
        && let Some(host) = parsed.host_str()
        && let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>()
        && let Some(kind) = non_public(ip)
    {
        return Err(format!("refused: the URL {}", refusal(ip, kind)));
    }
    let mut req = client(allow_private)?.post(parsed).header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let mut resp = req.body(body).send().await.map_err(|e| describe(&e))?;
    let status = resp.status().as_u16();
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT_BYTES {
        match resp.chunk().await {
            Ok(Some(c)) => bytes.extend_from_slice(&c),
            // The status is what counts; a body cut short is still logged.
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(EXCERPT_BYTES);
    Ok(Answer { status, excerpt: String::from_utf8_lossy(&bytes).into_owned() })
}

fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        format!("no answer within {} seconds", TIMEOUT.as_secs())
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "the request failed".to_string()
    };
    format!("{what}: {}", root_cause(e))
}
