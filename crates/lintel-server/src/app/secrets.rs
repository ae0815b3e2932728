//! Random secrets and their hashes. Secrets carry 256 random bits, so a plain SHA-256 makes a
//! leaked table useless and still lets a secret be looked up by its hash.

use base64::Engine as _;
use rand::{Rng as _, RngCore as _};
use sha2::{Digest, Sha256};

/// `prefix` followed by 256 random bits in base64url.
pub fn token(prefix: &str) -> String {
    let mut random = [0u8; 32];
    rand::rng().fill_bytes(&mut random);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    )
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A short code bound to `context` (the attempt it belongs to), so one attempt's code hash
/// says nothing about another's.
pub fn hash_code(context: &[u8], code: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(context);
    h.update(code.as_bytes());
    h.finalize().to_vec()
}

/// Six random digits.
pub fn code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// Compares two hashes in time that does not depend on where they differ.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_prefixed() {
        let (a, b) = (token("lat_"), token("lat_"));
        assert!(a.starts_with("lat_") && a.len() == 4 + 43);
        assert_ne!(a, b);
        let c = code();
        assert!(c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()));
        assert!(same(&hash("x"), &hash("x")) && !same(&hash("x"), &hash("y")));
        assert_ne!(hash_code(b"one", "123456"), hash_code(b"two", "123456"));
    }
}
