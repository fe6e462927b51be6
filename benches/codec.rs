//! Criterion benches of the codec against its physical floor (HMAC-SHA256 +
//! base64url of the same bytes) and its peers. `scripts/bench-report.sh`
//! runs them and prints the table of medians and target ratios.

use std::hint::black_box;
use std::time::Duration;

use cookie_session::{Key, Keyring, Session, SessionCodec};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group};

mod common;
use common::*;

/// The two fixed sessions, by name.
fn sessions() -> [(&'static str, Session); 2] {
    [("typical", typical()), ("large", large())]
}

fn floor(c: &mut Criterion) {
    let codec = codec();
    let floor = Floor::new(NAME, b"");
    let mut g = c.benchmark_group("floor");
    for (name, session) in sessions() {
        let value = codec.encode_at(&session, now()).unwrap();
        let mut bin = signed_bytes(&codec, &session);
        // Honesty check: the floor signs exactly what the codec signs.
        assert_eq!(floor.encode(&mut bin), value, "floor differs from codec");
        // Each floor bench runs right before the codec doing the same job,
        // so the ratios compare neighbours in time on a noisy machine.
        g.bench_function(BenchmarkId::new("encode", name), |b| {
            b.iter(|| floor.encode(black_box(&mut bin)))
        });
        g.bench_function(BenchmarkId::new("codec_encode", name), |b| {
            b.iter(|| codec.encode_at(black_box(&session), now()).unwrap())
        });
        let mut out = String::with_capacity(4096);
        g.bench_function(BenchmarkId::new("encode_into", name), |b| {
            b.iter(|| {
                out.clear();
                floor.encode_into(black_box(&mut bin), &mut out);
            })
        });
        g.bench_function(BenchmarkId::new("codec_encode_into", name), |b| {
            b.iter(|| {
                out.clear();
                codec
                    .encode_into_at(black_box(&session), now(), &mut out)
                    .unwrap()
            })
        });
        let mut buf = [0u8; 3072];
        assert!(floor.decode(&value, &mut buf).is_some());
        g.bench_function(BenchmarkId::new("decode", name), |b| {
            b.iter(|| floor.decode(black_box(&value), &mut buf))
        });
        g.bench_function(BenchmarkId::new("codec_decode", name), |b| {
            b.iter(|| codec.decode_at(black_box(&value), now()).unwrap())
        });
    }
    g.finish();
}

fn codec_group(c: &mut Criterion) {
    let codec = codec();
    // The same codec with a revocation predicate that says no: sessions
    // created before a "valid after" time that an application can move at
    // run time (log everyone out without rotating keys).
    let valid_after = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let revocable = SessionCodec::builder(NAME, Keyring::new(key()))
        .revoked_when(move |v| {
            v.created_at < valid_after.load(std::sync::atomic::Ordering::Relaxed)
        })
        .build()
        .unwrap();
    let mut g = c.benchmark_group("codec");
    for (name, session) in sessions() {
        g.bench_function(BenchmarkId::new("encode", name), |b| {
            b.iter(|| codec.encode_at(black_box(&session), now()).unwrap())
        });
        let mut out = String::with_capacity(4096);
        g.bench_function(BenchmarkId::new("encode_into", name), |b| {
            b.iter(|| {
                out.clear();
                codec
                    .encode_into_at(black_box(&session), now(), &mut out)
                    .unwrap()
            })
        });
        let value = codec.encode_at(&session, now()).unwrap();
        g.bench_function(BenchmarkId::new("decode", name), |b| {
            b.iter(|| codec.decode_at(black_box(&value), now()).unwrap())
        });
        g.bench_function(BenchmarkId::new("decode_revocable", name), |b| {
            b.iter(|| revocable.decode_at(black_box(&value), now()).unwrap())
        });
    }
    let session = typical();
    let header = cookie_header(&codec.encode_at(&session, now()).unwrap());
    assert_eq!(codec.read_at(Some(&header), now()).id(), TYPICAL_ID);
    g.bench_function(BenchmarkId::new("read", "typical"), |b| {
        b.iter(|| codec.read_at(black_box(Some(&header)), now()))
    });
    g.bench_function(BenchmarkId::new("save", "typical"), |b| {
        b.iter(|| codec.save_at(black_box(&session), now()).unwrap())
    });
    g.finish();
}

fn peers(c: &mut Criterion) {
    let codec = codec();
    let jar_key = jar_key();
    let saysion = saysion::SignedCookieStore::new(mac_key()).unwrap();
    let mut g = c.benchmark_group("peers");
    for (name, session, json) in [
        ("typical", typical(), typical_json()),
        ("large", large(), large_json()),
    ] {
        // This crate.
        g.bench_function(BenchmarkId::new("cookie_session_encode", name), |b| {
            b.iter(|| codec.encode_at(black_box(&session), now()).unwrap())
        });
        let value = codec.encode_at(&session, now()).unwrap();
        g.bench_function(BenchmarkId::new("cookie_session_decode", name), |b| {
            b.iter(|| codec.decode_at(black_box(&value), now()).unwrap())
        });

        // The `cookie` crate's SignedJar with a serde_json document, as
        // actix-session, axum-extra, tower-sessions' cookie store and poem
        // use it.
        let signed_json = |json: &JsonSession| {
            let mut jar = cookie::CookieJar::new();
            jar.signed_mut(&jar_key).add(cookie::Cookie::new(
                NAME,
                serde_json::to_string(json).unwrap(),
            ));
            jar.get(NAME).unwrap().value().to_owned()
        };
        g.bench_function(BenchmarkId::new("signed_jar_json_encode", name), |b| {
            b.iter(|| signed_json(black_box(&json)))
        });
        let jar_value = signed_json(&json);
        let jar_decode = |v: &str| {
            let jar = cookie::CookieJar::new();
            let c = jar
                .signed(&jar_key)
                .verify(cookie::Cookie::new(NAME, v.to_owned()))
                .unwrap();
            serde_json::from_str::<JsonSession>(c.value()).unwrap()
        };
        assert_eq!(jar_decode(&jar_value), json);
        g.bench_function(BenchmarkId::new("signed_jar_json_decode", name), |b| {
            b.iter(|| jar_decode(black_box(&jar_value)))
        });

        // saysion's SignedCookieStore (postcard inside, JSON strings for
        // values), driven by a minimal executor. It has no flash: the
        // notice is one more value. Cloning its input happens outside the
        // timed section.
        let mut s = saysion::Session::new();
        for (k, v) in &json.values {
            s.insert(k, v).unwrap();
        }
        for (k, v) in &json.flash {
            s.insert(k, v).unwrap();
        }
        s.expire_in(Duration::from_secs(14 * 86_400));
        g.bench_function(BenchmarkId::new("saysion_encode", name), |b| {
            b.iter_batched(
                || s.clone(),
                |s| pollster::block_on(saysion::SessionStore::store_session(&saysion, s)),
                BatchSize::SmallInput,
            )
        });
        let stored = pollster::block_on(saysion::SessionStore::store_session(&saysion, s.clone()))
            .unwrap()
            .unwrap();
        let loaded = pollster::block_on(saysion::SessionStore::load_session(
            &saysion,
            stored.clone(),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(loaded.len(), s.len());
        g.bench_function(BenchmarkId::new("saysion_decode", name), |b| {
            b.iter_batched(
                || stored.clone(),
                |v| pollster::block_on(saysion::SessionStore::load_session(&saysion, v)),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

/// Format v2 (feature `encrypt`) against v1 and against the `cookie`
/// crate's `PrivateJar` (AES-256-GCM) with the same data as `serde_json`,
/// what axum-extra's `PrivateCookieJar` and actix-session's private cookie
/// store do. Each v2 bench runs right after its v1 neighbour.
#[cfg(feature = "encrypt")]
fn encrypted(c: &mut Criterion) {
    let v1 = codec();
    let v2 = SessionCodec::builder(NAME, Keyring::new(key()))
        .encrypt(true)
        .build()
        .unwrap();
    let jar_key = jar_key();
    let mut g = c.benchmark_group("encrypted");
    for (name, session, json) in [
        ("typical", typical(), typical_json()),
        ("large", large(), large_json()),
    ] {
        g.bench_function(BenchmarkId::new("v1_encode", name), |b| {
            b.iter(|| v1.encode_at(black_box(&session), now()).unwrap())
        });
        g.bench_function(BenchmarkId::new("v2_encode", name), |b| {
            b.iter(|| v2.encode_at(black_box(&session), now()).unwrap())
        });
        let value1 = v1.encode_at(&session, now()).unwrap();
        let value2 = v2.encode_at(&session, now()).unwrap();
        assert_eq!(v2.decode_at(&value2, now()).unwrap().id(), session.id());
        assert!(!v2.verify_at(&value2, now()).unwrap().reissue.other_version);
        g.bench_function(BenchmarkId::new("v1_decode", name), |b| {
            b.iter(|| v1.decode_at(black_box(&value1), now()).unwrap())
        });
        g.bench_function(BenchmarkId::new("v2_decode", name), |b| {
            b.iter(|| v2.decode_at(black_box(&value2), now()).unwrap())
        });

        let private_json = |json: &JsonSession| {
            let mut jar = cookie::CookieJar::new();
            jar.private_mut(&jar_key).add(cookie::Cookie::new(
                NAME,
                serde_json::to_string(json).unwrap(),
            ));
            jar.get(NAME).unwrap().value().to_owned()
        };
        g.bench_function(BenchmarkId::new("private_jar_json_encode", name), |b| {
            b.iter(|| private_json(black_box(&json)))
        });
        let jar_value = private_json(&json);
        let jar_decode = |v: &str| {
            let jar = cookie::CookieJar::new();
            let c = jar
                .private(&jar_key)
                .decrypt(cookie::Cookie::new(NAME, v.to_owned()))
                .unwrap();
            serde_json::from_str::<JsonSession>(c.value()).unwrap()
        };
        assert_eq!(jar_decode(&jar_value), json);
        g.bench_function(BenchmarkId::new("private_jar_json_decode", name), |b| {
            b.iter(|| jar_decode(black_box(&jar_value)))
        });
    }
    g.finish();
}

/// Payload sizes from 64 bytes to the largest that fits a 4096-byte cookie.
pub const SIZES: [usize; 6] = [64, 256, 512, 1024, 2048, 2990];

fn scaling(c: &mut Criterion) {
    let codec = codec();
    let mut g = c.benchmark_group("scaling");
    for size in SIZES {
        let session = sized(size);
        g.throughput(Throughput::Bytes(size as u64));
        let mut out = String::with_capacity(4096);
        g.bench_function(BenchmarkId::new("roundtrip", size), |b| {
            b.iter(|| {
                out.clear();
                codec
                    .encode_into_at(black_box(&session), now(), &mut out)
                    .unwrap();
                codec.decode_at(black_box(&out), now()).unwrap()
            })
        });
    }
    // Cookie signed by the oldest key; rings of 1, 8 and 64 keys where that
    // key is the last fallback (or the only key).
    let keys: Vec<Key> = (0..64)
        .map(|i| {
            Key::from_secret(format!("{}-{i:02}", std::str::from_utf8(SECRET).unwrap()).as_bytes())
                .unwrap()
        })
        .collect();
    let oldest = SessionCodec::builder(NAME, Keyring::new(keys[0].clone()))
        .build()
        .unwrap();
    let value = oldest.encode_at(&typical(), now()).unwrap();
    g.throughput(Throughput::Elements(1));
    for n in [1usize, 8, 64] {
        let mut ring = Keyring::new(keys[n - 1].clone());
        for k in keys[..n - 1].iter().rev() {
            ring = ring.with_fallback(k.clone()).unwrap();
        }
        let codec = SessionCodec::builder(NAME, ring).build().unwrap();
        assert_eq!(codec.decode_at(&value, now()).unwrap().id(), TYPICAL_ID);
        g.bench_function(BenchmarkId::new("keyring", n), |b| {
            b.iter(|| codec.decode_at(black_box(&value), now()).unwrap())
        });
    }
    g.finish();
}

fn typed(c: &mut Criterion) {
    let mut g = c.benchmark_group("typed");
    let mut session = typical();
    session.set("prefs", prefs()).unwrap();
    g.bench_function(BenchmarkId::new("get", "prefs"), |b| {
        b.iter(|| black_box(&session).get::<Prefs>("prefs").unwrap().unwrap())
    });
    g.bench_function(BenchmarkId::new("get", "u64"), |b| {
        b.iter(|| black_box(&session).get::<u64>("user_id").unwrap().unwrap())
    });
    let p = prefs();
    g.bench_function(BenchmarkId::new("set", "prefs"), |b| {
        b.iter(|| session.set("prefs", black_box(&p)).unwrap())
    });
    g.bench_function(BenchmarkId::new("set", "u64"), |b| {
        b.iter(|| session.set("user_id", black_box(1_048_576_042u64)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, floor, codec_group, peers, scaling, typed);
#[cfg(feature = "encrypt")]
criterion_group!(encrypted_benches, encrypted);

fn main() {
    benches();
    #[cfg(feature = "encrypt")]
    encrypted_benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
