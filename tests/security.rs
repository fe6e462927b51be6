//! The security checklist (security.md §5, items 1-11, 13, 15, 17), each
//! test named after its item.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use cookie_session::{
    DecodeError, EncodeError, Expiry, Key, KeyError, Keyring, Malformed, PayloadError, Session,
    SessionCodec,
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

const SECRET: &[u8; 32] = b"fGlXG2J31O8tVNCgCjK7lpMx6dsijqEE";
const T0: i64 = 1_750_000_000;

fn key() -> Key {
    Key::from_secret(SECRET).unwrap()
}

fn other_key() -> Key {
    Key::from_secret(b"another secret, 32 bytes or more!!").unwrap()
}

fn codec_named(name: &str) -> SessionCodec {
    SessionCodec::builder(name, Keyring::new(key()))
        .build()
        .unwrap()
}

fn codec() -> SessionCodec {
    codec_named("session")
}

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

fn session() -> Session {
    let mut s = Session::with_id("sid-123");
    s.set("user_id", 42).unwrap();
    s.set("roles", ["admin", "editor"]).unwrap();
    s.flash("notice", "Saved").unwrap();
    s
}

fn token() -> String {
    codec().encode_at(&session(), at(T0)).unwrap()
}

fn bin(token: &str) -> Vec<u8> {
    B64.decode(token).unwrap()
}

fn decode(token: &str) -> Result<Session, DecodeError> {
    codec().decode_at(token, at(T0))
}

// 1. Tamper sweep.

#[test]
fn item01_every_bit_flip_of_the_bytes_is_rejected() {
    let b = bin(&token());
    assert!(decode(&token()).is_ok());
    for i in 0..b.len() {
        for bit in 0..8 {
            let mut t = b.clone();
            t[i] ^= 1 << bit;
            let r = decode(&B64.encode(&t));
            assert!(r.is_err(), "byte {i} bit {bit} accepted");
        }
    }
}

#[test]
fn item01_every_bit_flip_of_the_text_is_rejected() {
    let t = token();
    for i in 0..t.len() {
        for bit in 0..7 {
            let mut bytes = t.clone().into_bytes();
            bytes[i] ^= 1 << bit;
            let s = String::from_utf8(bytes).unwrap();
            assert!(decode(&s).is_err(), "char {i} bit {bit} accepted: {s}");
        }
    }
}

// 2. Truncation and extension.

#[test]
fn item02_every_prefix_is_rejected() {
    let t = token();
    for n in 0..t.len() {
        assert!(decode(&t[..n]).is_err(), "prefix of {n} chars accepted");
    }
    let b = bin(&t);
    for n in 0..b.len() {
        assert!(
            decode(&B64.encode(&b[..n])).is_err(),
            "prefix of {n} bytes accepted"
        );
    }
}

#[test]
fn item02_tags_of_any_other_length_are_rejected() {
    let b = bin(&token());
    let (body, tag) = b.split_at(b.len() - 32);
    for len in (0..=64).filter(|&l| l != 32) {
        let mut t = body.to_vec();
        t.extend(tag.iter().cycle().take(len));
        assert!(
            decode(&B64.encode(&t)).is_err(),
            "tag of {len} bytes accepted"
        );
    }
}

#[test]
fn item02_appended_bytes_are_rejected() {
    let b = bin(&token());
    for extra in [&[0u8][..], &[0x80], b"more", &[0; 64]] {
        let mut t = b.clone();
        t.extend_from_slice(extra);
        assert_eq!(
            decode(&B64.encode(&t)).unwrap_err(),
            DecodeError::BadSignature
        );
    }
    // A naive SHA-256 length extension (recomputed over body ‖ extra) fails too.
    let (body, _) = b.split_at(b.len() - 32);
    let mut t = body.to_vec();
    t.extend_from_slice(b"admin");
    let naive = <Sha256 as sha2::Digest>::digest(&t);
    t.extend_from_slice(&naive);
    assert_eq!(
        decode(&B64.encode(&t)).unwrap_err(),
        DecodeError::BadSignature
    );
}

// 3. Canonical encoding.

#[test]
fn item03_decode_then_encode_is_identity() {
    for _ in 0..20 {
        let t = codec().encode_at(&Session::new(), at(T0)).unwrap();
        assert_eq!(B64.encode(bin(&t)), t);
        assert!(decode(&t).is_ok());
    }
}

#[test]
fn item03_non_canonical_spellings_are_rejected() {
    let t = token();
    let b = bin(&t);
    let malformed = Err(DecodeError::Malformed(Malformed::Base64));
    // Trailing bits: only when the length leaves unused bits.
    let last = t.len() - 1;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let unused_bits = match b.len() % 3 {
        1 => 4,
        2 => 2,
        _ => 0,
    };
    let pos = alphabet
        .iter()
        .position(|&c| c == t.as_bytes()[last])
        .unwrap();
    for low in 1..(1 << unused_bits) {
        let mut v = t.clone().into_bytes();
        v[last] = alphabet[pos ^ low];
        let v = String::from_utf8(v).unwrap();
        assert_eq!(decode(&v).map(drop), malformed, "trailing bits {low}");
    }
    let variants = [
        format!("{t}="),
        format!("{t}=="),
        format!(" {t}"),
        format!("{t} "),
        format!("{}\n{}", &t[..10], &t[10..]),
        format!("{}\r\n{}", &t[..10], &t[10..]),
        format!("{}\t{}", &t[..10], &t[10..]),
        t.replace('-', "+").replace('_', "/"),
        format!("{}é{}", &t[..10], &t[11..]),
        format!("{}\0{}", &t[..10], &t[11..]),
    ];
    for v in variants.iter().filter(|v| **v != t) {
        assert!(decode(v).is_err(), "accepted {v:?}");
    }
    // The standard alphabet's `+` and `/` never decode.
    let std = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&b);
    if std != t {
        assert_eq!(decode(&std).map(drop), malformed);
    }
}

// 4. Version.

#[test]
fn item04_every_other_version_byte_is_rejected_before_key_lookup() {
    let b = bin(&token());
    // With the `encrypt` feature, 2 is a version too (`tests/encrypted.rs`
    // checks what it does to a v1 body).
    let known = |v: u8| v == 1 || (cfg!(feature = "encrypt") && v == 2);
    for v in (0..=255u8).filter(|&v| !known(v)) {
        let mut t = b.clone();
        t[0] = v;
        assert_eq!(
            decode(&B64.encode(&t)).unwrap_err(),
            DecodeError::UnsupportedVersion(v)
        );
        // Even with a key id no ring holds: the version is checked first.
        t[1..5].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(
            decode(&B64.encode(&t)).unwrap_err(),
            DecodeError::UnsupportedVersion(v)
        );
    }
}

// 5. Key id and rotation.

#[test]
fn item05_unknown_key_ids_are_rejected_without_a_mac() {
    let b = bin(&token());
    for id in [[0u8; 4], [0xff; 4], [0, 0, 0, 1], [0xde, 0xad, 0xbe, 0xef]] {
        let mut t = b.clone();
        t[1..5].copy_from_slice(&id);
        // The tag is not even looked at: garbage gives the same answer.
        let n = t.len();
        t[n - 32..].fill(0);
        assert_eq!(
            decode(&B64.encode(&t)).unwrap_err(),
            DecodeError::UnknownKey
        );
    }
}

#[test]
fn item05_encode_always_uses_the_primary() {
    let keys: Vec<Key> = (0..6u8)
        .map(|i| {
            Key::from_secret(
                &[b"rotation secret #0 padded to 32 bytes!!".as_slice(), &[i]].concat(),
            )
            .unwrap()
        })
        .collect();
    for primary in 0..keys.len() {
        for n_fallbacks in 0..keys.len() {
            let mut ring = Keyring::new(keys[primary].clone());
            for k in keys
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != primary)
                .take(n_fallbacks)
            {
                ring = ring.with_fallback(k.1.clone()).unwrap();
            }
            let c = SessionCodec::builder("s", ring).build().unwrap();
            let t = c.encode_at(&session(), at(T0)).unwrap();
            assert_eq!(bin(&t)[1..5], keys[primary].id().to_bytes());
            assert_eq!(c.primary_key_id(), keys[primary].id());
        }
    }
}

#[test]
fn item05_fallback_is_accepted_with_reissue_and_removal_rejects() {
    let t = token();
    let ring_a = Keyring::new(other_key()).with_fallback(key()).unwrap();
    let c = SessionCodec::builder("session", ring_a).build().unwrap();
    let v = c.verify_at(&t, at(T0)).unwrap();
    assert!(v.needs_reissue);
    assert_eq!(v.key_id, key().id());
    assert!(v.session.is_dirty());
    // Fallback order does not matter.
    let third = Key::from_secret(b"a third secret, at least 32 bytes").unwrap();
    for ring in [
        Keyring::new(other_key())
            .with_fallback(third.clone())
            .unwrap()
            .with_fallback(key())
            .unwrap(),
        Keyring::new(other_key())
            .with_fallback(key())
            .unwrap()
            .with_fallback(third.clone())
            .unwrap(),
    ] {
        let c = SessionCodec::builder("session", ring).build().unwrap();
        assert!(c.verify_at(&t, at(T0)).unwrap().needs_reissue);
    }
    let removed = SessionCodec::builder(
        "session",
        Keyring::new(other_key()).with_fallback(third).unwrap(),
    )
    .build()
    .unwrap();
    assert_eq!(
        removed.decode_at(&t, at(T0)).unwrap_err(),
        DecodeError::UnknownKey
    );
    assert_eq!(
        Keyring::new(key()).with_fallback(key()).unwrap_err(),
        KeyError::DuplicateKeyId
    );
}

// 6. Binding.

#[test]
fn item06_a_value_is_bound_to_its_cookie_name() {
    let t = token();
    for name in [
        "flash",
        "Session",
        "session_",
        "__Host-session",
        "sessio",
        "sessionx",
    ] {
        let c = SessionCodec::builder(name, Keyring::new(key()))
            .build()
            .unwrap();
        assert_eq!(
            c.decode_at(&t, at(T0)).unwrap_err(),
            DecodeError::BadSignature,
            "{name}"
        );
    }
    // `session ` (trailing space) cannot even be configured.
    assert!(
        SessionCodec::builder("session ", Keyring::new(key()))
            .build()
            .is_err()
    );
}

#[test]
fn item06_a_value_is_bound_to_its_context() {
    let a = SessionCodec::builder("s", Keyring::new(key()))
        .context("app-a")
        .build()
        .unwrap();
    let b = SessionCodec::builder("s", Keyring::new(key()))
        .context("app-b")
        .build()
        .unwrap();
    let none = SessionCodec::builder("s", Keyring::new(key()))
        .build()
        .unwrap();
    let t = a.encode_at(&session(), at(T0)).unwrap();
    assert!(a.decode_at(&t, at(T0)).is_ok());
    assert_eq!(
        b.decode_at(&t, at(T0)).unwrap_err(),
        DecodeError::BadSignature
    );
    assert_eq!(
        none.decode_at(&t, at(T0)).unwrap_err(),
        DecodeError::BadSignature
    );
}

#[test]
fn item06_name_and_context_boundaries_cannot_shift() {
    // ("ab", "") and ("a", "b") would share a MAC input without length
    // prefixes.
    let ab = SessionCodec::builder("ab", Keyring::new(key()))
        .build()
        .unwrap();
    let a_b = SessionCodec::builder("a", Keyring::new(key()))
        .context("b")
        .build()
        .unwrap();
    let t = ab.encode_at(&session(), at(T0)).unwrap();
    assert_eq!(
        a_b.decode_at(&t, at(T0)).unwrap_err(),
        DecodeError::BadSignature
    );
    let t = a_b.encode_at(&session(), at(T0)).unwrap();
    assert_eq!(
        ab.decode_at(&t, at(T0)).unwrap_err(),
        DecodeError::BadSignature
    );
}

// 7. Time.

fn timed(max_age: i64, max_lifetime: Option<i64>) -> SessionCodec {
    let b =
        SessionCodec::builder("session", Keyring::new(key())).max_age(Duration::seconds(max_age));
    match max_lifetime {
        Some(l) => b.max_lifetime(Duration::seconds(l)),
        None => b,
    }
    .build()
    .unwrap()
}

#[test]
fn item07_rejected_exactly_at_expiry() {
    let c = timed(100, None);
    let t = c.encode_at(&session(), at(T0)).unwrap();
    assert!(c.decode_at(&t, at(T0 + 99)).is_ok());
    assert_eq!(
        c.decode_at(&t, at(T0 + 100)).unwrap_err(),
        DecodeError::Expired(Expiry::ExpiresAt)
    );
    // A codec whose max_age has since been shortened rejects sooner.
    let shorter = timed(50, None);
    assert!(shorter.decode_at(&t, at(T0 + 49)).is_ok());
    assert_eq!(
        shorter.decode_at(&t, at(T0 + 50)).unwrap_err(),
        DecodeError::Expired(Expiry::MaxAge)
    );
}

#[test]
fn item07_each_save_reissues_but_max_lifetime_never_moves() {
    let c = timed(100, Some(250));
    let mut t = c.encode_at(&session(), at(T0)).unwrap();
    // Saved every 90 s: max_age alone would keep it alive for ever.
    for step in 1..=2 {
        let now = at(T0 + 90 * step);
        let mut s = c.decode_at(&t, now).unwrap();
        s.set("step", step).unwrap();
        t = c.encode_at(&s, now).unwrap();
        let v = c.verify_at(&t, now).unwrap();
        assert_eq!(v.created_at, T0 as u64);
        assert_eq!(v.issued_at, (T0 + 90 * step) as u64);
    }
    assert!(c.decode_at(&t, at(T0 + 249)).is_ok());
    // Issued at T0+180 with max_age 100, but the lifetime ends at T0+250.
    let v = c.verify_at(&t, at(T0 + 200)).unwrap();
    assert_eq!(v.expires_at, (T0 + 250) as u64);
    assert_eq!(
        c.decode_at(&t, at(T0 + 250)).unwrap_err(),
        DecodeError::Expired(Expiry::ExpiresAt)
    );
    // And a codec that adds a lifetime later enforces it on old cookies.
    let t = timed(1000, None).encode_at(&session(), at(T0)).unwrap();
    assert_eq!(
        timed(1000, Some(10))
            .decode_at(&t, at(T0 + 10))
            .unwrap_err(),
        DecodeError::Expired(Expiry::MaxLifetime)
    );
}

#[test]
fn item07_regenerate_id_restarts_the_lifetime() {
    let c = timed(100, Some(150));
    let t = c.encode_at(&session(), at(T0)).unwrap();
    let mut s = c.decode_at(&t, at(T0 + 90)).unwrap();
    s.regenerate_id(true).unwrap();
    let t = c.encode_at(&s, at(T0 + 90)).unwrap();
    assert_eq!(
        c.verify_at(&t, at(T0 + 90)).unwrap().created_at,
        (T0 + 90) as u64
    );
    assert!(c.decode_at(&t, at(T0 + 180)).is_ok());
}

#[test]
fn item07_future_issued_at_beyond_skew_is_rejected() {
    let c = codec();
    let t = c.encode_at(&session(), at(T0)).unwrap();
    assert!(c.decode_at(&t, at(T0 - 59)).is_ok());
    assert!(c.decode_at(&t, at(T0 - 60)).is_ok());
    assert_eq!(
        c.decode_at(&t, at(T0 - 61)).unwrap_err(),
        DecodeError::Expired(Expiry::IssuedInFuture)
    );
}

const EMPTY_PAYLOAD: &[u8] = &[0x83, 0x60, 0xa0, 0xa0];

#[test]
fn item07_extreme_times_never_panic() {
    let c = timed(100, Some(1000));
    let max = u64::MAX;
    let cases = [
        (0, max, 0, Err(DecodeError::Expired(Expiry::MaxAge))),
        (
            max,
            max,
            max,
            Err(DecodeError::Expired(Expiry::IssuedInFuture)),
        ),
        (T0 as u64, max, T0 as u64, Ok(())),
        (
            T0 as u64,
            0,
            T0 as u64,
            Err(DecodeError::Expired(Expiry::ExpiresAt)),
        ),
        (
            T0 as u64,
            max,
            T0 as u64 + 1,
            Err(DecodeError::Malformed(Malformed::Times)),
        ),
        (
            T0 as u64,
            max,
            0,
            Err(DecodeError::Expired(Expiry::MaxLifetime)),
        ),
    ];
    for (iat, exp, created, want) in cases {
        let t = c.sign_raw_payload(EMPTY_PAYLOAD, iat, exp, created);
        assert_eq!(
            c.decode_at(&t, at(T0)).map(drop),
            want,
            "{iat} {exp} {created}"
        );
    }
    // Clocks at the ends of time's range decode without panicking.
    let t = c.encode_at(&session(), at(T0)).unwrap();
    for now in [
        OffsetDateTime::UNIX_EPOCH,
        at(-1),
        at(i64::from(i32::MIN)),
        time::PrimitiveDateTime::MIN.assume_utc(),
        time::PrimitiveDateTime::MAX.assume_utc(),
    ] {
        assert!(c.decode_at(&t, now).is_err());
    }
    // Encoding at the far end saturates instead of overflowing.
    let far = time::PrimitiveDateTime::MAX.assume_utc();
    let t = c.encode_at(&session(), far).unwrap();
    assert!(c.decode_at(&t, far).is_ok());
}

#[test]
fn item07_clock_before_epoch_is_an_encode_error() {
    for now in [at(-1), time::PrimitiveDateTime::MIN.assume_utc()] {
        assert_eq!(
            codec().encode_at(&session(), now).unwrap_err(),
            EncodeError::ClockBeforeEpoch
        );
        let mut s = session();
        s.set("x", 1).unwrap();
        assert_eq!(
            codec().save_at(&s, now).unwrap_err(),
            EncodeError::ClockBeforeEpoch
        );
    }
    assert!(
        codec()
            .encode_at(&session(), OffsetDateTime::UNIX_EPOCH)
            .is_ok()
    );
}

// 8. Keys.

#[test]
fn item08_weak_secrets_are_refused() {
    for n in 0..32 {
        let s: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37)).collect();
        assert!(matches!(
            Key::from_secret(&s),
            Err(KeyError::TooShort { .. })
        ));
    }
    for b in 0..=255u8 {
        assert_eq!(
            Key::from_secret(&[b; 32]).unwrap_err(),
            KeyError::LowEntropy
        );
    }
    assert_eq!(
        Key::from_secret(&b"ab".repeat(32)).unwrap_err(),
        KeyError::LowEntropy
    );
    assert_eq!(
        Key::from_secret(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabcdef").unwrap_err(),
        KeyError::LowEntropy
    );
}

#[test]
fn item08_debug_shows_no_key_material() {
    let k = key();
    let shown = format!(
        "{k:?} {:?} {:?} {:?}",
        Keyring::new(k.clone()),
        codec(),
        k.id()
    );
    let hex: String = SECRET.iter().map(|b| format!("{b:02x}")).collect();
    for needle in [
        String::from_utf8_lossy(SECRET).into_owned(),
        hex,
        B64.encode(SECRET),
        base64::engine::general_purpose::STANDARD.encode(SECRET),
        format!("{:?}", SECRET.as_slice()),
        "abcdefgh".to_string(),
    ] {
        assert!(!shown.contains(&needle), "{needle} in {shown}");
    }
    assert!(shown.contains(&k.id().to_string()));
}

#[test]
fn item08_a_mac_with_the_raw_secret_does_not_verify() {
    let b = bin(&token());
    let body = &b[..b.len() - 32];
    // The exact MAC input, keyed with the raw secret instead of the HKDF
    // sub-key.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).unwrap();
    mac.update(&4u64.to_le_bytes());
    for piece in [&b"cookie-session/v1"[..], b"session", b"", body] {
        mac.update(&(piece.len() as u64).to_le_bytes());
        mac.update(piece);
    }
    let mut forged = body.to_vec();
    forged.extend_from_slice(&mac.finalize().into_bytes());
    assert_eq!(
        decode(&B64.encode(&forged)).unwrap_err(),
        DecodeError::BadSignature
    );
}

// 9. Size.

fn session_of_size(codec: &SessionCodec, target: usize) -> (Session, usize) {
    // Grow one string value until `name=value` reaches `target` exactly.
    let mut s = Session::with_id("sid");
    for n in 0..4096 {
        s.set("pad", "x".repeat(n)).unwrap();
        let size =
            codec.name().len() + 1 + codec.encode_at(&s, at(T0)).map_or(usize::MAX, |v| v.len());
        if size >= target && size != usize::MAX {
            return (s, size);
        }
    }
    unreachable!()
}

#[test]
fn item09_size_budget_plus_minus_one() {
    let c = codec();
    let (mut s, size) = session_of_size(&c, 4090);
    // Walk up one string byte at a time to the exact boundary.
    let mut last_ok = size;
    let mut n = s.get::<String>("pad").unwrap().unwrap().len();
    loop {
        n += 1;
        s.set("pad", "x".repeat(n)).unwrap();
        match c.encode_at(&s, at(T0)) {
            Ok(v) => last_ok = c.name().len() + 1 + v.len(),
            Err(EncodeError::TooLarge { size, limit }) => {
                assert_eq!(limit, 4096);
                // Growing the payload a byte at a time, `name=value` takes the
                // sizes 4095, 4096, 4098 (base64 never has a length of 1 mod
                // 4): the largest cookie allowed is exactly 4096 bytes and
                // the next one is refused, reporting its real size.
                assert_eq!(last_ok, 4096);
                assert_eq!(size, 4098);
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    // A value of exactly 4096 - len("session=") chars decodes; one more is
    // refused before base64 decoding.
    let ok_len = 4096 - "session=".len();
    let exact = "A".repeat(ok_len);
    assert!(!matches!(
        c.decode_at(&exact, at(T0)),
        Err(DecodeError::TooLarge { .. })
    ));
    assert_eq!(
        c.decode_at(&"A".repeat(ok_len + 1), at(T0)).unwrap_err(),
        DecodeError::TooLarge {
            size: 4097,
            limit: 4096
        }
    );
    // Not base64 at all, but too long: TooLarge, not Malformed.
    assert_eq!(
        c.decode_at(&"!".repeat(1 << 20), at(T0)).unwrap_err(),
        DecodeError::TooLarge {
            size: (1 << 20) + 8,
            limit: 4096
        }
    );
}

#[test]
fn item09_a_lower_limit_applies_both_ways() {
    let small = SessionCodec::builder("session", Keyring::new(key()))
        .max_size(200)
        .build()
        .unwrap();
    let big = codec();
    let mut s = session();
    s.set("pad", "y".repeat(150)).unwrap();
    assert!(matches!(
        small.encode_at(&s, at(T0)),
        Err(EncodeError::TooLarge { limit: 200, .. })
    ));
    let t = big.encode_at(&s, at(T0)).unwrap();
    assert!(matches!(
        small.decode_at(&t, at(T0)),
        Err(DecodeError::TooLarge { limit: 200, .. })
    ));
}

// 10. CBOR hardening behind a valid MAC.

fn signed(payload: &[u8]) -> Result<Session, DecodeError> {
    let c = codec();
    let t = c.sign_raw_payload(payload, T0 as u64, (T0 + 100) as u64, T0 as u64);
    c.decode_at(&t, at(T0))
}

/// `[ "", {"k": item}, {} ]`
fn with_value(item: &[u8]) -> Vec<u8> {
    let mut p = vec![0x83, 0x60, 0xa1, 0x61, b'k'];
    p.extend_from_slice(item);
    p.push(0xa0);
    p
}

#[test]
fn item10_cbor_bombs_and_rule_breaks_are_payload_errors() {
    use PayloadError::*;
    let mut depth_bomb = vec![0x81; 2_000];
    depth_bomb.push(0x00);
    let cases: Vec<(Vec<u8>, PayloadError)> = vec![
        (with_value(&depth_bomb), TooDeep),
        (with_value(&[0x9a, 0xff, 0xff, 0xff, 0xff]), LengthOverflow),
        (
            with_value(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            LengthOverflow,
        ),
        (
            with_value(&[0xa2, 0x61, b'a', 0x01, 0x61, b'a', 0x02]),
            DuplicateKey,
        ),
        (
            vec![0x83, 0x60, 0xa2, 0x61, b'a', 0x01, 0x61, b'a', 0x02, 0xa0],
            DuplicateKey,
        ),
        (with_value(&[0xc0, 0x60]), Tag),
        (with_value(&[0xc1, 0x00]), Tag),
        (with_value(&[0xd9, 0xd9, 0xf7, 0x00]), Tag),
        (
            with_value(&[0xdb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]),
            Tag,
        ),
        (with_value(&[0x5f, 0xff]), IndefiniteLength),
        (with_value(&[0x9f, 0xff]), IndefiniteLength),
        (with_value(&[0xbf, 0xff]), IndefiniteLength),
        (with_value(&[0x62, 0xc3, 0x28]), InvalidUtf8),
        (vec![0x83, 0x62, 0xff, 0xfe, 0xa0, 0xa0], InvalidUtf8),
        (vec![0x83, 0x60, 0xa0, 0xa0, 0x00], TrailingBytes),
        (vec![0x83, 0x61, b'a', 0xa0], Truncated),
        (vec![0x84, 0x60, 0xa0, 0xa0, 0xa0], Shape),
        (vec![0x83, 0x00, 0xa0, 0xa0], Shape),
        (vec![0x83, 0x60, 0x80, 0xa0], Shape),
        (vec![0x83, 0x60, 0xa1, 0x01, 0x01, 0xa0], BadKeyType),
        (vec![0xa0, 0xa0, 0xa0, 0xa0], Shape),
        (vec![0x98, 0x03, 0x60, 0xa0, 0xa0], NonCanonicalHead),
        (vec![0x01, 0x60, 0xa0, 0xa0], Shape),
    ];
    for (payload, want) in cases {
        assert_eq!(
            signed(&payload).unwrap_err(),
            DecodeError::Payload(want),
            "{:02x?}",
            &payload[..payload.len().min(16)]
        );
    }
    // Maps with many keys are checked for duplicates too.
    let mut big = vec![0x83, 0x60, 0xb8, 100];
    for i in 0..100u8 {
        big.extend_from_slice(&[0x62, b'k', i, 0xf6]);
    }
    big.push(0xa0);
    assert!(signed(&big).is_ok());
    let n = big.len();
    big[n - 3] = 0; // last key becomes "k\0", equal to the first
    assert_eq!(
        signed(&big).unwrap_err(),
        DecodeError::Payload(DuplicateKey)
    );
}

#[test]
fn item10_a_valid_raw_payload_decodes() {
    // ["id", {"a": 1}, {"f": true}]
    let s = signed(&[
        0x83, 0x62, b'i', b'd', 0xa1, 0x61, b'a', 0x01, 0xa1, 0x61, b'f', 0xf5,
    ])
    .unwrap();
    assert_eq!(s.id(), "id");
    assert_eq!(s.get::<u8>("a").unwrap(), Some(1));
    assert_eq!(s.get::<bool>("f").unwrap(), Some(true));
    assert!(s.is_dirty());
}

// 11. Verify first.

#[test]
fn item11_a_bad_tag_wins_over_a_malicious_payload_and_times() {
    let c = codec();
    let mut bomb = vec![0x83, 0x60, 0xa1, 0x61, b'k'];
    bomb.extend(std::iter::repeat_n(0x81, 2000));
    let t = c.sign_raw_payload(&bomb, u64::MAX, 0, u64::MAX);
    let mut b = bin(&t);
    let n = b.len();
    b[n - 1] ^= 1;
    assert_eq!(
        c.decode_at(&B64.encode(&b), at(T0)).unwrap_err(),
        DecodeError::BadSignature
    );
    b[n - 1] ^= 1;
    b[n - 32] ^= 0x80;
    assert_eq!(
        c.decode_at(&B64.encode(&b), at(T0)).unwrap_err(),
        DecodeError::BadSignature
    );
}

// 13. Errors do not echo input or keys.

#[test]
fn item13_errors_never_echo_the_input() {
    let c = codec();
    let t = token();
    let mut flipped = bin(&t);
    flipped[40] ^= 1;
    let inputs = [
        "x".repeat(5000),
        "not base64 at all!".to_string(),
        format!("{t}="),
        B64.encode(&flipped),
        t[..t.len() - 4].to_string(),
    ];
    for input in inputs {
        let e = c.decode_at(&input, at(T0)).unwrap_err();
        for shown in [e.to_string(), format!("{e:?}")] {
            assert!(!shown.contains(&input[..16.min(input.len())]), "{shown}");
            assert!(!shown.contains("0123456789abcdef"), "{shown}");
            assert!(shown.len() < 80, "{shown}");
        }
    }
}

// 15. Flash across encode/decode, inside the size budget.

#[test]
fn item15_flash_is_delivered_once_and_counted_in_the_budget() {
    let c = codec();
    let mut s = Session::with_id("s");
    s.flash("notice", "once").unwrap();
    let t1 = c.encode_at(&s, at(T0)).unwrap();
    let r1 = c.decode_at(&t1, at(T0)).unwrap();
    assert_eq!(r1.get::<String>("notice").unwrap().as_deref(), Some("once"));
    let t2 = c.encode_at(&r1, at(T0)).unwrap();
    let r2 = c.decode_at(&t2, at(T0)).unwrap();
    assert_eq!(r2.get::<String>("notice").unwrap(), None);

    let mut big = Session::with_id("s");
    big.flash("notice", "z".repeat(4000)).unwrap();
    assert!(matches!(
        c.encode_at(&big, at(T0)),
        Err(EncodeError::TooLarge { .. })
    ));
}

// 17. Known-answer tests.

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn item17_rfc4231_hmac_sha256() {
    let cases: [(Vec<u8>, Vec<u8>, &str, usize); 6] = [
        (
            vec![0x0b; 20],
            b"Hi There".to_vec(),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            32,
        ),
        (
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".to_vec(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            32,
        ),
        (
            vec![0xaa; 20],
            vec![0xdd; 50],
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
            32,
        ),
        (
            hex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
            vec![0xcd; 50],
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
            32,
        ),
        (
            vec![0x0c; 20],
            b"Test With Truncation".to_vec(),
            "a3b6167473100ee06e0c796c2955552b",
            16,
        ),
        (
            vec![0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            32,
        ),
    ];
    for (key, data, want, len) in cases {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        mac.update(&data);
        assert_eq!(mac.finalize().into_bytes()[..len], hex(want)[..]);
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&[0xaa; 131]).unwrap();
    mac.update(b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.");
    assert_eq!(
        mac.finalize().into_bytes()[..],
        hex("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")[..]
    );
}
