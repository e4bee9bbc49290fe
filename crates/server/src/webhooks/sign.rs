//! Standard Webhooks signatures: `v1,` + base64 of HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the base64 part of
//! a `whsec_…` secret. Several secrets (after a rotation) give several
//! signatures, separated by spaces, and a receiver accepts any one.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The value of the `webhook-signature` header for one attempt.
pub fn signature(secrets: &[String], msg_id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let signed = format!("{msg_id}.{timestamp}.{body}");
    let mut out = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let key = secret_key(secret)?;
        let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key), signed.as_bytes());
        out.push(format!("v1,{}", BASE64.encode(tag.as_ref())));
    }
    Ok(out.join(" "))
}

/// The key bytes of a `whsec_` secret.
fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    BASE64.decode(b64).map_err(|e| format!("the stored webhook secret is not base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::signature;

    /// The example of the Standard Webhooks specification's reference
    /// libraries: this secret, id, timestamp and body sign to this value.
    #[test]
    fn signs_the_specification_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_string();
        let body = r#"{"test": 2432232314}"#;
        let sig = signature(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).expect("sign");
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn two_secrets_give_two_signatures() {
        let a = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_string();
        let sig = signature(&[a.clone(), a], "msg_1", 1, "{}").expect("sign");
        let parts: Vec<&str> = sig.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], parts[1]);
        assert!(parts[0].starts_with("v1,"));
    }
}
