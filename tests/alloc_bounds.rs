//! Peak heap use while decoding hostile input stays bounded (security.md
//! §4.8, §4.11): measured with a counting global allocator, per thread.

use cookie_session::{DecodeError, Key, Keyring, PayloadError, SessionCodec};
use time::OffsetDateTime;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

/// Peak bytes allocated on this thread while `f` runs.
fn peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let (out, usage) = counting_alloc::measure(f);
    (out, usage.peak_bytes)
}

fn codec() -> SessionCodec {
    let key = Key::from_secret(b"o7LN2UoyX9YyirZAksgfJLetAXMqUAeV").unwrap();
    SessionCodec::builder("session", Keyring::new(key))
        .build()
        .unwrap()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap()
}

#[test]
fn oversize_input_is_refused_without_allocating() {
    let c = codec();
    let huge = "A".repeat(1 << 20);
    let (r, bytes) = peak(|| c.decode_at(&huge, now()));
    assert!(matches!(r, Err(DecodeError::TooLarge { .. })));
    assert_eq!(bytes, 0);
    let header = format!("session={huge}; other=1");
    let (s, bytes) = peak(|| c.read_at(Some(&header), now()));
    assert!(s.is_empty());
    // The fresh session's id is all that is allocated.
    assert!(bytes < 256, "{bytes}");
}

#[test]
fn length_and_depth_bombs_behind_a_valid_mac_stay_small() {
    let c = codec();
    let t = now().unix_timestamp() as u64;
    let bombs: [(&[u8], PayloadError); 3] = [
        // ["", {"k": array of 2^32-1 items}, {}]
        (
            &[
                0x83, 0x60, 0xa1, 0x61, b'k', 0x9a, 0xff, 0xff, 0xff, 0xff, 0xa0,
            ],
            PayloadError::LengthOverflow,
        ),
        // a byte string claiming 2^64-1 bytes
        (
            &[
                0x83, 0x60, 0xa1, 0x61, b'k', 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xa0,
            ],
            PayloadError::LengthOverflow,
        ),
        // a map claiming 2^32-1 pairs at the top level
        (
            &[0x83, 0x60, 0xba, 0xff, 0xff, 0xff, 0xff, 0xa0],
            PayloadError::LengthOverflow,
        ),
    ];
    for (payload, want) in bombs {
        let cookie = c.sign_raw_payload(payload, t, t + 60, t);
        let (r, bytes) = peak(|| c.decode_at(&cookie, now()));
        assert_eq!(r.unwrap_err(), DecodeError::Payload(want));
        assert!(bytes < 4096, "{bytes} bytes for {payload:02x?}");
    }
    let mut deep = vec![0x83, 0x60, 0xa1, 0x61, b'k'];
    deep.extend(std::iter::repeat_n(0x81, 2500));
    deep.extend([0x00, 0xa0]);
    let cookie = c.sign_raw_payload(&deep, t, t + 60, t);
    let (r, bytes) = peak(|| c.decode_at(&cookie, now()));
    assert_eq!(r.unwrap_err(), DecodeError::Payload(PayloadError::TooDeep));
    assert!(bytes <= 2 * cookie.len(), "{bytes}");
}

#[test]
fn the_worst_case_payload_stays_linear() {
    // As many entries as fit: empty-ish keys and one-byte values, the most
    // entries per payload byte.
    let c = codec();
    let t = now().unix_timestamp() as u64;
    let n: u16 = 700;
    let mut p = vec![0x83, 0x60, 0xb9];
    p.extend_from_slice(&n.to_be_bytes());
    for i in 0..n {
        p.extend_from_slice(&[0x62, b'a' + (i / 64) as u8, b'0' + (i % 64) as u8, 0x00]);
    }
    p.push(0xa0);
    let cookie = c.sign_raw_payload(&p, t, t + 60, t);
    let (r, bytes) = peak(|| c.decode_at(&cookie, now()));
    let s = r.unwrap();
    assert_eq!(s.len(), n as usize);
    assert!(
        bytes <= 24 * p.len() + 256,
        "{bytes} bytes for {} payload bytes",
        p.len()
    );
}

#[test]
fn a_valid_cookie_decodes_within_a_small_multiple_of_its_size() {
    let c = codec();
    let mut s = cookie_session::Session::new();
    for i in 0..20 {
        s.set(format!("key{i}"), format!("value number {i}"))
            .unwrap();
    }
    let cookie = c.encode_at(&s, now()).unwrap();
    let (r, bytes) = peak(|| c.decode_at(&cookie, now()));
    let decoded = r.unwrap();
    assert_eq!(decoded.len(), 20);
    // One copy of the payload, plus two 24-byte handles per entry.
    let bound = cookie.len() + 48 * decoded.len() + 128;
    assert!(
        bytes <= bound,
        "{bytes} bytes for a {}-byte cookie",
        cookie.len()
    );
}
