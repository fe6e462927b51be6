//! Wire format v2 (feature `encrypt`): the encrypted value's layout, its
//! key derivation, and XChaCha20-Poly1305 sealing and opening.
//! `docs/FORMAT.md` §10 is the normative description.
//!
//! ```text
//! offset  size  field
//! 0       1     version     0x02
//! 1       4     key id      as in v1
//! 5       24    times       as in v1 (issued_at, expires_at, created_at)
//! 29      24    nonce       random
//! 53      n     ciphertext  of the CBOR payload [id, values, flash] (as in v1)
//! 53+n    16    tag         Poly1305; associated data: bytes 0..29
//! ```
//!
//! The header stays readable (the times are checked right after the tag,
//! the key id selects the key); everything after it is authenticated and
//! nothing of it is read before the tag has verified.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{DecodeError, Malformed};
use crate::format::{HEADER_LEN, MIN_PAYLOAD_LEN};
use crate::key::{Key, KeyId};

/// The version byte of the encrypted format (v2), which a codec built with
/// [`encrypt(true)`](crate::SessionCodecBuilder::encrypt) writes.
pub const VERSION_ENCRYPTED: u8 = 2;

/// Bytes of the random nonce.
pub(crate) const NONCE_LEN: usize = 24;
/// Bytes of the Poly1305 tag.
pub(crate) const TAG_LEN: usize = 16;
/// Where the ciphertext begins.
pub(crate) const CIPHERTEXT_AT: usize = HEADER_LEN + NONCE_LEN;
/// Bytes a v2 value has besides its payload.
pub(crate) const OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// The smallest v2 binary value.
pub(crate) const MIN_LEN: usize = OVERHEAD + MIN_PAYLOAD_LEN;

/// Names the format in the derivation of every v2 encryption key.
const LABEL: &[u8] = b"cookie-session/v2";

/// The XChaCha20-Poly1305 cipher of one key under one cookie name and
/// context: what is fixed per codec is bound in the key, at build time, so
/// a cookie costs no more than the AEAD over its header and payload.
/// The key is zeroed on drop (`chacha20poly1305`'s `zeroize` feature).
#[derive(Clone)]
pub(crate) struct Sealer {
    aead: XChaCha20Poly1305,
}

impl Sealer {
    /// `aead_key = HKDF-Expand(PRK = key's v2 root, info = LE64(3) ‖
    /// LE64(len) ‖ label ‖ LE64(len) ‖ name ‖ LE64(len) ‖ context, 32)`.
    pub(crate) fn new(key: &Key, cookie_name: &[u8], context: &[u8]) -> Sealer {
        let hk = Hkdf::<Sha256>::from_prk(key.enc_key()).expect("a 32-byte PRK is valid");
        let lens = [
            3u64.to_le_bytes(),
            (LABEL.len() as u64).to_le_bytes(),
            (cookie_name.len() as u64).to_le_bytes(),
            (context.len() as u64).to_le_bytes(),
        ];
        let info = [
            &lens[0][..],
            &lens[1],
            LABEL,
            &lens[2],
            cookie_name,
            &lens[3],
            context,
        ];
        let mut k = Zeroizing::new([0u8; 32]);
        hk.expand_multi_info(&info, k.as_mut())
            .expect("32 bytes is far below HKDF's limit");
        Sealer {
            aead: XChaCha20Poly1305::new_from_slice(k.as_ref()).expect("the key is 32 bytes"),
        }
    }

    /// Encrypts `bin[CIPHERTEXT_AT..len - TAG_LEN]` in place with the nonce
    /// in `bin[HEADER_LEN..CIPHERTEXT_AT]` and the header as associated
    /// data, and writes the tag into the last `TAG_LEN` bytes. `bin` must be
    /// at least [`OVERHEAD`] long.
    pub(crate) fn seal(&self, bin: &mut [u8]) {
        let (header, rest) = bin.split_at_mut(HEADER_LEN);
        let (nonce, rest) = rest.split_at_mut(NONCE_LEN);
        let at = rest.len() - TAG_LEN;
        let (text, tag) = rest.split_at_mut(at);
        let nonce = XNonce::try_from(&nonce[..]).expect("24 bytes");
        match self
            .aead
            .encrypt_inout_detached(&nonce, header, (&mut *text).into())
        {
            Ok(t) => tag.copy_from_slice(&t),
            // Only a message of 256 GiB fails; never a cookie. Leave no
            // plaintext behind all the same.
            Err(_) => {
                zeroize::Zeroize::zeroize(text);
                tag.fill(0);
            }
        }
    }

    /// Verifies the tag of a v2 value and, only if it verifies, decrypts the
    /// ciphertext in place. `bin` must be at least [`MIN_LEN`] long.
    pub(crate) fn open(&self, bin: &mut [u8]) -> bool {
        let (header, rest) = bin.split_at_mut(HEADER_LEN);
        let (nonce, rest) = rest.split_at_mut(NONCE_LEN);
        let at = rest.len() - TAG_LEN;
        let (text, tag) = rest.split_at_mut(at);
        let nonce = XNonce::try_from(&nonce[..]).expect("24 bytes");
        let tag = Tag::try_from(&tag[..]).expect("16 bytes");
        self.aead
            .decrypt_inout_detached(&nonce, header, text.into(), &tag)
            .is_ok()
    }
}

/// Checks the length of a v2 binary value and returns its key id. Looks at
/// nothing but the length and bytes 1..5.
pub(crate) fn split(bin: &[u8]) -> Result<KeyId, DecodeError> {
    if bin.len() < MIN_LEN {
        return Err(DecodeError::Malformed(Malformed::TooShort));
    }
    Ok(KeyId([bin[1], bin[2], bin[3], bin[4]]))
}

/// Moves the decrypted payload of an opened value of `len` bytes to
/// `bin[HEADER_LEN..]`, right after the header, where the payload parser
/// reads it, and returns the length of header plus payload.
pub(crate) fn unwrap(bin: &mut [u8], len: usize) -> usize {
    let payload = len - OVERHEAD;
    bin.copy_within(CIPHERTEXT_AT..CIPHERTEXT_AT + payload, HEADER_LEN);
    HEADER_LEN + payload
}

/// A fresh random nonce from the operating system.
pub(crate) fn random_nonce() -> Result<[u8; NONCE_LEN], getrandom::Error> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce)?;
    Ok(nonce)
}
