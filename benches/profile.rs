//! Runs one operation in a loop, for profilers (`perf`, `valgrind
//! --tool=callgrind`), and counts the heap allocations of each operation
//! with a counting global allocator.
//!
//! ```text
//! cargo bench --bench profile -- count
//! cargo bench --bench profile --no-run   # then, with the printed path:
//! valgrind --tool=callgrind target/release/deps/profile-* decode-typical 20000
//! ```

use std::hint::black_box;

mod common;
use common::*;

#[path = "../tests/support/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let op = args.first().map(String::as_str).unwrap_or("count");
    let iters: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);

    let codec = codec();
    let floor = Floor::new(NAME, b"");
    let sessions = [("typical", typical()), ("large", large())];
    let mut ops: Vec<(String, Box<dyn FnMut()>)> = Vec::new();
    for (name, session) in sessions {
        let value = codec.encode_at(&session, now()).unwrap();
        let mut bin = signed_bytes(&codec, &session);
        let header = cookie_header(&value);
        let (c, s) = (codec.clone(), session.clone());
        ops.push((
            format!("encode-{name}"),
            Box::new(move || drop(black_box(c.encode_at(black_box(&s), now()).unwrap()))),
        ));
        let (c, s) = (codec.clone(), session.clone());
        let mut out = String::with_capacity(4096);
        ops.push((
            format!("encode_into-{name}"),
            Box::new(move || {
                out.clear();
                black_box(c.encode_into_at(black_box(&s), now(), &mut out).unwrap());
            }),
        ));
        let (c, v) = (codec.clone(), value.clone());
        ops.push((
            format!("decode-{name}"),
            Box::new(move || drop(black_box(c.decode_at(black_box(&v), now()).unwrap()))),
        ));
        let c = codec.clone();
        ops.push((
            format!("read-{name}"),
            Box::new(move || drop(black_box(c.read_at(black_box(Some(&header)), now())))),
        ));
        let f = Floor::new(NAME, b"");
        ops.push((
            format!("floor_encode-{name}"),
            Box::new(move || drop(black_box(f.encode(black_box(&mut bin))))),
        ));
        let (f, v) = (Floor::new(NAME, b""), value.clone());
        let mut buf = [0u8; 3072];
        ops.push((
            format!("floor_decode-{name}"),
            Box::new(move || {
                black_box(f.decode(black_box(&v), &mut buf));
            }),
        ));
    }
    drop(floor);

    if op == "sizes" {
        for (name, session) in [("typical", typical()), ("large", large())] {
            let value = codec.encode_at(&session, now()).unwrap();
            let payload = value.len() * 3 / 4 - 29 - 32;
            println!(
                "{name}: CBOR payload {payload} bytes, cookie value {} characters",
                value.len()
            );
        }
        return;
    }
    if op == "count" {
        println!("heap allocations per operation (reallocs count as one):");
        for (name, f) in &mut ops {
            f(); // warm up: lazy statics, thread locals
            let ((), usage) = counting_alloc::measure(&mut *f);
            println!("  {name:<22} {}", usage.allocations);
        }
        return;
    }
    let Some((_, f)) = ops.iter_mut().find(|(n, _)| n == op) else {
        eprintln!("unknown op {op}; one of: count {}", {
            let names: Vec<_> = ops.iter().map(|(n, _)| n.as_str()).collect();
            names.join(" ")
        });
        std::process::exit(2);
    };
    for _ in 0..iters {
        f();
    }
}
