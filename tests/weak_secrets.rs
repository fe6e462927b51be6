//! `Key::from_secret` refuses secrets that are plainly not random (periodic,
//! or of low estimated entropy), names the rule that failed without showing
//! the secret, and never refuses a random secret.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cookie_session::{__estimated_secret_bits as estimated_bits, Key, KeyError};

/// Fails with the error's text checked: it must not show the secret.
fn refused(secret: &[u8]) -> KeyError {
    let e = match Key::from_secret(secret) {
        Ok(k) => panic!("accepted {:?} ({k:?})", String::from_utf8_lossy(secret)),
        Err(e) => e,
    };
    let text = format!("{e} {e:?}");
    // No run of 8 bytes of the secret shows up in the message.
    for w in secret.windows(8) {
        if let Ok(w) = std::str::from_utf8(w) {
            assert!(!text.contains(w), "{text:?} shows {w:?}");
        }
    }
    e
}

/// The threshold of the estimate, as the library reports it.
fn threshold() -> f64 {
    match refused(b"0123456789abcdefghijklmnopqrstuvwxyz") {
        KeyError::LowEstimatedEntropy { min, .. } => f64::from(min),
        e => panic!("{e:?}"),
    }
}

#[test]
fn repeated_passwords_are_refused_as_periodic() {
    for (secret, period) in [
        (&b"password1password1password1password1"[..], 9),
        (b"changeme-changeme-changeme-changeme", 9), // last repetition cut short
        (b"12345678123456781234567812345678", 8),
        (b"Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3Tr0u", 11),
        (
            b"correct horse battery staple correct horse battery staple corr",
            29,
        ),
    ] {
        assert_eq!(
            refused(secret),
            KeyError::Periodic { period },
            "{}",
            String::from_utf8_lossy(secret)
        );
    }
    // Two random halves repeated: 128 bits, but still a repetition.
    let mut half = [0u8; 16];
    getrandom::fill(&mut half).unwrap();
    let twice = [half, half].concat();
    assert_eq!(refused(&twice), KeyError::Periodic { period: 16 });
    let e = refused(b"password1password1password1password1");
    assert_eq!(
        e.to_string(),
        "secret is a 9-byte string repeated, not a random key"
    );
}

#[test]
fn not_quite_periodic_secrets_are_judged_by_the_estimate() {
    // One full period plus a part is not a repetition.
    assert!(Key::from_secret(b"q8Vn2KxR7mWp4ZtY9bLc3HsJ6fDg1AeN q8Vn2KxR7").is_ok());
    // A repetition broken at the end passes the periodicity rule but not
    // the estimate when it is made of few symbols.
    assert!(matches!(
        refused(b"1234567812345678123456781234567X"),
        KeyError::LowEstimatedEntropy { .. }
    ));
}

#[test]
fn runs_and_skewed_secrets_are_refused_as_low_entropy() {
    let min = threshold();
    assert!((96.0..128.0).contains(&min), "{min}");
    let step7: Vec<u8> = (0..32u8)
        .map(|i| i.wrapping_mul(7).wrapping_add(3))
        .collect();
    let down: Vec<u8> = (0..48u8).map(|i| 200 - i).collect();
    let cases: [&[u8]; 7] = [
        b"0123456789abcdefghijklmnopqrstuv",
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabcdefgh",
        b"0000000000000000000000000000000000000012345678",
        b"111122223333444455556666777788889999",
        &step7,
        &down,
    ];
    for secret in cases {
        match refused(secret) {
            KeyError::LowEstimatedEntropy { bits, min: m } => {
                assert_eq!(f64::from(m), min);
                assert!(bits < m);
                assert_eq!(bits, estimated_bits(secret) as u32);
            }
            e => panic!("{}: {e:?}", String::from_utf8_lossy(secret)),
        }
    }
    let e = refused(b"0123456789abcdefghijklmnopqrstuv");
    assert!(
        e.to_string()
            .starts_with("secret looks too predictable to be a random key: about "),
        "{e}"
    );
    assert!(
        e.to_string()
            .ends_with(" bits of estimated entropy, need 100"),
        "{e}"
    );
}

#[test]
fn the_older_rules_come_first() {
    assert_eq!(
        refused(b"password1password1"),
        KeyError::TooShort { len: 18, min: 32 }
    );
    assert_eq!(refused(&b"ab".repeat(32)), KeyError::LowEntropy);
    assert_eq!(refused(&[0x41; 40]), KeyError::LowEntropy);
}

/// Every fixed secret of the repository's tests, examples, benches, fuzz
/// targets and published vectors still makes a key.
#[test]
fn the_repository_fixture_secrets_are_accepted() {
    for secret in [
        // tests/vectors/*.json and tests/vectors/verify.py: a published format.
        "vector secret A: 0123456789abcdefghijklmnop",
        "vector secret B: qrstuvwxyzABCDEFGHIJKLMNOP",
        // Documentation examples.
        "a 32+ byte secret from your config store!",
        "the previous secret, still trusted!!",
        "the new secret, which signs from now",
        "xG4Yt0oW3H1vD9nC6bR2aQ8zL5mK7jP0sE4uF1iT3yN",
        // Tests, benches and fuzzing.
        "another secret, 32 bytes or more!!",
        "a third secret, at least 32 bytes",
        "first secret for the middleware tests!!",
        "second secret for the middleware tests!",
        "load test secret, not for production",
        "fuzz key 0 - public test secret, not for use",
        "old-secret: 7hQ2nV9xKp4LmZ8wR3tY6uB1cE5fG0jD",
        "new-secret: Xa9Lq2Wm7Np4Rt8Vz3Bc6Df1Gh5Jk0Ms",
        "other-secret: Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0X",
        "rotation secret #0 padded to 32 bytes!!\u{5}",
    ] {
        assert!(
            Key::from_secret(secret.as_bytes()).is_ok(),
            "{secret}: {}",
            estimated_bits(secret.as_bytes())
        );
    }
}

/// The estimate of random secrets keeps a wide margin above the threshold,
/// so a random secret is never refused.
#[test]
fn random_secrets_are_never_refused() {
    const N: usize = 5_000;
    let min = threshold();
    type Encode = fn(&[u8; 32]) -> Vec<u8>;
    let forms: [(&str, Encode); 5] = [
        ("32 raw bytes", |b| b.to_vec()),
        ("64 hex digits", |b| {
            b.iter()
                .map(|x| format!("{x:02x}"))
                .collect::<String>()
                .into_bytes()
        }),
        ("64 upper-case hex digits", |b| {
            b.iter()
                .map(|x| format!("{x:02X}"))
                .collect::<String>()
                .into_bytes()
        }),
        ("43 base64url characters", |b| {
            URL_SAFE_NO_PAD.encode(b).into_bytes()
        }),
        ("44 padded base64 characters", |b| {
            STANDARD.encode(b).into_bytes()
        }),
    ];
    for (form, encode) in forms {
        let mut lowest = f64::INFINITY;
        let mut sum = 0.0;
        for _ in 0..N {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).unwrap();
            let secret = encode(&bytes);
            if let Err(e) = Key::from_secret(&secret) {
                panic!("{form}: a random secret was refused: {e}");
            }
            let bits = estimated_bits(&secret);
            lowest = lowest.min(bits);
            sum += bits;
        }
        let mean = sum / N as f64;
        println!("{form}: lowest estimate {lowest:.1} bits, mean {mean:.1}, threshold {min}");
        // The lowest of 5,000 estimates of 32 random bytes is about 137 bits
        // (about 134 in 200,000; mean 150, standard deviation 2.5); the text
        // forms score far higher. Ask for 20 bits to spare: an estimate of
        // 32 random bytes below 120 needs some 17 colliding pairs among 31
        // differences, where 2 are expected.
        assert!(
            lowest >= min + 20.0,
            "{form}: lowest estimate {lowest:.1} bits is too close to {min}"
        );
    }
}

#[test]
fn generated_secrets_are_accepted() {
    for _ in 0..1_000 {
        let s = Key::generate_secret();
        assert!(Key::from_secret(s.as_bytes()).is_ok());
    }
}
