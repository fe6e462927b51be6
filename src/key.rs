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

/// A secret's estimated entropy must reach this many bits (see
/// `estimated_bits`).
///
/// Deliberately below the 128 bits a key should have: the estimate of a
/// random secret varies from secret to secret, and the lowest estimate of 32
/// random bytes, the shortest random secret, is about 134 bits in 200,000
/// trials (mean 150, standard deviation 2.5): the threshold is 20 standard
/// deviations below the mean, and 64 hex digits or 43 base64 characters
/// score far higher (lowest about 220 and 185).
/// `tests/weak_secrets.rs` checks the margin.
const MIN_ESTIMATED_BITS: u32 = 100;

const HKDF_SALT: &[u8] = b"cookie-session/v1";
const INFO_MAC: &[u8] = b"cookie-session/v1 hmac-sha256 key";
const INFO_ID: &[u8] = b"cookie-session/v1 key id";
#[cfg(feature = "encrypt")]
const INFO_ENC: &[u8] = b"cookie-session/v2 xchacha20poly1305 key";

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

/// A signing (and, with the `encrypt` feature, encryption) key.
///
/// Made from a secret of at least 32 random bytes, or generated. The secret
/// itself is not kept: the key holds only the sub-keys derived from it with
/// HKDF-SHA256 (so a MAC made with the raw secret never verifies), one for
/// HMAC-SHA256 (format v1) and, with the `encrypt` feature, one from which
/// the XChaCha20-Poly1305 keys of format v2 are derived, and its [`KeyId`].
/// The sub-keys are zeroed on drop, and `Debug` shows the id only.
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
    /// The root of the v2 encryption keys (`docs/FORMAT.md` §10.2).
    #[cfg(feature = "encrypt")]
    enc_key: [u8; 32],
    id: KeyId,
}

impl Drop for Key {
    fn drop(&mut self) {
        self.mac_key.zeroize();
        #[cfg(feature = "encrypt")]
        self.enc_key.zeroize();
    }
}

impl ZeroizeOnDrop for Key {}

impl Key {
    /// Derives a key from `secret`.
    ///
    /// A secret should be random: 32 bytes from a CSPRNG, as raw bytes, 64
    /// hex digits or 43 characters of base64 (what `cookie-session keygen`
    /// and [`generate_secret`](Key::generate_secret) print). Such a secret
    /// always passes, and a text secret is used as it is. The checks below
    /// refuse secrets that are plainly not random, in this order:
    ///
    /// 1. shorter than 32 bytes: [`KeyError::TooShort`];
    /// 2. fewer than 8 distinct byte values, such as one repeated byte:
    ///    [`KeyError::LowEntropy`];
    /// 3. periodic, a shorter string repeated at least twice in full, the
    ///    last repetition possibly cut short (`changeme-changeme-changeme-...`,
    ///    `abcabcab...`): [`KeyError::Periodic`];
    /// 4. an estimated entropy below 100 bits: [`KeyError::LowEstimatedEntropy`].
    ///    The estimate is the length times the empirical Shannon entropy of
    ///    the secret's byte frequencies, and the same for the differences of
    ///    consecutive bytes (which exposes runs such as `0123456789abcdef...`),
    ///    whichever is smaller. It is deliberately lenient: it flags secrets
    ///    made of few symbols or of runs, not every guessable passphrase, so
    ///    a secret that passes is not thereby strong.
    ///
    /// No error carries or reveals the secret.
    ///
    /// ```
    /// use cookie_session::{Key, KeyError};
    ///
    /// assert_eq!(
    ///     Key::from_secret(b"changeme-changeme-changeme-changeme").unwrap_err(),
    ///     KeyError::Periodic { period: 9 },
    /// );
    /// assert!(matches!(
    ///     Key::from_secret(b"0123456789abcdefghijklmnopqrstuvwxyz").unwrap_err(),
    ///     KeyError::LowEstimatedEntropy { .. },
    /// ));
    /// assert!(Key::from_secret(Key::generate_secret().as_bytes()).is_ok());
    /// ```
    pub fn from_secret(secret: &[u8]) -> Result<Key, KeyError> {
        check_secret(secret)?;
        let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), secret);
        let mut mac_key = [0u8; 32];
        let mut id = [0u8; 4];
        // Both lengths are far below HKDF-SHA256's 8160-byte maximum.
        hk.expand(INFO_MAC, &mut mac_key)
            .map_err(|_| KeyError::LowEntropy)?;
        hk.expand(INFO_ID, &mut id)
            .map_err(|_| KeyError::LowEntropy)?;
        #[cfg(feature = "encrypt")]
        let mut enc_key = [0u8; 32];
        #[cfg(feature = "encrypt")]
        hk.expand(INFO_ENC, &mut enc_key)
            .map_err(|_| KeyError::LowEntropy)?;
        Ok(Key {
            mac_key,
            #[cfg(feature = "encrypt")]
            enc_key,
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

    #[cfg(feature = "encrypt")]
    pub(crate) fn enc_key(&self) -> &[u8; 32] {
        &self.enc_key
    }
}

/// Applies the rules documented on [`Key::from_secret`].
fn check_secret(secret: &[u8]) -> Result<(), KeyError> {
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
    let distinct = seen.iter().filter(|&&s| s).count();
    seen.zeroize();
    if distinct < MIN_DISTINCT_BYTES {
        return Err(KeyError::LowEntropy);
    }
    if let Some(period) = period(secret) {
        return Err(KeyError::Periodic { period });
    }
    let bits = estimated_bits(secret);
    if bits < f64::from(MIN_ESTIMATED_BITS) {
        return Err(KeyError::LowEstimatedEntropy {
            // In 0..100 here, so the conversion is exact enough and cannot
            // overflow.
            bits: bits as u32,
            min: MIN_ESTIMATED_BITS,
        });
    }
    Ok(())
}

/// The smallest period `p` of `s` (`s[i] == s[i - p]` for every `i >= p`)
/// if `s` holds at least two full periods (`2 * p <= s.len()`).
///
/// Linear time (the prefix function of Knuth, Morris and Pratt), so a long
/// secret costs no more than reading it; the table, which describes the
/// secret, is zeroed before it is freed.
fn period(s: &[u8]) -> Option<usize> {
    let n = s.len();
    if n < 2 {
        return None;
    }
    // border[i]: length of the longest proper prefix of s[..=i] that is also
    // a suffix of it.
    let mut border = zeroize::Zeroizing::new(vec![0usize; n]);
    let mut k = 0;
    for i in 1..n {
        while k > 0 && s[i] != s[k] {
            k = border[k - 1];
        }
        if s[i] == s[k] {
            k += 1;
        }
        border[i] = k;
    }
    // The smallest period of s is n minus its longest border.
    let p = n - border[n - 1];
    (2 * p <= n).then_some(p)
}

/// The estimated entropy of `s` in bits, as [`Key::from_secret`] computes
/// it: the smaller of the empirical Shannon entropy of its bytes and of its
/// consecutive differences (`s[i + 1] - s[i]` modulo 256), each times the
/// number of symbols.
///
/// Not part of the stable API: public only so that the statistical test in
/// `tests/weak_secrets.rs` can check the margin random secrets keep.
#[doc(hidden)]
pub fn estimated_bits(s: &[u8]) -> f64 {
    let mut bytes = [0usize; 256];
    let mut diffs = [0usize; 256];
    for &b in s {
        bytes[usize::from(b)] += 1;
    }
    for w in s.windows(2) {
        diffs[usize::from(w[1].wrapping_sub(w[0]))] += 1;
    }
    let bits = shannon_bits(&bytes).min(shannon_bits(&diffs));
    bytes.zeroize();
    diffs.zeroize();
    bits
}

/// `n * H`, the empirical Shannon entropy of a histogram of `n` symbols
/// times `n`: the sum over the counts `c` of `c * log2(n / c)`.
fn shannon_bits(histogram: &[usize; 256]) -> f64 {
    let n: usize = histogram.iter().sum();
    let n = n as f64;
    histogram
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let c = c as f64;
            c * (n / c).log2()
        })
        .sum()
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
///
/// Each key lives in a heap allocation of its own that never moves, so
/// adding keys reallocates only pointers and a key's bytes are zeroed when
/// it is dropped, never left behind in freed memory.
#[derive(Clone, Debug)]
pub struct Keyring {
    /// `keys[0]` is the primary. Boxed: when the vector grows, its old
    /// buffer is freed without running destructors, so it must not hold key
    /// bytes.
    #[allow(clippy::vec_box)] // the box is the point
    keys: Vec<Box<Key>>,
}

impl Keyring {
    /// A keyring with `primary` as its only key.
    pub fn new(primary: Key) -> Keyring {
        Keyring {
            keys: vec![Box::new(primary)],
        }
    }

    /// Adds a verify-only key. Fails if a key with the same id is present.
    pub fn with_fallback(mut self, key: Key) -> Result<Keyring, KeyError> {
        if self.keys.iter().any(|k| k.id == key.id) {
            return Err(KeyError::DuplicateKeyId);
        }
        self.keys.push(Box::new(key));
        Ok(self)
    }

    /// The key that signs.
    pub fn primary(&self) -> &Key {
        &self.keys[0]
    }

    /// The verify-only keys, in the order they were added.
    pub fn fallbacks(&self) -> impl ExactSizeIterator<Item = &Key> + DoubleEndedIterator + Clone {
        self.keys[1..].iter().map(|k| &**k)
    }

    /// All keys, primary first.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &Key> + DoubleEndedIterator + Clone {
        self.keys.iter().map(|k| &**k)
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
        // Eight distinct bytes pass this rule, and the next one refuses them
        // repeated.
        let eight: Vec<u8> = (0..64).map(|i| b"abcdefgh"[i % 8]).collect();
        assert_eq!(
            Key::from_secret(&eight).unwrap_err(),
            KeyError::Periodic { period: 8 }
        );
    }

    #[test]
    fn period_finds_the_smallest_repetition() {
        assert_eq!(period(b""), None);
        assert_eq!(period(b"a"), None);
        assert_eq!(period(b"aa"), Some(1));
        assert_eq!(period(b"ab"), None);
        assert_eq!(period(b"abab"), Some(2));
        assert_eq!(period(b"ababa"), Some(2));
        assert_eq!(period(b"abcabcab"), Some(3));
        assert_eq!(period(b"abcab"), None); // less than two full periods
        assert_eq!(period(b"abcdabc"), None);
        assert_eq!(period(b"aabaabaab"), Some(3));
        assert_eq!(period(b"abaabaababaab"), None);
    }

    #[test]
    fn estimate_counts_symbols_and_steps() {
        // 32 distinct bytes: 5 bits each by frequency, but one constant step.
        let run: Vec<u8> = (0..32).collect();
        assert_eq!(shannon_bits(&histogram(&run)), 160.0);
        assert_eq!(estimated_bits(&run), 0.0);
        // Two symbols, equally often: one bit each.
        let mut coin = [0usize; 256];
        coin[0] = 20;
        coin[1] = 20;
        assert_eq!(shannon_bits(&coin), 40.0);
        assert_eq!(shannon_bits(&[0; 256]), 0.0);
    }

    fn histogram(s: &[u8]) -> [usize; 256] {
        let mut h = [0usize; 256];
        for &b in s {
            h[usize::from(b)] += 1;
        }
        h
    }

    #[test]
    fn derivation_is_deterministic_and_separates_keys() {
        let a = Key::from_secret(b"cUEqSVECLsfLIJTgtceUlCYFVxUFc8a4").unwrap();
        let b = Key::from_secret(b"cUEqSVECLsfLIJTgtceUlCYFVxUFc8a4").unwrap();
        let c = Key::from_secret(b"cUEqSVECLsfLIJTgtceUlCYFVxUFc8a5").unwrap();
        assert_eq!(a.id(), b.id());
        assert_eq!(a.mac_key(), b.mac_key());
        assert_ne!(a.id(), c.id());
        assert_ne!(a.mac_key(), c.mac_key());
        assert_ne!(&a.mac_key()[..], &b"cUEqSVECLsfLIJTgtceUlCYFVxUFc8a4"[..]);
        #[cfg(feature = "encrypt")]
        {
            assert_eq!(a.enc_key(), b.enc_key());
            assert_ne!(a.enc_key(), c.enc_key());
            assert_ne!(a.enc_key(), a.mac_key());
        }
    }

    #[test]
    fn keyring_keys_stay_in_place_as_it_grows() {
        let ring = Keyring::new(Key::generate());
        let primary: *const [u8; 32] = ring.primary().mac_key();
        let mut ring = ring;
        let mut fallbacks = Vec::new();
        for _ in 0..200 {
            ring = ring.with_fallback(Key::generate()).unwrap();
            let newest: *const [u8; 32] = ring.keys().last().unwrap().mac_key();
            fallbacks.push(newest);
            // The vector has reallocated many times by now; no key has moved.
            assert_eq!(ring.primary().mac_key() as *const _, primary);
            for (k, &at) in ring.fallbacks().zip(&fallbacks) {
                assert_eq!(k.mac_key() as *const _, at);
            }
        }
        assert_eq!(ring.keys().len(), 201);
        assert_eq!(ring.fallbacks().len(), 200);
        // A clone's keys are copies elsewhere, each in its own box too.
        let copy = ring.clone();
        assert_ne!(copy.primary().mac_key() as *const _, primary);
        assert_eq!(copy.primary().mac_key(), ring.primary().mac_key());
        assert!(copy.keys().map(Key::id).eq(ring.keys().map(Key::id)));
    }

    #[test]
    fn generated_secrets_make_distinct_keys() {
        let s = Key::generate_secret();
        assert_eq!(s.len(), 43);
        assert_ne!(Key::generate().id(), Key::generate().id());
    }
}
