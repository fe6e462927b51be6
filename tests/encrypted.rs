//! Format v2 (feature `encrypt`): confidentiality, authentication of every
//! byte, binding to the cookie name and context, the two versions side by
//! side, nonce uniqueness, size and rotation.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use cookie_session::{
    DecodeError, EncodeError, Expiry, Key, Keyring, Malformed, PayloadError, Reissue, Session,
    SessionCodec, VERSION, VERSION_ENCRYPTED,
};
use time::{Duration, OffsetDateTime};

const SECRET: &[u8] = b"encrypted-format test secret: KfR2x9Lw0q";
const T0: i64 = 1_750_000_000;

fn key() -> Key {
    Key::from_secret(SECRET).unwrap()
}

fn other_key() -> Key {
    Key::from_secret(b"another secret, 32 bytes or more!!").unwrap()
}

fn build(name: &str, context: &str, ring: Keyring, encrypt: bool, accept: bool) -> SessionCodec {
    SessionCodec::builder(name, ring)
        .context(context)
        .encrypt(encrypt)
        .accept_other_version(accept)
        .build()
        .unwrap()
}

fn sealed() -> SessionCodec {
    build("session", "", Keyring::new(key()), true, true)
}

fn signed() -> SessionCodec {
    build("session", "", Keyring::new(key()), false, true)
}

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

const STRINGS: [&str; 6] = [
    "alice@example.com",
    "admin",
    "editor",
    "Profile updated successfully",
    "x",
    "日本語のテキスト",
];

fn session() -> Session {
    let mut s = Session::with_id("0123456789abcdefABCDEF");
    s.set("user_id", 42).unwrap();
    s.set("email", STRINGS[0]).unwrap();
    s.set("roles", [STRINGS[1], STRINGS[2]]).unwrap();
    s.set("short", STRINGS[4]).unwrap();
    s.set("unicode", STRINGS[5]).unwrap();
    s.flash("notice", STRINGS[3]).unwrap();
    s
}

fn token() -> String {
    sealed().encode_at(&session(), at(T0)).unwrap()
}

fn decode(token: &str) -> Result<Session, DecodeError> {
    sealed().decode_at(token, at(T0))
}

#[test]
fn a_v2_cookie_round_trips_and_starts_with_version_2() {
    let codec = sealed();
    assert_eq!(codec.version(), VERSION_ENCRYPTED);
    assert_eq!(signed().version(), VERSION);
    let value = token();
    let bin = B64.decode(&value).unwrap();
    assert_eq!(bin[0], 2);
    assert_eq!(bin[1..5], key().id().to_bytes());
    let v = codec.verify_at(&value, at(T0)).unwrap();
    assert_eq!(v.session.id(), "0123456789abcdefABCDEF");
    assert_eq!(v.session.get::<u64>("user_id").unwrap(), Some(42));
    assert_eq!(
        v.session.get::<String>("email").unwrap().unwrap(),
        STRINGS[0]
    );
    assert_eq!(
        v.session.get::<String>("notice").unwrap().unwrap(),
        STRINGS[3]
    );
    assert_eq!(v.reissue, Reissue::default());
    assert_eq!((v.issued_at, v.created_at), (T0 as u64, T0 as u64));
    assert_eq!(v.expires_at, T0 as u64 + 14 * 86_400);
    // Flash arrived: dirty; re-issued without it, clean.
    assert!(v.session.is_dirty());
    let next = codec.encode_at(&v.session, at(T0)).unwrap();
    assert!(!codec.decode_at(&next, at(T0)).unwrap().is_dirty());
}

#[test]
fn the_plaintext_of_every_string_value_is_absent_from_the_cookie() {
    let codec = sealed();
    for i in 0..64 {
        let value = codec.encode_at(&session(), at(T0 + i)).unwrap();
        let bin = B64.decode(&value).unwrap();
        for s in STRINGS
            .iter()
            .chain(&["0123456789abcdefABCDEF", "user_id", "email", "roles"])
        {
            // Bytes of 4 or more are not in 300 random bytes by chance
            // (2^-32 per place); a shorter string (only "x", under the key
            // "short") is looked for as the CBOR of its key and value.
            let short: &[u8] = &[0x65, b's', b'h', b'o', b'r', b't', 0x61, b'x'];
            let needle = if s.len() < 4 { short } else { s.as_bytes() };
            assert!(
                !bin.windows(needle.len()).any(|w| w == needle),
                "{s:?} in the cookie bytes"
            );
            // In the text, 6 characters or more (2^-36 per place).
            if s.len() >= 6 {
                assert!(!value.contains(s), "{s:?} in the cookie text");
            }
        }
    }
    // The same values are in a v1 cookie's bytes, as documented.
    let v1 = B64
        .decode(signed().encode_at(&session(), at(T0)).unwrap())
        .unwrap();
    assert!(v1.windows(17).any(|w| w == STRINGS[0].as_bytes()));
}

#[test]
fn every_bit_flip_of_the_bytes_is_rejected() {
    let bin = B64.decode(token()).unwrap();
    for i in 0..bin.len() {
        for bit in 0..8 {
            let mut t = bin.clone();
            t[i] ^= 1 << bit;
            let err = decode(&B64.encode(&t)).unwrap_err();
            match i {
                0 => assert!(
                    matches!(
                        err,
                        DecodeError::UnsupportedVersion(_) | DecodeError::BadSignature
                    ),
                    "version bit {bit}: {err:?}"
                ),
                1..=4 => assert_eq!(err, DecodeError::UnknownKey, "key id byte {i}"),
                _ => assert_eq!(err, DecodeError::BadSignature, "byte {i} bit {bit}"),
            }
        }
    }
}

#[test]
fn every_truncation_and_extension_is_rejected() {
    let bin = B64.decode(token()).unwrap();
    for len in 0..bin.len() {
        let err = decode(&B64.encode(&bin[..len])).unwrap_err();
        match len {
            0..73 => assert!(
                matches!(err, DecodeError::Malformed(Malformed::TooShort)),
                "{len}: {err:?}"
            ),
            _ => assert_eq!(err, DecodeError::BadSignature, "{len}"),
        }
    }
    for extra in [&[0u8][..], &[0; 16], &bin[bin.len() - 16..]] {
        let mut t = bin.clone();
        t.extend_from_slice(extra);
        assert_eq!(
            decode(&B64.encode(&t)).unwrap_err(),
            DecodeError::BadSignature
        );
    }
    // Dropping the tag, or the nonce, or any 16 bytes inside.
    let n = bin.len();
    for cut in [n - 16..n, 29..53, 53..69, 40..56] {
        let mut t = bin.clone();
        t.drain(cut.clone());
        assert!(decode(&B64.encode(&t)).is_err(), "{cut:?}");
    }
}

#[test]
fn every_character_change_of_the_text_is_rejected() {
    let value = token();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for i in 0..value.len() {
        let mut t = value.clone().into_bytes();
        let pos = alphabet.iter().position(|&c| c == t[i]).unwrap();
        t[i] = alphabet[(pos + 1) % 64];
        let t = String::from_utf8(t).unwrap();
        assert!(decode(&t).is_err(), "character {i}");
    }
}

#[test]
fn a_value_is_bound_to_its_cookie_name_and_context() {
    let value = token();
    for (name, context) in [
        ("Session", ""),
        ("sessio", ""),
        ("other", ""),
        ("session", "app-b"),
        ("session", "\0"),
        // The pieces are length-prefixed: moving bytes between name and
        // context changes the key.
        ("sessio", "n"),
    ] {
        let c = build(name, context, Keyring::new(key()), true, true);
        assert_eq!(
            c.decode_at(&value, at(T0)).unwrap_err(),
            DecodeError::BadSignature,
            "{name:?} {context:?}"
        );
    }
    let ctx = build("session", "app-a", Keyring::new(key()), true, true);
    let v = ctx.encode_at(&session(), at(T0)).unwrap();
    assert!(ctx.decode_at(&v, at(T0)).is_ok());
    assert_eq!(decode(&v).unwrap_err(), DecodeError::BadSignature);
}

#[test]
fn the_other_version_is_read_dirty_or_refused() {
    let (v1, v2) = (signed().encode_at(&session(), at(T0)).unwrap(), token());
    // Default: each reads the other's cookie, dirty, and rewrites it in its
    // own format.
    for (reader, value, own) in [(sealed(), &v1, 2u8), (signed(), &v2, 1u8)] {
        let v = reader.verify_at(value, at(T0)).unwrap();
        assert!(v.reissue.other_version && v.reissue.is_due());
        assert!(!v.reissue.fallback_key && !v.reissue.refresh);
        assert_eq!(v.reissue.to_string(), "other format version");
        assert!(v.needs_reissue && v.session.is_dirty());
        assert_eq!(
            v.session.get::<String>("email").unwrap().unwrap(),
            STRINGS[0]
        );
        let saved = reader.save_at(&v.session, at(T0)).unwrap().unwrap();
        let next = saved
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("session=")
            .unwrap();
        assert_eq!(B64.decode(next).unwrap()[0], own);
        let w = reader.verify_at(next, at(T0)).unwrap();
        assert_eq!(w.reissue, Reissue::default());
        assert!(!w.session.is_dirty());
    }
    // Each reads its own cookie clean (once the flash is gone).
    for (codec, value) in [(sealed(), &v2), (signed(), &v1)] {
        let s = codec.decode_at(value, at(T0)).unwrap();
        let again = codec.encode_at(&s, at(T0)).unwrap();
        assert_eq!(
            codec.verify_at(&again, at(T0)).unwrap().reissue,
            Reissue::default()
        );
    }
    // accept_other_version(false): refused by version, before any key.
    let strict_sealed = build("session", "", Keyring::new(key()), true, false);
    let strict_signed = build("session", "", Keyring::new(key()), false, false);
    assert_eq!(
        strict_sealed.decode_at(&v1, at(T0)).unwrap_err(),
        DecodeError::UnsupportedVersion(1)
    );
    assert_eq!(
        strict_signed.decode_at(&v2, at(T0)).unwrap_err(),
        DecodeError::UnsupportedVersion(2)
    );
    assert!(strict_sealed.decode_at(&v2, at(T0)).is_ok());
    assert!(strict_signed.decode_at(&v1, at(T0)).is_ok());
    // And an unknown key id changes nothing: the version comes first.
    let mut b = B64.decode(&v1).unwrap();
    b[1..5].fill(0xee);
    assert_eq!(
        strict_sealed
            .decode_at(&B64.encode(&b), at(T0))
            .unwrap_err(),
        DecodeError::UnsupportedVersion(1)
    );
}

#[test]
fn a_value_never_verifies_under_the_other_versions_rules() {
    // The version byte is authenticated in both formats: relabelling a v1
    // value as v2 or a v2 value as v1 never verifies, whatever the codec.
    let v1 = B64
        .decode(signed().encode_at(&session(), at(T0)).unwrap())
        .unwrap();
    let v2 = B64.decode(token()).unwrap();
    for codec in [sealed(), signed()] {
        for (bin, to) in [(&v1, 2u8), (&v2, 1u8)] {
            let mut t = bin.clone();
            t[0] = to;
            assert_eq!(
                codec.decode_at(&B64.encode(&t), at(T0)).unwrap_err(),
                DecodeError::BadSignature
            );
        }
    }
    // A v2 value whose ciphertext is a valid v1 payload + HMAC tag still
    // fails: the AEAD tag covers it.
    let mut t = v2.clone();
    t.truncate(29);
    t.extend_from_slice(&v1[29..]);
    assert_eq!(
        decode(&B64.encode(&t)).unwrap_err(),
        DecodeError::BadSignature
    );
}

/// 10^6 encodes in an optimized build (`cargo test --release --features
/// encrypt --test encrypted nonces`, about 3 s); 10^5 in a debug build,
/// where the cipher's generic code is unoptimized and one encode takes
/// about 75 µs.
const NONCE_ENCODES: usize = if cfg!(debug_assertions) {
    100_000
} else {
    1_000_000
};

#[test]
fn nonces_are_unique_over_a_million_encodes() {
    // Encodes of a small session; the nonce is bytes 29..53.
    let codec = sealed();
    let s = Session::with_id("n");
    let mut seen = HashSet::with_capacity(NONCE_ENCODES);
    let mut out = String::with_capacity(128);
    let mut bin = [0u8; 96];
    for _ in 0..NONCE_ENCODES {
        out.clear();
        codec.encode_into_at(&s, at(T0), &mut out).unwrap();
        let n = B64.decode_slice(&out, &mut bin).unwrap();
        assert_eq!(n, 69 + 5);
        let nonce: [u8; 24] = bin[29..53].try_into().unwrap();
        assert!(seen.insert(nonce), "a nonce repeated");
    }
    assert_eq!(seen.len(), NONCE_ENCODES);
}

#[test]
fn the_fixed_nonce_api_is_deterministic_and_reads_like_any_cookie() {
    let codec = signed(); // writes v2 through the hidden API whatever it is
    let a = codec
        .encode_v2_with_nonce_at(&session(), at(T0), [7; 24])
        .unwrap();
    let b = codec
        .encode_v2_with_nonce_at(&session(), at(T0), [7; 24])
        .unwrap();
    let c = codec
        .encode_v2_with_nonce_at(&session(), at(T0), [8; 24])
        .unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(B64.decode(&a).unwrap()[29..53], [7; 24]);
    assert!(sealed().decode_at(&a, at(T0)).is_ok());
}

#[test]
fn size_limit_applies_to_name_and_value_exactly() {
    // Overhead of v2: 29 header + 24 nonce + 16 tag.
    let codec = sealed();
    for len in 2900..3100 {
        let mut s = Session::with_id("i");
        s.set("k", "v".repeat(len)).unwrap();
        let payload = 1 + 2 + 1 + 2 + 3 + len + 1;
        let expected = "session=".len() + ((29 + 24 + 16 + payload) * 4).div_ceil(3);
        match codec.encode_at(&s, at(T0)) {
            Ok(v) => {
                assert_eq!("session=".len() + v.len(), expected, "{len}");
                assert!(expected <= 4096);
                assert!(decode(&v).is_ok());
            }
            Err(EncodeError::TooLarge { size, limit }) => {
                assert_eq!((size, limit), (expected, 4096), "{len}");
            }
            Err(e) => panic!("{e}"),
        }
    }
    // Reading refuses a value over the limit before decoding it.
    assert!(matches!(
        decode(&"A".repeat(4096)).unwrap_err(),
        DecodeError::TooLarge { .. }
    ));
    // A smaller limit is honoured the same way.
    let small = SessionCodec::builder("session", Keyring::new(key()))
        .encrypt(true)
        .max_size(200)
        .build()
        .unwrap();
    let mut s = Session::with_id("i");
    s.set("k", "v".repeat(100)).unwrap();
    assert!(matches!(
        small.encode_at(&s, at(T0)).unwrap_err(),
        EncodeError::TooLarge { limit: 200, .. }
    ));
}

#[test]
fn rotation_and_unknown_keys_work_as_in_v1() {
    let old = build("session", "", Keyring::new(other_key()), true, true);
    let ring = Keyring::new(key()).with_fallback(other_key()).unwrap();
    let rotated = build("session", "", ring, true, true);
    let value = old.encode_at(&session(), at(T0)).unwrap();
    let v = rotated.verify_at(&value, at(T0)).unwrap();
    assert_eq!(v.key_id, other_key().id());
    assert!(v.reissue.fallback_key && !v.reissue.other_version);
    assert!(v.session.is_dirty());
    assert_eq!(
        decode(&value).unwrap_err(),
        DecodeError::UnknownKey,
        "not in the ring"
    );
    let next = rotated.encode_at(&v.session, at(T0)).unwrap();
    assert_eq!(B64.decode(&next).unwrap()[1..5], key().id().to_bytes());
}

#[test]
fn times_are_checked_after_the_tag() {
    let value = token();
    let codec = sealed();
    assert_eq!(
        codec.decode_at(&value, at(T0 + 14 * 86_400)).unwrap_err(),
        DecodeError::Expired(Expiry::ExpiresAt)
    );
    assert_eq!(
        codec.decode_at(&value, at(T0 - 61)).unwrap_err(),
        DecodeError::Expired(Expiry::IssuedInFuture)
    );
    let short = SessionCodec::builder("session", Keyring::new(key()))
        .encrypt(true)
        .max_age(Duration::seconds(60))
        .build()
        .unwrap();
    assert_eq!(
        short.decode_at(&value, at(T0 + 60)).unwrap_err(),
        DecodeError::Expired(Expiry::MaxAge)
    );
    // Sliding refresh works on v2 too.
    let v = codec.verify_at(&value, at(T0 + 7 * 86_400)).unwrap();
    assert!(v.reissue.refresh && !v.reissue.other_version);
}

#[test]
fn payload_rules_apply_behind_a_valid_aead_tag() {
    let codec = sealed();
    let t = (T0 as u64, T0 as u64 + 3600, T0 as u64);
    let seal = |p: &[u8]| codec.seal_raw_payload(p, t.0, t.1, t.2, [1; 24]);
    assert!(
        codec
            .decode_at(&seal(&[0x83, 0x60, 0xa0, 0xa0]), at(T0))
            .is_ok()
    );
    for (payload, want) in [
        (
            &[0x83, 0x60, 0xa1, 0x61, b'k', 0xc1, 0x00, 0xa0][..],
            PayloadError::Tag,
        ),
        (&[0x83, 0x60, 0xa0, 0xa0, 0x00], PayloadError::TrailingBytes),
        (&[0xa0, 0xa0, 0xa0, 0xa0], PayloadError::Shape),
        (
            &[0x83, 0x60, 0xa1, 0x61, b'k', 0x9f, 0xff, 0xa0],
            PayloadError::IndefiniteLength,
        ),
        (
            &[0x83, 0x60, 0xa2, 0x61, b'a', 1, 0x61, b'a', 2, 0xa0],
            PayloadError::DuplicateKey,
        ),
    ] {
        assert_eq!(
            codec.decode_at(&seal(payload), at(T0)).unwrap_err(),
            DecodeError::Payload(want)
        );
    }
    // created_at after issued_at: refused after the tag, as in v1.
    let bad = codec.seal_raw_payload(&[0x83, 0x60, 0xa0, 0xa0], t.0, t.1, t.0 + 1, [2; 24]);
    assert_eq!(
        codec.decode_at(&bad, at(T0)).unwrap_err(),
        DecodeError::Malformed(Malformed::Times)
    );
    // Fewer than 4 payload bytes: too short, by length alone.
    assert_eq!(
        codec
            .decode_at(&seal(&[0x83, 0x60, 0xa0]), at(T0))
            .unwrap_err(),
        DecodeError::Malformed(Malformed::TooShort)
    );
}

#[test]
fn debug_shows_no_key_material() {
    let codec = sealed();
    let shown = format!("{codec:?} {:?}", key());
    assert!(shown.contains(&key().id().to_string()));
    assert!(shown.contains("version: 2"));
    assert!(!shown.contains("KfR2x9Lw0q"));
    assert!(!shown.to_lowercase().contains("aead"));
}

#[test]
fn revocation_runs_on_v2_cookies() {
    let codec = SessionCodec::builder("session", Keyring::new(key()))
        .encrypt(true)
        .revoked_when(|v| v.session.id().starts_with("0123"))
        .build()
        .unwrap();
    let value = codec.encode_at(&session(), at(T0)).unwrap();
    assert_eq!(
        codec.decode_at(&value, at(T0)).unwrap_err(),
        DecodeError::Revoked
    );
}
