//! Proofs of presence at a door's reader. The reader (its controller, which holds the door's
//! key) signs the door, an expiry and a random nonce; a phone hands the proof over with its
//! unlock, and the server checks it with the same key, derived from the server key, and
//! spends its nonce so that it proves presence once.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use crate::DoorId;

/// How long a proof is good for.
pub const PROOF_TTL: Duration = Duration::seconds(30);
const PREFIX: &str = "lrp_";

fn mac(key: &[u8], door: DoorId, expires: i64, nonce: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(format!("{door}|{expires}|{nonce}").as_bytes());
    mac
}

/// A proof for `door`, signed with the door's reader `key`, good until `expires_at`;
/// `nonce` must be random and used once.
pub fn sign(key: &[u8], door: DoorId, expires_at: DateTime<Utc>, nonce: &[u8; 16]) -> String {
    let expires = expires_at.timestamp();
    let nonce = URL_SAFE_NO_PAD.encode(nonce);
    let signature = mac(key, door, expires, &nonce).finalize().into_bytes();
    format!(
        "{PREFIX}{expires}.{nonce}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The proof's nonce, when it was signed with `key` for `door` and is still good at `now`
/// (the caller spends the nonce, so that the proof counts once).
pub fn check<'a>(proof: &'a str, key: &[u8], door: DoorId, now: DateTime<Utc>) -> Option<&'a str> {
    let mut parts = proof.strip_prefix(PREFIX)?.splitn(3, '.');
    let expires = parts.next()?.parse::<i64>().ok()?;
    let nonce = parts.next()?;
    let signature = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    if expires <= now.timestamp() {
        return None;
    }
    mac(key, door, expires, nonce)
        .verify_slice(&signature)
        .ok()
        .map(|()| nonce)
}

/// The secure channel base key (SCBK) of the OSDP reader at `address` on the bus of the door
/// whose reader key is `key`: derived, so that it reaches the controller with the door's key
/// and is never stored on its own; a reader moved to another door or address needs a new one.
pub fn osdp_key(key: &[u8], address: u8) -> [u8; 16] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(b"lintel osdp scbk|");
    mac.update(&[address]);
    let full = mac.finalize().into_bytes();
    let mut scbk = [0u8; 16];
    scbk.copy_from_slice(&full[..16]);
    scbk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_holds_for_its_door_and_key_until_it_expires() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let door = DoorId(uuid::Uuid::from_u128(1));
        let key = [9u8; 32];
        let proof = sign(&key, door, now + PROOF_TTL, &[5; 16]);
        assert!(proof.starts_with("lrp_"));
        let nonce = check(&proof, &key, door, now).unwrap();
        assert_eq!(nonce, URL_SAFE_NO_PAD.encode([5u8; 16]));
        let other_door = DoorId(uuid::Uuid::from_u128(2));
        assert!(check(&proof, &key, other_door, now).is_none());
        assert!(check(&proof, &[8u8; 32], door, now).is_none());
        assert!(check(&proof, &key, door, now + PROOF_TTL).is_none());
        let later = proof.replace(&(now + PROOF_TTL).timestamp().to_string(), "99999999999");
        assert!(check(&later, &key, door, now).is_none());
        assert!(check("nonsense", &key, door, now).is_none());
    }

    #[test]
    fn each_reader_of_a_door_has_a_key_of_its_own() {
        let key = [9u8; 32];
        assert_eq!(osdp_key(&key, 1), osdp_key(&key, 1));
        assert_ne!(osdp_key(&key, 1), osdp_key(&key, 2));
        assert_ne!(osdp_key(&key, 1), osdp_key(&[8u8; 32], 1));
    }
}
