//! Keys, key ids, sub-key derivation and the keyring.

use std::fmt;

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::KeyError;

/// Minimum length of a secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// A secret must use at least this many distinct byte values.
const MIN_DISTINCT_BYTES: usize = 8;

const HKDF_SALT: &[u8] = b"cookie-session/v1";
const INFO_MAC: &[u8] = b"cookie-session/v1 hmac-sha256 key";
const INFO_ID: &[u8] = b"cookie-session/v1 key id";

/// The 4-byte id of a [`Key`], carried in every cookie it signs.
///
/// Derived from the secret (HKDF), so it names the key without revealing it
/// and cannot be set by mistake to the id of another key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub(crate) [u8; 4]);

impl KeyId {
    /// The id's bytes, as they appear in the cookie.
    pub fn to_bytes(self) -> [u8; 4] {
        self.0
    }
}

impl fmt::Display for KeyId {
    /// Eight lowercase hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// A signing key.
///
/// Made from a secret of at least 32 random bytes, or generated. The secret
/// itself is not kept: the key holds only the HMAC-SHA256 sub-key derived
/// from it with HKDF-SHA256 (so a MAC made with the raw secret never
/// verifies) and its [`KeyId`]. The sub-key is zeroed on drop, and `Debug`
/// shows the id only.
///
/// ```
/// use cookie_session::Key;
///
/// let key = Key::from_secret(b"a 32+ byte secret from your config store!")?;
/// assert!(!format!("{key:?}").contains("secret"));
/// assert!(Key::from_secret(b"too short").is_err());
/// assert!(Key::from_secret(&[7u8; 64]).is_err()); // one repeated byte
/// # Ok::<(), cookie_session::KeyError>(())
/// ```
///
/// There is no default key:
///
/// ```compile_fail
/// let key = cookie_session::Key::default();
/// ```
#[derive(Clone)]
pub struct Key {
    mac_key: [u8; 32],
    id: KeyId,
}

impl Drop for Key {
    fn drop(&mut self) {
        self.mac_key.zeroize();
    }
}

impl ZeroizeOnDrop for Key {}

impl Key {
    /// Derives a key from `secret`.
    ///
    /// Refuses secrets shorter than 32 bytes ([`KeyError::TooShort`]) and
    /// secrets using fewer than 8 distinct byte values, such as one repeated
    /// byte ([`KeyError::LowEntropy`]). A text secret (for example 43
    /// characters of base64 from `cookie-session keygen`) is fine as it is.
    pub fn from_secret(secret: &[u8]) -> Result<Key, KeyError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(KeyError::TooShort {
                len: secret.len(),
                min: MIN_SECRET_LEN,
            });
        }
        let mut seen = [false; 256];
        for &b in secret {
            seen[usize::from(b)] = true;
        }
        if seen.iter().filter(|&&s| s).count() < MIN_DISTINCT_BYTES {
            return Err(KeyError::LowEntropy);
        }
        let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), secret);
        let mut mac_key = [0u8; 32];
        let mut id = [0u8; 4];
        // Both lengths are far below HKDF-SHA256's 8160-byte maximum.
        hk.expand(INFO_MAC, &mut mac_key)
            .map_err(|_| KeyError::LowEntropy)?;
        hk.expand(INFO_ID, &mut id)
            .map_err(|_| KeyError::LowEntropy)?;
        Ok(Key {
            mac_key,
            id: KeyId(id),
        })
    }

    /// A new random key from the operating system's CSPRNG.
    ///
    /// Good for tests and single-process development: it is gone when the
    /// process exits. Production keys come from a stored secret (see
    /// [`generate_secret`](Key::generate_secret)).
    ///
    /// # Panics
    /// If the operating system's random number generator fails.
    pub fn generate() -> Key {
        let secret = Key::generate_secret();
        Key::from_secret(secret.as_bytes()).expect("a generated secret is long and random")
    }

    /// A new random secret to store in your configuration: 32 bytes from the
    /// operating system's CSPRNG as 43 characters of unpadded base64url.
    /// Pass it to [`from_secret`](Key::from_secret) as text.
    ///
    /// # Panics
    /// If the operating system's random number generator fails.
    pub fn generate_secret() -> zeroize::Zeroizing<String> {
        use base64::Engine as _;
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).expect("the OS random number generator failed");
        zeroize::Zeroizing::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref()),
        )
    }

    /// The key's id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    pub(crate) fn mac_key(&self) -> &[u8; 32] {
        &self.mac_key
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The keys a codec signs and verifies with: one primary key, which signs
/// every cookie, and any number of fallback keys, which only verify.
///
/// To rotate: make the new key primary and the old one a fallback. Cookies
/// signed with the old key still decode, come back
/// [dirty](crate::Session::is_dirty), and are re-signed with the new key on
/// the next save. Once the old cookies have expired, drop the fallback.
///
/// ```
/// use cookie_session::{Key, Keyring};
///
/// let old = Key::from_secret(b"the previous secret, still trusted!!")?;
/// let new = Key::from_secret(b"the new secret, which signs from now")?;
/// let ring = Keyring::new(new.clone()).with_fallback(old)?;
/// assert_eq!(ring.primary().id(), new.id());
/// assert!(ring.clone().with_fallback(new).is_err()); // already present
/// # Ok::<(), cookie_session::KeyError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Keyring {
    /// `keys[0]` is the primary.
    keys: Vec<Key>,
}

impl Keyring {
    /// A keyring with `primary` as its only key.
    pub fn new(primary: Key) -> Keyring {
        Keyring {
            keys: vec![primary],
        }
    }

    /// Adds a verify-only key. Fails if a key with the same id is present.
    pub fn with_fallback(mut self, key: Key) -> Result<Keyring, KeyError> {
        if self.keys.iter().any(|k| k.id == key.id) {
            return Err(KeyError::DuplicateKeyId);
        }
        self.keys.push(key);
        Ok(self)
    }

    /// The key that signs.
    pub fn primary(&self) -> &Key {
        &self.keys[0]
    }

    /// The verify-only keys, in the order they were added.
    pub fn fallbacks(&self) -> &[Key] {
        &self.keys[1..]
    }

    /// All keys, primary first.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_low_entropy_secrets_are_refused() {
        for n in 0..MIN_SECRET_LEN {
            let s: Vec<u8> = (0..n as u8).collect();
            assert_eq!(
                Key::from_secret(&s).unwrap_err(),
                KeyError::TooShort { len: n, min: 32 }
            );
        }
        for b in [0u8, 0x41, 0xff] {
            assert_eq!(
                Key::from_secret(&[b; 32]).unwrap_err(),
                KeyError::LowEntropy
            );
        }
        let seven: Vec<u8> = (0..64).map(|i| b"abcdefg"[i % 7]).collect();
        assert_eq!(Key::from_secret(&seven).unwrap_err(), KeyError::LowEntropy);
        let eight: Vec<u8> = (0..64).map(|i| b"abcdefgh"[i % 8]).collect();
        assert!(Key::from_secret(&eight).is_ok());
    }

    #[test]
    fn derivation_is_deterministic_and_separates_keys() {
        let a = Key::from_secret(b"0123456789abcdef0123456789abcdef").unwrap();
        let b = Key::from_secret(b"0123456789abcdef0123456789abcdef").unwrap();
        let c = Key::from_secret(b"0123456789abcdef0123456789abcdeF").unwrap();
        assert_eq!(a.id(), b.id());
        assert_eq!(a.mac_key(), b.mac_key());
        assert_ne!(a.id(), c.id());
        assert_ne!(a.mac_key(), c.mac_key());
        assert_ne!(&a.mac_key()[..], &b"0123456789abcdef0123456789abcdef"[..]);
    }

    #[test]
    fn generated_secrets_make_distinct_keys() {
        let s = Key::generate_secret();
        assert_eq!(s.len(), 43);
        assert_ne!(Key::generate().id(), Key::generate().id());
    }
}
