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
