//! Counts the heap allocations of decoding and encoding the typical session
//! (a counting global allocator; per thread, so parallel tests do not
//! disturb the count).

#[path = "../benches/common/mod.rs"]
mod common;
use common::*;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

fn count<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let (out, usage) = counting_alloc::measure(f);
    (usage.allocations, out)
}

#[test]
fn decoding_the_typical_session_allocates_a_handful_of_times() {
    let codec = codec();
    let value = codec.encode_at(&typical(), now()).unwrap();
    codec.decode_at(&value, now()).unwrap(); // warm up lazy statics
    let (n, session) = count(|| codec.decode_at(&value, now()).unwrap());
    println!("allocations per decode of the typical session: {n}");
    // One copy of the cookie with its span tables, shared by both maps;
    // the id is inline.
    assert!(n <= 1, "{n} allocations");
    // Reading a value later makes the map's values, once.
    let (n, user) = count(|| session.get::<String>("username").unwrap());
    assert_eq!(user.as_deref(), Some("alice@example.com"));
    assert!(n <= 3, "{n} allocations for the first get");
}

#[test]
fn encoding_into_a_reused_buffer_allocates_nothing() {
    let codec = codec();
    let session = typical();
    let mut out = String::with_capacity(4096);
    codec.encode_into_at(&session, now(), &mut out).unwrap();
    let (n, _) = count(|| {
        out.clear();
        codec.encode_into_at(&session, now(), &mut out).unwrap()
    });
    assert_eq!(n, 0);
    assert_eq!(out, codec.encode_at(&session, now()).unwrap());
}

/// Format v2 allocates exactly as v1 does: the plaintext is decrypted in
/// the stack buffer, and the nonce comes from the OS without a heap.
#[cfg(feature = "encrypt")]
#[test]
fn encrypted_cookies_allocate_as_signed_ones_do() {
    let codec = cookie_session::SessionCodec::builder(NAME, cookie_session::Keyring::new(key()))
        .encrypt(true)
        .build()
        .unwrap();
    let session = typical();
    let value = codec.encode_at(&session, now()).unwrap();
    codec.decode_at(&value, now()).unwrap();
    let (n, decoded) = count(|| codec.decode_at(&value, now()).unwrap());
    assert!(n <= 1, "{n} allocations per v2 decode");
    assert_eq!(decoded.id(), TYPICAL_ID);
    let mut out = String::with_capacity(4096);
    codec.encode_into_at(&session, now(), &mut out).unwrap();
    let (n, _) = count(|| {
        out.clear();
        codec.encode_into_at(&session, now(), &mut out).unwrap()
    });
    assert_eq!(n, 0, "allocations per v2 encode_into");
}
