//! The server key: 256 secret bits kept outside the database (`secret_key`, or a file in the
//! data directory), from which the keys that protect members' PIN codes are derived.
//!
//! A PIN code is stored twice, and never in the clear:
//! - as a digest, HMAC-SHA256 under its site's PIN key, which finds the code when it is typed
//!   (and makes codes unique per site). A controller that is given its site's PIN key can
//!   check codes offline; the database alone cannot, since ten-thousand-fold guessing needs
//!   the key;
//! - sealed (XChaCha20-Poly1305) under the sealing key, bound to the code's id, so that its
//!   owner can read it in the member app.
//!
//! Each door's reader key, which signs proofs of presence at its reader, is derived from it
//! too.
//!
//! Losing the key makes every PIN code unusable, so the database remembers the key's
//! fingerprint and a server started with another key refuses to run.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use lintel_domain::{DoorId, PinId, SiteId};
use rand::RngCore as _;
use sha2::Sha256;

const NONCE_LEN: usize = 24;

/// The server's root secret.
#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(…)")
    }
}

impl ServerKey {
    /// A new random key.
    pub fn generate() -> ServerKey {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        ServerKey(key)
    }

    /// Reads 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Option<ServerKey> {
        let text = text.trim();
        if text.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(ServerKey(key))
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A key for one purpose, so that no two uses share a key.
    fn derive(&self, purpose: &str, context: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(context);
        mac.finalize().into_bytes().into()
    }

    /// Names the key without revealing it.
    pub fn fingerprint(&self) -> String {
        let d = self.derive("lintel fingerprint", b"");
        d[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The site's PIN key: what a controller of that site needs to check codes offline.
    pub fn pin_site_key(&self, site: SiteId) -> [u8; 32] {
        self.derive("lintel pin site", site.0.as_bytes())
    }

    /// A door's reader key: readers (controllers) of the door sign proofs of presence with
    /// it.
    pub fn reader_key(&self, door: DoorId) -> [u8; 32] {
        self.derive("lintel reader door", door.0.as_bytes())
    }

    /// The digest a controller's pairing code is kept and looked up by: keyed, so that a copy
    /// of the database cannot be searched for a short code.
    pub fn pairing_digest(&self, code: &str) -> Vec<u8> {
        self.derive("lintel controller pairing", code.as_bytes())
            .to_vec()
    }

    /// The digest a typed code is looked up by at the site.
    pub fn pin_digest(&self, site: SiteId, code: &str) -> Vec<u8> {
        lintel_domain::credential::pin_digest(&self.pin_site_key(site), code)
    }

    /// The code sealed for its owner, bound to the code's id.
    pub fn seal_pin(&self, id: PinId, code: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .sealer()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: code.as_bytes(),
                    aad: id.0.as_bytes(),
                },
            )
            .expect("sealing a short code cannot fail");
        [nonce.as_slice(), &sealed].concat()
    }

    /// The code sealed by `seal_pin` for this id, or `None` when it was sealed for another
    /// id, with another key, or altered.
    pub fn open_pin(&self, id: PinId, sealed: &[u8]) -> Option<String> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let code = self
            .sealer()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: id.0.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(code).ok()
    }

    fn sealer(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.derive("lintel pin seal", b"").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lintel_domain::Clock as _;

    #[test]
    fn codes_are_sealed_for_their_id_and_digested_per_site() {
        let key = ServerKey::generate();
        let now = lintel_domain::SystemClock.now();
        let (a, b) = (PinId::new(now), PinId::new(now));
        let sealed = key.seal_pin(a, "480213");
        assert_eq!(key.open_pin(a, &sealed).as_deref(), Some("480213"));
        // Not under another id, another key, or altered.
        assert_eq!(key.open_pin(b, &sealed), None);
        assert_eq!(ServerKey::generate().open_pin(a, &sealed), None);
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(key.open_pin(a, &altered), None);
        assert_eq!(key.open_pin(a, &sealed[..10]), None);
        // The code is nowhere in what is stored.
        assert!(!sealed.windows(6).any(|w| w == b"480213"));

        let (s1, s2) = (SiteId::new(now), SiteId::new(now));
        assert_eq!(key.pin_digest(s1, "480213"), key.pin_digest(s1, "480213"));
        assert_ne!(key.pin_digest(s1, "480213"), key.pin_digest(s2, "480213"));
        assert_ne!(
            key.pin_digest(s1, "480213"),
            ServerKey::generate().pin_digest(s1, "480213")
        );
        // A controller with only the site's key computes the same digest.
        assert_eq!(
            lintel_domain::credential::pin_digest(&key.pin_site_key(s1), "480213"),
            key.pin_digest(s1, "480213")
        );

        let hex = key.to_hex();
        assert_eq!(
            ServerKey::from_hex(&hex).unwrap().fingerprint(),
            key.fingerprint()
        );
        assert_ne!(ServerKey::generate().fingerprint(), key.fingerprint());
        for bad in ["", "zz", &hex[..62], &format!("{}g", &hex[..63])] {
            assert!(ServerKey::from_hex(bad).is_none(), "{bad}");
        }
    }
}
