//! The properties the fuzz targets check, in one place.
//!
//! The fuzz targets (`fuzz/fuzz_targets/*.rs`) call the `pub fn <target>(&[u8])`
//! functions below; the stable tests include this file by path
//! (`tests/fuzz_replay.rs` replays every seed and regression input through
//! the same functions, `tests/properties.rs` feeds the structured checks with
//! proptest), so a crash found by the fuzzer stays covered by `cargo test`.
//!
//! Everything here is deterministic: fixed keys, a fixed clock
//! ([`NOW`]), no randomness besides the input (session ids are given, never
//! generated, where a check compares them).

#![allow(dead_code)]

use std::sync::LazyLock;

use arbitrary::{Result as ArbResult, Unstructured};
use cookie_session::{
    DecodeError, EncodeError, Key, Keyring, Session, SessionCodec, SessionData, SessionError,
    Value, ValueMap,
};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use time::OffsetDateTime;

/// The cookie name of every codec here.
pub const NAME: &str = "sid";

/// The fixed clock, in Unix seconds.
pub const NOW: i64 = 1_700_000_000;

/// The size limit of the codecs (the default).
pub const LIMIT: usize = 4096;

/// [`NOW`] as a date.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW).expect("NOW is a valid time")
}

/// Test-only secrets: public, never use them anywhere else.
const SECRETS: [&[u8]; 6] = [
    b"fuzz key 0 - public test secret, not for use",
    b"fuzz key 1 - public test secret, not for use",
    b"fuzz key 2 - public test secret, not for use",
    b"fuzz key 3 - public test secret, not for use",
    b"fuzz key 4 - public test secret, not for use",
    b"fuzz key 5 - public test secret, not for use",
];

/// The fixed keys, all with distinct ids.
pub static KEYS: LazyLock<Vec<Key>> = LazyLock::new(|| {
    let keys: Vec<Key> = SECRETS
        .iter()
        .map(|s| Key::from_secret(s).expect("test secrets are valid"))
        .collect();
    for (i, a) in keys.iter().enumerate() {
        assert!(
            keys[..i].iter().all(|b| b.id() != a.id()),
            "key ids collide"
        );
    }
    keys
});

/// The codec of `decode_value`, `read_header` and `signed_payload`: primary
/// `KEYS[0]`, fallback `KEYS[1]`, default settings.
pub static CODEC: LazyLock<SessionCodec> = LazyLock::new(|| codec(&[0, 1], ""));

/// The encrypting twin of [`CODEC`] (format v2, same keys and settings),
/// for `decode_value` and `encrypted_roundtrip`.
#[cfg(feature = "encrypt")]
pub static ENC_CODEC: LazyLock<SessionCodec> = LazyLock::new(|| {
    let keyring = Keyring::new(KEYS[0].clone())
        .with_fallback(KEYS[1].clone())
        .expect("distinct keys");
    SessionCodec::builder(NAME, keyring)
        .encrypt(true)
        .build()
        .expect("valid configuration")
});

/// A codec whose keyring holds `KEYS[i]` for each `i` of `ring`, in order (the
/// first is primary); `ring` must not repeat an index.
pub fn codec(ring: &[usize], context: &str) -> SessionCodec {
    let mut keyring = Keyring::new(KEYS[ring[0]].clone());
    for &i in &ring[1..] {
        keyring = keyring
            .with_fallback(KEYS[i].clone())
            .expect("distinct keys");
    }
    SessionCodec::builder(NAME, keyring)
        .context(context)
        .build()
        .expect("valid configuration")
}

/// The signed times `signed_payload` uses: valid at [`NOW`].
pub const SIGNED_AT: (u64, u64, u64) = (NOW as u64 - 10, NOW as u64 + 3600, NOW as u64 - 100);

/// The value of the `name=value` part of a `Set-Cookie` header.
pub fn set_cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().expect("split yields one item");
    pair.strip_prefix("sid=").expect("the codec's cookie name")
}

// ---------------------------------------------------------------------------
// decode_value

/// Target `decode_value`: arbitrary bytes (as text, lossily) as a cookie
/// value, decoded by the signing codec and (feature `encrypt`) by the
/// encrypting one. Never panics; a cookie that verifies satisfies every rule
/// of the format and survives a re-issue, in the codec's own version.
pub fn decode_value(data: &[u8]) {
    let value = String::from_utf8_lossy(data);
    check_decode(&CODEC, &[0, 1], &value);
    #[cfg(feature = "encrypt")]
    check_decode(&ENC_CODEC, &[0, 1], &value);
}

/// Decodes `value` with `codec` (whose keyring holds `KEYS[i]` for each `i`
/// of `ring`) at [`NOW`] and checks what came back.
pub fn check_decode(codec: &SessionCodec, ring: &[usize], value: &str) -> Option<Session> {
    match codec.verify_at(value, now()) {
        Ok(v) => {
            assert!(NAME.len() + 1 + value.len() <= LIMIT, "over the limit");
            assert!(
                ring.iter().any(|&i| KEYS[i].id() == v.key_id),
                "signed by a key not in the ring"
            );
            assert_eq!(v.reissue.fallback_key, v.key_id != codec.primary_key_id());
            assert_eq!(v.needs_reissue, v.session.is_dirty());
            // A cookie of the version the codec does not write is re-issued.
            let version = cookie_version(value);
            assert!(version == 1 || version == 2, "version {version}");
            assert_eq!(v.reissue.other_version, version != codec.version());
            if v.reissue.refresh {
                let refresh_after = codec.refresh_after().expect("refreshing is on");
                let age = i128::from(NOW) - i128::from(v.issued_at);
                assert!(
                    age >= i128::from(refresh_after.whole_seconds()),
                    "refreshed early"
                );
            }
            assert!(v.created_at <= v.issued_at, "created after issued");
            assert!(i128::from(v.expires_at) > i128::from(NOW), "expired");
            assert!(i128::from(v.issued_at) <= i128::from(NOW) + 60, "future");
            if v.reissue.is_due() {
                assert!(
                    v.session.is_dirty(),
                    "a re-issue is due but the session is clean"
                );
            }
            assert!(!v.session.is_destroyed());
            check_values_readable(&v.session.data().values);
            // A re-issue carries id and values forward, drops flash, and
            // signs with the primary key.
            let next = codec
                .encode_at(&v.session, now())
                .expect("a decoded session re-encodes: flash only shrinks it");
            let w = codec
                .verify_at(&next, now())
                .expect("a fresh cookie verifies");
            assert_eq!(w.key_id, codec.primary_key_id());
            assert!(!w.needs_reissue);
            assert!(!w.session.is_dirty(), "a re-issued cookie carries no flash");
            assert_eq!(w.session.id(), v.session.id());
            assert_eq!(w.session.data(), v.session.data());
            assert_eq!(w.created_at, v.created_at.min(NOW as u64));
            Some(v.session)
        }
        Err(e) => {
            check_error_is_short(&e);
            None
        }
    }
}

/// The version byte of a cookie value that decoded.
pub fn cookie_version(value: &str) -> u8 {
    use base64::Engine as _;
    let bin = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .expect("a cookie that decoded is base64url");
    bin[0]
}

/// A decode error's messages are short and fixed but for a few numbers:
/// they cannot carry the cookie they are about.
fn check_error_is_short(e: &DecodeError) {
    let shown = format!("{e} {e:?}");
    assert!(shown.len() <= 160, "error message of {} bytes", shown.len());
}

/// Every value of a decoded map is one valid item that serde can read.
fn check_values_readable(values: &ValueMap) {
    for (k, v) in values.iter() {
        assert_eq!(
            Value::from_cbor(v.as_cbor()).as_ref(),
            Ok(v),
            "decoded value under {k:?} is not a valid item"
        );
        if let Err(e) = v.deserialize::<serde::de::IgnoredAny>() {
            panic!("decoded value under {k:?} is unreadable: {e}");
        }
    }
}

// ---------------------------------------------------------------------------
// read_header

/// Target `read_header`: arbitrary bytes (as text, lossily) as a `Cookie`
/// header. `read_at` returns the session `try_read_at` found, or a fresh,
/// clean, empty one.
pub fn read_header(data: &[u8]) {
    let header = String::from_utf8_lossy(data);
    let tried = CODEC.try_read_at(Some(&header), now());
    let read = CODEC.read_at(Some(&header), now());
    match tried {
        Ok(Some(s)) => {
            assert_eq!(read.id(), s.id());
            assert_eq!(read.data(), s.data());
            assert_eq!(read.len(), s.len());
            assert_eq!(read.is_dirty(), s.is_dirty());
        }
        Ok(None) | Err(_) => {
            assert!(read.is_empty(), "a refused cookie gave data");
            assert!(!read.is_dirty(), "a fresh session is clean");
            assert_eq!(read.id().len(), 22, "a fresh session has a fresh id");
            if let Err(e) = tried {
                check_error_is_short(&e);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// signed_payload

/// The cookie that carries `payload` behind a valid tag of `KEYS[0]`.
pub fn sign(payload: &[u8]) -> String {
    let (iat, exp, created) = SIGNED_AT;
    CODEC.sign_raw_payload(payload, iat, exp, created)
}

/// Target `signed_payload`: arbitrary bytes as the CBOR payload of a
/// validly signed cookie.
pub fn signed_payload(payload: &[u8]) {
    let cookie = sign(payload);
    let result = CODEC.verify_at(&cookie, now());
    check_signed_payload(payload, &cookie, result);
}

/// What decoding a validly signed `payload` may give: a session whose
/// re-encoding reproduces the payload byte for byte (less its flash), a
/// payload error, or `TooLarge` for a cookie over the limit. Nothing else.
pub fn check_signed_payload(
    payload: &[u8],
    cookie: &str,
    result: Result<cookie_session::Verified, DecodeError>,
) {
    let v = match result {
        Err(DecodeError::TooLarge { size, limit }) => {
            assert_eq!(limit, LIMIT);
            assert_eq!(size, NAME.len() + 1 + cookie.len());
            assert!(size > limit);
            return;
        }
        Err(DecodeError::Payload(_)) => return,
        // No valid payload is shorter than `[ "", {}, {} ]`: the frame is
        // refused by its length alone.
        Err(DecodeError::Malformed(cookie_session::Malformed::TooShort)) => {
            assert!(
                payload.len() < 4,
                "a {}-byte payload is not short",
                payload.len()
            );
            return;
        }
        Err(other) => panic!("a validly signed cookie failed with {other:?}"),
        Ok(v) => v,
    };
    assert_eq!(v.key_id, KEYS[0].id());
    assert!(!v.reissue.fallback_key);
    let (iat, exp, created) = SIGNED_AT;
    assert_eq!(
        (v.issued_at, v.expires_at, v.created_at),
        (iat, exp, created)
    );
    let session = v.session;
    let values = session.data().values;
    check_values_readable(&values);
    let mut keys: Vec<&str> = values.keys().collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), values.len(), "a duplicate key was accepted");
    for (k, val) in values.iter() {
        if !val.is_null() {
            assert_eq!(session.get_value(k), Some(val));
        }
        assert!(session.has(k));
    }
    // Flash arrived iff the session is dirty; it counts in `len`.
    let flash_count = session.len() - values.len();
    assert_eq!(session.is_dirty(), flash_count > 0);

    let again = Session::from_data(session.id(), session.data());
    let cookie2 = CODEC
        .encode_at(&again, now())
        .expect("the same content without flash fits");
    if flash_count == 0 {
        // The decoder accepts only what the encoder writes: the payload
        // comes back byte for byte.
        let expect =
            CODEC.sign_raw_payload(payload, NOW as u64, NOW as u64 + 14 * 86_400, NOW as u64);
        assert_eq!(cookie2, expect, "re-encoding changed the payload");
    }
    let back = CODEC.decode_at(&cookie2, now()).expect("re-encoded cookie");
    assert_eq!(back.id(), session.id());
    assert_eq!(back.data().values, values);
    assert_eq!(back.len(), values.len(), "flash delivered twice");
}

// ---------------------------------------------------------------------------
// roundtrip

/// Serde data of every shape a session value can take (and some it cannot:
/// 128-bit integers, non-string keys at odd places, deep nesting).
#[derive(Debug, Clone)]
pub enum Data {
    /// `None`.
    Null,
    /// `()`.
    Unit,
    /// A boolean.
    Bool(bool),
    /// An integer, written with the narrowest serde method that holds it.
    Int(i128),
    /// A 32-bit float.
    F32(f32),
    /// A 64-bit float.
    F64(f64),
    /// A char.
    Char(char),
    /// A text string.
    Str(String),
    /// A byte string (`serialize_bytes`).
    Bytes(Vec<u8>),
    /// A sequence; `sized` says whether serde is told its length.
    Array(Vec<Data>, bool),
    /// A map; `sized` as for arrays.
    Map(Vec<(Data, Data)>, bool),
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Data::Null => s.serialize_none(),
            Data::Unit => s.serialize_unit(),
            Data::Bool(b) => s.serialize_bool(*b),
            Data::Int(i) => {
                if let Ok(u) = u64::try_from(*i) {
                    s.serialize_u64(u)
                } else if let Ok(n) = i64::try_from(*i) {
                    s.serialize_i64(n)
                } else {
                    s.serialize_i128(*i)
                }
            }
            Data::F32(f) => s.serialize_f32(*f),
            Data::F64(f) => s.serialize_f64(*f),
            Data::Char(c) => s.serialize_char(*c),
            Data::Str(t) => s.serialize_str(t),
            Data::Bytes(b) => s.serialize_bytes(b),
            Data::Array(items, sized) => {
                let mut seq = s.serialize_seq(sized.then_some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Data::Map(pairs, sized) => {
                let mut map = s.serialize_map(sized.then_some(pairs.len()))?;
                for (k, v) in pairs {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Integers at the edges of CBOR's head sizes and of Rust's types.
pub const INT_EDGES: [i128; 26] = [
    0,
    1,
    23,
    24,
    255,
    256,
    65_535,
    65_536,
    u32::MAX as i128,
    u32::MAX as i128 + 1,
    i64::MAX as i128,
    i64::MAX as i128 + 1,
    u64::MAX as i128,
    u64::MAX as i128 + 1,
    -1,
    -24,
    -25,
    -256,
    -257,
    -65_536,
    -65_537,
    -(1 << 32),
    -(1 << 32) - 1,
    i64::MIN as i128,
    -(1 << 64),
    -(1 << 64) - 1,
];

/// Floats that encoders like to get wrong.
pub const FLOAT_EDGES: [f64; 14] = [
    0.0,
    -0.0,
    f64::NAN,
    -f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::MIN_POSITIVE,
    5e-324,
    f64::MAX,
    f64::MIN,
    f64::EPSILON,
    65_504.0,
    1.0e-5,
    0.1,
];

/// Keys worth colliding on: empty, unicode, a NUL, an emoji.
pub const KEY_EDGES: [&str; 8] = ["", "a", "user", "ключ", "🍪", "\0", "a\u{301}", "é"];

/// Nesting is generated a little past the format's limit (16), so that the
/// refusal is exercised too.
const GEN_DEPTH: usize = 18;

fn arb_data(u: &mut Unstructured<'_>, depth: usize) -> ArbResult<Data> {
    let max = if depth >= GEN_DEPTH { 9 } else { 11 };
    Ok(match u.int_in_range(0..=max)? {
        0 => Data::Null,
        1 => Data::Unit,
        2 => Data::Bool(u.arbitrary()?),
        3 => {
            let base = INT_EDGES[u.choose_index(INT_EDGES.len())?];
            let delta: i8 = u.arbitrary()?;
            Data::Int(base.saturating_add(i128::from(delta % 3)))
        }
        4 => Data::Int(u.arbitrary::<i64>()?.into()),
        5 => {
            if u.arbitrary()? {
                Data::F64(FLOAT_EDGES[u.choose_index(FLOAT_EDGES.len())?])
            } else {
                Data::F64(f64::from_bits(u.arbitrary()?))
            }
        }
        6 => Data::F32(f32::from_bits(u.arbitrary()?)),
        7 => Data::Char(u.arbitrary()?),
        8 => Data::Str(arb_key(u)?),
        9 => Data::Bytes(u.arbitrary()?),
        10 => {
            let n = u.int_in_range(0..=6)?;
            let items = (0..n)
                .map(|_| arb_data(u, depth + 1))
                .collect::<ArbResult<_>>()?;
            Data::Array(items, u.arbitrary()?)
        }
        _ => {
            let n = u.int_in_range(0..=6)?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let k = match u.int_in_range(0..=5)? {
                    0 => Data::Int(u.arbitrary::<i32>()?.into()),
                    1 => Data::Bytes(u.arbitrary()?),
                    2 => Data::Bool(u.arbitrary()?),
                    _ => Data::Str(arb_key(u)?),
                };
                pairs.push((k, arb_data(u, depth + 1)?));
            }
            Data::Map(pairs, u.arbitrary()?)
        }
    })
}

fn arb_key(u: &mut Unstructured<'_>) -> ArbResult<String> {
    if u.arbitrary()? {
        Ok(KEY_EDGES[u.choose_index(KEY_EDGES.len())?].to_owned())
    } else {
        u.arbitrary()
    }
}

/// One change to a session during a request.
#[derive(Debug, Clone)]
pub enum Op {
    /// `session.set(key, data)`.
    Set(String, Data),
    /// `session.flash(key, data)`.
    Flash(String, Data),
    /// `session.unset(key)`.
    Unset(String),
}

/// The input of `roundtrip`: a session id and the changes of one request.
#[derive(Debug, Clone)]
pub struct RoundtripInput {
    /// The session id (any text).
    pub id: String,
    /// The changes, in order.
    pub ops: Vec<Op>,
}

impl RoundtripInput {
    /// Reads an input from fuzzer bytes.
    pub fn from_bytes(data: &[u8]) -> ArbResult<Self> {
        let mut u = Unstructured::new(data);
        let id = if u.arbitrary()? {
            "0123456789abcdefghijkl".to_owned()
        } else {
            u.arbitrary()?
        };
        let mut ops = Vec::new();
        while !u.is_empty() && ops.len() < 64 {
            let key = arb_key(&mut u)?;
            ops.push(match u.int_in_range(0..=4)? {
                0 | 1 => Op::Set(key, arb_data(&mut u, 0)?),
                2 | 3 => Op::Flash(key, arb_data(&mut u, 0)?),
                _ => Op::Unset(key),
            });
        }
        Ok(RoundtripInput { id, ops })
    }
}

/// Target `roundtrip`.
pub fn roundtrip(data: &[u8]) {
    if let Ok(input) = RoundtripInput::from_bytes(data) {
        check_roundtrip(&input);
    }
}

/// Applies the changes to a fresh session, checks them against a model,
/// then encodes: either `TooLarge`, or a cookie whose next two requests see
/// the same values and the flash exactly once.
pub fn check_roundtrip(input: &RoundtripInput) {
    check_roundtrip_with(&CODEC, input);
}

/// [`check_roundtrip`] with `codec` (signing or encrypting, keys `[0, 1]`);
/// returns the session and its first cookie if it fit.
pub fn check_roundtrip_with(
    codec: &SessionCodec,
    input: &RoundtripInput,
) -> Option<(Session, String)> {
    let mut s = Session::with_id(input.id.clone());
    let mut values = ValueMap::new();
    let mut flash = ValueMap::new();
    let mut changed = false;
    for op in &input.ops {
        match op {
            Op::Set(k, d) => {
                let got = s.set(k.clone(), d);
                match Value::from_serialize(d) {
                    Ok(v) => {
                        assert_eq!(got, Ok(()));
                        changed = true;
                        check_value(d, &v);
                        if v.is_null() {
                            values.remove(k);
                        } else {
                            values.insert(k.clone(), v);
                        }
                    }
                    Err(e) => {
                        check_refusal(&e);
                        assert_eq!(got, Err(e));
                    }
                }
            }
            Op::Flash(k, d) => {
                let got = s.flash(k.clone(), d);
                match Value::from_serialize(d) {
                    Ok(v) => {
                        assert_eq!(got, Ok(()));
                        changed = true;
                        check_value(d, &v);
                        flash.insert(k.clone(), v);
                    }
                    Err(e) => {
                        check_refusal(&e);
                        assert_eq!(got, Err(e));
                    }
                }
            }
            Op::Unset(k) => {
                s.unset(k).expect("a live session");
                changed = true;
                values.remove(k);
            }
        }
    }
    let data = s.data();
    assert_eq!(data.values, values);
    assert_eq!(data.flash, flash);
    assert_eq!(s.is_dirty(), changed, "dirty iff a change succeeded");

    // Request 1 ends: encode. The size follows from the format alone.
    let size = expected_size_of(codec.version(), &input.id, &values, &flash);
    let cookie = match codec.encode_at(&s, now()) {
        Ok(c) => c,
        Err(EncodeError::TooLarge { size: got, limit }) => {
            assert_eq!(limit, LIMIT);
            assert_eq!(got, size, "reported size");
            assert!(size > limit, "refused a cookie that fits");
            return None;
        }
        Err(e) => panic!("encoding failed with {e:?}"),
    };
    assert_eq!(NAME.len() + 1 + cookie.len(), size, "cookie size");
    assert!(size <= LIMIT);

    // Request 2: values, and the flash, visible.
    assert_eq!(cookie_version(&cookie), codec.version());
    let t = codec.decode_at(&cookie, now()).expect("own cookie decodes");
    assert_eq!(t.id(), input.id);
    assert_eq!(t.data().values, values);
    assert!(t.data().flash.is_empty(), "incoming flash is not outgoing");
    assert_eq!(t.len(), values.len() + flash.len());
    assert_eq!(t.is_dirty(), !flash.is_empty());
    for (k, v) in values.iter() {
        assert_eq!(t.get_value(k), Some(v));
    }
    for (k, v) in flash.iter() {
        assert!(t.has(k));
        let want = values.get(k).unwrap_or(v);
        assert_eq!(t.get_value(k), Some(want), "flash {k:?}");
    }

    // Request 2 ends: saved only if flash must be dropped.
    let saved = codec.save_at(&t, now()).expect("smaller than before");
    let Some(set_cookie) = saved else {
        assert!(flash.is_empty(), "flash would be delivered again");
        return Some((s, cookie));
    };
    // Request 3: the values, no flash.
    let u = codec
        .decode_at(set_cookie_value(&set_cookie), now())
        .expect("own cookie decodes");
    assert_eq!(u.id(), input.id);
    assert_eq!(u.data().values, values);
    assert_eq!(u.len(), values.len(), "flash delivered twice");
    assert!(!u.is_dirty());
    for (k, _) in flash.iter() {
        assert_eq!(u.has(k), values.contains_key(k));
    }
    Some((s, cookie))
}

/// Target `encrypted_roundtrip`: the `roundtrip` input with the encrypting
/// codec, then what format v2 adds: no 16-byte run of the plaintext payload
/// in the cookie, each codec reads the other's cookie as a dirty session
/// with the same data, and a flipped bit or a missing byte is refused.
#[cfg(feature = "encrypt")]
pub fn encrypted_roundtrip(data: &[u8]) {
    let Ok(input) = RoundtripInput::from_bytes(data) else {
        return;
    };
    let flip = data.len() * 7919 + usize::from(data.first().copied().unwrap_or(0));
    check_encrypted_roundtrip(&input, flip);
}

/// What `encrypted_roundtrip` checks, for `input`; `flip` chooses the bit
/// flipped (bit `flip % 8` of byte `flip / 8 % len`).
#[cfg(feature = "encrypt")]
pub fn check_encrypted_roundtrip(input: &RoundtripInput, flip: usize) {
    let Some((session, sealed)) = check_roundtrip_with(&ENC_CODEC, input) else {
        return;
    };
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // v1 is 8 bytes shorter: it fits whenever v2 does.
    let signed = CODEC.encode_at(&session, now()).expect("v1 is smaller");
    let plain = b64.decode(&signed).expect("base64");
    let payload = &plain[29..plain.len() - 32];
    let bin = b64.decode(&sealed).expect("base64");
    assert_eq!(bin.len(), plain.len() + 8, "v2 is v1 plus 8 bytes");
    assert_eq!(bin[1..29], plain[1..29], "same header but the version");
    let runs: std::collections::HashSet<&[u8]> = bin[53..].windows(16).collect();
    assert!(
        payload.windows(16).all(|w| !runs.contains(w)),
        "plaintext in the encrypted cookie"
    );
    // Each codec reads the other's cookie: same data, dirty.
    for (reader, value) in [(&*CODEC, &sealed), (&*ENC_CODEC, &signed)] {
        let v = reader
            .verify_at(value, now())
            .expect("other version decodes");
        assert!(v.reissue.other_version && v.session.is_dirty());
        assert_eq!(v.session.id(), session.id());
        assert_eq!(v.session.data().values, session.data().values);
    }
    // One flipped bit, chosen by the input, and one byte less.
    let pos = flip / 8 % bin.len();
    let mut t = bin.clone();
    t[pos] ^= 1 << (flip % 8);
    let err = ENC_CODEC.verify_at(&b64.encode(&t), now()).unwrap_err();
    match pos {
        0 => assert!(matches!(
            err,
            DecodeError::UnsupportedVersion(_) | DecodeError::BadSignature
        )),
        1..5 => assert_eq!(err, DecodeError::UnknownKey),
        _ => assert_eq!(err, DecodeError::BadSignature),
    }
    assert!(
        ENC_CODEC
            .verify_at(&b64.encode(&bin[..bin.len() - 1]), now())
            .is_err()
    );
}

/// Length of a CBOR head for `arg`.
fn head_len(arg: usize) -> usize {
    match arg as u64 {
        0..=23 => 1,
        24..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// `name=value` length of the cookie for this content, computed from the
/// wire format (29-byte header, `[id, values, flash]`, 32-byte tag, unpadded
/// base64).
pub fn expected_size(id: &str, values: &ValueMap, flash: &ValueMap) -> usize {
    expected_size_of(1, id, values, flash)
}

/// [`expected_size`] for format `version`: v2 has a 24-byte nonce and a
/// 16-byte tag in place of the 32-byte tag.
pub fn expected_size_of(version: u8, id: &str, values: &ValueMap, flash: &ValueMap) -> usize {
    let text = |t: &str| head_len(t.len()) + t.len();
    let map = |m: &ValueMap| {
        head_len(m.len())
            + m.iter()
                .map(|(k, v)| text(k) + v.as_cbor().len())
                .sum::<usize>()
    };
    let overhead = if version == 2 { 24 + 16 } else { 32 };
    let bin = 29 + 1 + text(id) + map(values) + map(flash) + overhead;
    NAME.len() + 1 + (bin * 4).div_ceil(3)
}

/// A refused value is refused for a reason of the format, cleanly.
fn check_refusal(e: &SessionError) {
    match e {
        SessionError::InvalidValue(_) | SessionError::Serialize(_) => {}
        other => panic!("unexpected refusal {other:?}"),
    }
}

/// A serialized value is one valid item, and scalars read back as what was
/// written (64-bit floats bit for bit, 32-bit ones too except that a NaN
/// need only stay a NaN).
fn check_value(d: &Data, v: &Value) {
    assert_eq!(Value::from_cbor(v.as_cbor()).as_ref(), Ok(v));
    match d {
        Data::Null | Data::Unit => assert!(v.is_null()),
        Data::Bool(b) => assert_eq!(v.deserialize::<bool>(), Ok(*b)),
        Data::Int(i) => assert_eq!(v.deserialize::<i128>(), Ok(*i)),
        Data::F64(f) => {
            // Bit for bit: -0.0 stays negative, NaN keeps sign and payload.
            let back = v.deserialize::<f64>().expect("a float");
            assert_eq!(back.to_bits(), f.to_bits(), "{f:?} came back as {back:?}");
        }
        Data::F32(f) => {
            let back = v.deserialize::<f32>().expect("a float");
            assert!(
                back.to_bits() == f.to_bits() || (back.is_nan() && f.is_nan()),
                "{f:?} came back as {back:?}"
            );
        }
        Data::Char(c) => assert_eq!(v.deserialize::<String>(), Ok(c.to_string())),
        Data::Str(t) => assert_eq!(v.deserialize::<String>().as_ref(), Ok(t)),
        Data::Bytes(_) | Data::Array(..) | Data::Map(..) => {
            assert!(v.deserialize::<serde::de::IgnoredAny>().is_ok());
        }
    }
}

// ---------------------------------------------------------------------------
// rotation

/// The input of `rotation`: the verifying keyring, the signing keyring and
/// whether both share the context.
#[derive(Debug, Clone)]
pub struct RotationInput {
    /// Indices into [`KEYS`] added to the verifying ring, primary first
    /// (repeats are refused by `with_fallback` and skipped).
    pub ring: Vec<usize>,
    /// Likewise for the ring that signs the cookie.
    pub signer: Vec<usize>,
    /// Whether the signing codec uses the verifying codec's context.
    pub same_context: bool,
    /// Something to store in the session.
    pub value: u64,
}

impl RotationInput {
    /// Reads an input from fuzzer bytes.
    pub fn from_bytes(data: &[u8]) -> ArbResult<Self> {
        let mut u = Unstructured::new(data);
        let mut pick = |n: usize| -> ArbResult<Vec<usize>> {
            let len = u.int_in_range(1..=n)?;
            (0..len).map(|_| u.choose_index(KEYS.len())).collect()
        };
        let ring = pick(2 * KEYS.len())?;
        let signer = pick(3)?;
        let same_context = u.ratio(7, 8)?;
        let value = u.arbitrary()?;
        Ok(RotationInput {
            ring,
            signer,
            same_context,
            value,
        })
    }
}

/// Target `rotation`.
pub fn rotation(data: &[u8]) {
    if let Ok(input) = RotationInput::from_bytes(data) {
        check_rotation(&input);
    }
}

/// Builds a keyring from indices, checking that `with_fallback` refuses
/// exactly the repeats; returns the distinct indices in ring order.
fn ring_of(indices: &[usize]) -> (Keyring, Vec<usize>) {
    let mut ring = Keyring::new(KEYS[indices[0]].clone());
    let mut present = vec![indices[0]];
    for &i in &indices[1..] {
        match ring.clone().with_fallback(KEYS[i].clone()) {
            Ok(r) => {
                assert!(!present.contains(&i), "a repeated key was accepted");
                ring = r;
                present.push(i);
            }
            Err(e) => {
                assert_eq!(e, cookie_session::KeyError::DuplicateKeyId);
                assert!(present.contains(&i), "a new key was refused");
            }
        }
    }
    assert_eq!(ring.primary().id(), KEYS[indices[0]].id());
    assert_eq!(ring.keys().len(), present.len());
    (ring, present)
}

/// A cookie verifies iff the key that signed it (the signer's primary) is in
/// the ring and the contexts agree; a fallback-signed cookie comes back
/// dirty and is re-issued under the primary; encoding always uses the
/// primary.
pub fn check_rotation(input: &RotationInput) {
    let (ring, present) = ring_of(&input.ring);
    let (signer_ring, _) = ring_of(&input.signer);
    let verifier = SessionCodec::builder(NAME, ring)
        .build()
        .expect("valid configuration");
    let signer = SessionCodec::builder(NAME, signer_ring)
        .context(if input.same_context { "" } else { "other" })
        .build()
        .expect("valid configuration");
    let primary = KEYS[present[0]].id();
    let signing = KEYS[input.signer[0]].id();
    assert_eq!(verifier.primary_key_id(), primary);
    assert_eq!(signer.primary_key_id(), signing);

    let mut s = Session::with_id("rotation-session-id-00");
    s.set("v", input.value).expect("a u64 is a valid value");
    let cookie = signer.encode_at(&s, now()).expect("small session");
    let own = signer
        .verify_at(&cookie, now())
        .expect("own cookie verifies");
    assert_eq!(own.key_id, signing, "encode did not use the primary key");
    assert!(!own.needs_reissue);

    let in_ring = present.contains(&input.signer[0]);
    match verifier.verify_at(&cookie, now()) {
        Ok(v) => {
            assert!(in_ring, "verified with a key not in the ring");
            assert!(input.same_context, "verified across contexts");
            assert_eq!(v.key_id, signing);
            let fallback = signing != primary;
            assert_eq!(v.needs_reissue, fallback);
            assert_eq!(v.session.is_dirty(), fallback);
            assert_eq!(v.session.get::<u64>("v"), Ok(Some(input.value)));
            let saved = verifier.save_at(&v.session, now()).expect("small");
            match saved {
                None => assert!(!fallback, "a fallback-signed cookie not re-issued"),
                Some(set_cookie) => {
                    assert!(fallback, "a clean session was re-issued");
                    let w = verifier
                        .verify_at(set_cookie_value(&set_cookie), now())
                        .expect("re-issued cookie verifies");
                    assert_eq!(w.key_id, primary, "re-issued with a fallback key");
                    assert!(!w.needs_reissue && !w.session.is_dirty());
                    assert_eq!(w.session.get::<u64>("v"), Ok(Some(input.value)));
                }
            }
        }
        Err(DecodeError::UnknownKey) => assert!(!in_ring, "a ring key was unknown"),
        Err(DecodeError::BadSignature) => {
            assert!(in_ring && !input.same_context, "a valid tag refused");
        }
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

/// A session with the given values and outgoing flash, for seeds and
/// tests; panics if the format refuses one of them.
pub fn session_with(id: &str, values: &[(&str, Data)], flash: &[(&str, Data)]) -> Session {
    let mut data = SessionData::default();
    for (k, d) in values {
        data.values
            .insert(*k, Value::from_serialize(d).expect("a valid value"));
    }
    let mut s = Session::from_data(id, data);
    for (k, d) in flash {
        s.flash(*k, d).expect("a valid value");
    }
    s
}
