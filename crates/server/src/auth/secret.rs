//! Secrets: argon2id password hashes, random tokens, and SHA-256 digests
//! under which tokens are stored (a token is random and long, so a fast
//! hash suffices; passwords are not, so they get argon2id).
//!
//! Argon2 is slow on purpose (tens of milliseconds of CPU and 19 MiB each).
//! Run on an async worker, a few parallel sign-ins would stall every other
//! request, so the server hashes and verifies on tokio's blocking threads,
//! at most [`HASH_PERMITS`] at a time.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// How many argon2 computations may run at once in this process. Two keeps
/// the memory bounded and leaves the other cores to ordinary requests.
pub const HASH_PERMITS: usize = 2;

static HASHING: Semaphore = Semaphore::const_new(HASH_PERMITS);

/// A well-formed argon2id hash (default parameters) of no known password:
/// verifying against it costs as much as a real check, so an unknown e-mail
/// answers as slowly as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// Hashes a password with argon2id and a random salt (PHC string format).
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Checks a password against a stored hash; a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// Runs an argon2 job on a blocking thread once a permit is free.
async fn on_hashing_thread<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    // The semaphore is a static that is never closed, so acquire cannot fail;
    // map the error anyway rather than assume it.
    let _permit = HASHING.acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(job).await.map_err(|e| format!("the hashing task failed: {e}"))
}

/// [`hash_password`] off the async workers, behind the hashing limit.
pub async fn hash_password_async(password: &str) -> Result<String, String> {
    let password = password.to_string();
    on_hashing_thread(move || hash_password(&password)).await?
}

/// [`verify_password`] off the async workers, behind the hashing limit.
/// `None` for `hash` verifies against a dummy hash and returns false, so
/// the caller spends the same time whether or not the account exists.
pub async fn verify_password_async(password: &str, hash: Option<&str>) -> bool {
    let password = password.to_string();
    let known = hash.is_some();
    let hash = hash.unwrap_or(DUMMY_HASH).to_string();
    let ok = on_hashing_thread(move || verify_password(&password, &hash)).await.unwrap_or(false);
    ok && known
}

/// Compares two secrets in time that depends only on their lengths, so a
/// guesser cannot learn how many leading characters were right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh random secret: `prefix` + 64 hex digits (256 bits).
pub fn new_secret(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    format!("{prefix}{}", hex::encode(b))
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }

    #[tokio::test]
    async fn dummy_verification_never_succeeds() {
        assert!(!verify_password_async("anything", None).await);
        let h = hash_password_async("correct horse").await.unwrap();
        assert!(verify_password_async("correct horse", Some(&h)).await);
        assert!(!verify_password_async("wrong", Some(&h)).await);
    }

    #[test]
    fn secrets_differ() {
        assert_ne!(new_secret("a_"), new_secret("a_"));
        assert_eq!(new_secret("dfl_").len(), 68);
    }
}
