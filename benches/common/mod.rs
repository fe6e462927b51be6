//! The fixed sessions, keys and reference implementations shared by the
//! benches (and by the allocation test, which includes this file too).
//!
//! Everything here is deterministic: fixed secret, fixed ids, fixed clock.

#![allow(dead_code)]

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie_session::{Key, Keyring, Session, SessionCodec};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;

/// The cookie name every bench uses.
pub const NAME: &str = "__Host-session";

/// The secret of the signing key (43 characters, as `keygen` prints them).
pub const SECRET: &[u8] = b"xG4Yt0oW3H1vD9nC6bR2aQ8zL5mK7jP0sE4uF1iT3yN";

/// The fixed clock: 2025-10-09T08:53:20Z.
pub const NOW: i64 = 1_760_000_000;

pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW).unwrap()
}

pub fn key() -> Key {
    Key::from_secret(SECRET).unwrap()
}

/// The codec with default settings and the one key.
pub fn codec() -> SessionCodec {
    SessionCodec::builder(NAME, Keyring::new(key()))
        .build()
        .unwrap()
}

pub const TYPICAL_ID: &str = "Q2h4bGd1c3VhV2Fuc3dlcg";
pub const CSRF: &str = "Zm9vYmFyYmF6cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2F";
pub const NOTICE: &str = "Profile updated successfully";

/// The typical session: a signed-in user with a flash notice for the next
/// request.
pub fn typical() -> Session {
    let mut s = Session::with_id(TYPICAL_ID);
    for (k, v) in typical_values() {
        s.set(k, v).unwrap();
    }
    s.flash("notice", NOTICE).unwrap();
    s
}

/// The values of the typical session, as JSON (what the peers store).
pub fn typical_values() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("user_id", serde_json::json!(1_048_576_042u64)),
        ("username", serde_json::json!("alice@example.com")),
        ("roles", serde_json::json!(["admin", "editor"])),
        ("csrf", serde_json::json!(CSRF)),
        ("theme", serde_json::json!("dark")),
        ("created_at", serde_json::json!(1_759_990_000u64)),
    ]
}

pub const LARGE_ID: &str = "TGFyZ2VTZXNzaW9uSWQwMQ";

/// 34 strings of 58 characters: the largest realistic session under the
/// 4096-byte limit.
pub fn large_values() -> Vec<(String, serde_json::Value)> {
    (0..34)
        .map(|i| {
            let v: String = (0..58)
                .map(|j| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[(i * 7 + j) % 36]))
                .collect();
            (format!("item_{i:02}"), serde_json::json!(v))
        })
        .collect()
}

pub fn large() -> Session {
    let mut s = Session::with_id(LARGE_ID);
    for (k, v) in large_values() {
        s.set(k, v).unwrap();
    }
    s
}

/// A session whose CBOR payload is exactly `payload_len` bytes (at least
/// 32): the id and one byte-string value padded to size.
pub fn sized(payload_len: usize) -> Session {
    // [id, {"blob": h'...'}, {}]: 1 + 23 + 1 + 5 + head + n + 1
    let fixed = 1 + 23 + 1 + 5 + 1;
    let body = payload_len - fixed;
    let head = match body {
        0..=23 => 1,
        24..=0xff => 2,
        _ => 3,
    };
    let mut n = body - head;
    // Shrinking n may shorten the head; settle on the exact size.
    while n + cbor_head_len(n) != body {
        n -= 1;
    }
    let mut values = cookie_session::ValueMap::new();
    values.insert("blob", byte_string(n));
    let flash = cookie_session::ValueMap::new();
    Session::from_data(TYPICAL_ID, cookie_session::SessionData { values, flash })
}

fn cbor_head_len(n: usize) -> usize {
    match n {
        0..=23 => 1,
        24..=0xff => 2,
        _ => 3,
    }
}

/// A byte string (CBOR major type 2) of `n` bytes.
fn byte_string(n: usize) -> cookie_session::Value {
    let mut cbor = Vec::with_capacity(n + 3);
    match n {
        0..=23 => cbor.push(0x40 | n as u8),
        24..=0xff => cbor.extend([0x58, n as u8]),
        _ => cbor.extend([0x59, (n >> 8) as u8, n as u8]),
    }
    cbor.extend((0..n).map(|i| (i * 31 % 251) as u8));
    cookie_session::Value::from_cbor(&cbor).unwrap()
}

/// A `Cookie` header as browsers send it: analytics, preferences and a CSRF
/// cookie around the session cookie.
pub fn cookie_header(session_value: &str) -> String {
    format!(
        "_ga=GA1.1.1234567890.1759990000; _gid=GA1.1.987654321.1759990000; \
         theme=dark; lang=en-GB; {NAME}={session_value}; \
         csrftoken={CSRF}; _fbp=fb.1.1759990000000.1234567890"
    )
}

/// The MAC key the codec derives from [`SECRET`] (HKDF-SHA256, as
/// `docs/FORMAT.md` specifies).
/// A 64-byte key for the `cookie` crate's `SignedJar` (it signs with the
/// first 32 bytes).
pub fn jar_key() -> cookie::Key {
    let mut k = [0u8; 64];
    k[..32].copy_from_slice(&mac_key());
    k[32..].copy_from_slice(&mac_key());
    cookie::Key::from(&k)
}

pub fn mac_key() -> [u8; 32] {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"cookie-session/v1"), SECRET);
    let mut k = [0u8; 32];
    hk.expand(b"cookie-session/v1 hmac-sha256 key", &mut k)
        .unwrap();
    k
}

/// The physical floor: HMAC-SHA256 of exactly the bytes the codec signs
/// (its keyed state prepared once, with the length-prefixed label, cookie
/// name and context absorbed, as the codec prepares its own), and base64url
/// of the signed value.
pub struct Floor {
    mac: Hmac<Sha256>,
}

impl Floor {
    pub fn new(cookie_name: &str, context: &[u8]) -> Floor {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&mac_key()).unwrap();
        mac.update(&4u64.to_le_bytes());
        for piece in [&b"cookie-session/v1"[..], cookie_name.as_bytes(), context] {
            mac.update(&(piece.len() as u64).to_le_bytes());
            mac.update(piece);
        }
        Floor { mac }
    }

    fn mac_of(&self, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(&(body.len() as u64).to_le_bytes());
        mac.update(body);
        mac
    }

    /// Signs `bin[..len - 32]` into `bin[len - 32..]` and appends the
    /// base64url of `bin` to `out`.
    pub fn encode_into(&self, bin: &mut [u8], out: &mut String) {
        let body_len = bin.len() - 32;
        let tag = self.mac_of(&bin[..body_len]).finalize().into_bytes();
        bin[body_len..].copy_from_slice(&tag);
        URL_SAFE_NO_PAD.encode_string(&*bin, out);
    }

    /// Like [`encode_into`](Self::encode_into), into a new `String` (what
    /// `SessionCodec::encode` returns).
    pub fn encode(&self, bin: &mut [u8]) -> String {
        let mut out = String::with_capacity((bin.len() * 4).div_ceil(3));
        self.encode_into(bin, &mut out);
        out
    }

    /// base64url-decodes `value` into `buf` and verifies its tag; returns
    /// the signed body's length.
    pub fn decode(&self, value: &str, buf: &mut [u8]) -> Option<usize> {
        let n = URL_SAFE_NO_PAD.decode_slice(value, buf).ok()?;
        let body_len = n.checked_sub(32)?;
        self.mac_of(&buf[..body_len])
            .verify_slice(&buf[body_len..n])
            .ok()?;
        Some(body_len)
    }
}

/// The binary value the codec signs for `session` at [`now`], tag
/// included (zeroed here: the floor computes it).
pub fn signed_bytes(codec: &SessionCodec, session: &Session) -> Vec<u8> {
    let value = codec.encode_at(session, now()).unwrap();
    let mut bin = URL_SAFE_NO_PAD.decode(value).unwrap();
    let n = bin.len();
    bin[n - 32..].fill(0);
    bin
}

/// The same data as a JSON document, as JSON-cookie stores keep it.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct JsonSession {
    pub id: String,
    pub values: HashMap<String, serde_json::Value>,
    pub flash: HashMap<String, serde_json::Value>,
    pub expires_at: u64,
}

pub fn typical_json() -> JsonSession {
    JsonSession {
        id: TYPICAL_ID.into(),
        values: typical_values()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        flash: [("notice".to_owned(), serde_json::json!(NOTICE))].into(),
        expires_at: NOW as u64 + 14 * 86_400,
    }
}

pub fn large_json() -> JsonSession {
    JsonSession {
        id: LARGE_ID.into(),
        values: large_values().into_iter().collect(),
        flash: HashMap::new(),
        expires_at: NOW as u64 + 14 * 86_400,
    }
}

/// A small struct for the typed `get`/`set` benches.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Prefs {
    pub theme: String,
    pub language: String,
    pub tz_offset_minutes: i16,
    pub beta: bool,
}

pub fn prefs() -> Prefs {
    Prefs {
        theme: "dark".into(),
        language: "en-GB".into(),
        tz_offset_minutes: 60,
        beta: true,
    }
}
