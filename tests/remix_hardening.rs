//! Hardening of the `remix` feature:
//!
//! - cookie names are matched exactly: a name padded with Unicode white
//!   space (a different cookie for the browser, which any subdomain may
//!   set) never reads as a `__Host-` / `__Secure-` cookie;
//! - `serialize_str` refuses strings that would read as a session;
//! - parsing a `Cookie` header takes memory linear in it, with a small
//!   constant, and nothing past the 64 KiB cap;
//! - at most `MAX_SECRETS` secrets, and only the canonical spelling of a
//!   signature verifies.

use cookie_session::remix::{MAX_SECRETS, MigratingCodec, RemixCodec, RemixFormat, Write};
use cookie_session::{ConfigError, EncodeError, Key, Keyring, Session, SessionCodec};
use time::OffsetDateTime;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

const FORMATS: [RemixFormat; 2] = [RemixFormat::Remix3, RemixFormat::ReactRouter];

fn codec(name: &str, format: RemixFormat, secrets: &[&str]) -> RemixCodec {
    RemixCodec::builder(name, format)
        .secrets(secrets)
        .build()
        .unwrap()
}

fn v1(name: &str) -> SessionCodec {
    let key = Key::from_secret(b"k7Qz2mWv9pXr4tLs8nYb3cHd6fJg1aEu5iOw").unwrap();
    SessionCodec::builder(name, Keyring::new(key))
        .build()
        .unwrap()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

/// The cookie value (as sent in the header) of a session whose `user` is
/// `user`.
fn cookie_value(c: &RemixCodec, user: &str) -> String {
    let mut s = c.read(None);
    s.set("user", user).unwrap();
    let set_cookie = c.save(&s).unwrap().unwrap();
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}

fn user(s: &Session) -> Option<String> {
    s.get::<String>("user").unwrap()
}

/// Every character Rust calls white space, and U+FEFF, which JavaScript's
/// `trim` and `\s` strip too; minus SP and HTAB, the RFC 6265 separators.
fn spoofing_spaces() -> Vec<char> {
    let mut all: Vec<char> = (0..=0x10FFFF)
        .filter_map(char::from_u32)
        .filter(|c| c.is_whitespace())
        .collect();
    assert!(all.len() >= 25, "{}", all.len());
    all.push('\u{feff}');
    all.retain(|&c| c != ' ' && c != '\t');
    all
}

// --- 1. Names are matched exactly -----------------------------------------------

#[test]
fn names_padded_with_unicode_white_space_are_other_cookies() {
    let spaces = spoofing_spaces();
    for name in ["__Host-sid", "__Secure-sid"] {
        for format in FORMATS {
            let legacy = codec(name, format, &["secret1"]);
            let migrating =
                MigratingCodec::new(v1(name), legacy.clone(), Write::CookieSession).unwrap();
            // The attacker's own valid session, planted under a look-alike
            // name; the victim's under the real one.
            let evil = cookie_value(&legacy, "mallory");
            let good = cookie_value(&legacy, "alice");
            for &c in &spaces {
                for spoof in [format!("{c}{name}"), format!("{name}{c}")] {
                    let what = format!("{format:?} {name} U+{:04X} {spoof:?}", c as u32);
                    let alone = format!("{spoof}={evil}");
                    let first = format!("{spoof}={evil}; {name}={good}");
                    let glued = format!("{spoof}={evil};{name}={good}");

                    assert!(legacy.try_read(Some(&alone)).is_none(), "{what}");
                    assert!(legacy.read(Some(&alone)).is_empty(), "{what}");
                    assert!(
                        migrating.try_read_at(Some(&alone), now()).is_none(),
                        "{what}"
                    );
                    assert!(migrating.read_at(Some(&alone), now()).is_empty(), "{what}");

                    for header in [&first, &glued] {
                        let s = legacy.try_read(Some(header)).expect(&what);
                        assert_eq!(user(&s).as_deref(), Some("alice"), "{what}");
                        let s = legacy.read(Some(header));
                        assert_eq!(user(&s).as_deref(), Some("alice"), "{what}");
                        let (s, _) = migrating.try_read_at(Some(header), now()).expect(&what);
                        assert_eq!(user(&s).as_deref(), Some("alice"), "{what}");
                        let s = migrating.read_at(Some(header), now());
                        assert_eq!(user(&s).as_deref(), Some("alice"), "{what}");
                    }
                    // `parse_str` uses the same parsers.
                    assert_eq!(legacy.parse_str(Some(&alone)), None, "{what}");
                }
            }
        }
    }
}

#[test]
fn v1_cookies_under_padded_names_are_not_read_either() {
    // The migrating codec reads v1 first: its parser must match exactly too.
    let name = "__Host-sid";
    let current = v1(name);
    let legacy = codec(name, RemixFormat::Remix3, &["secret1"]);
    let m = MigratingCodec::new(current.clone(), legacy, Write::CookieSession).unwrap();
    let value = |who: &str| {
        let mut s = current.read_at(None, now());
        s.set("user", who).unwrap();
        let set_cookie = current.save_at(&s, now()).unwrap().unwrap();
        let pair = set_cookie.split(';').next().unwrap().to_owned();
        pair.split_once('=').unwrap().1.to_owned()
    };
    let (evil, good) = (value("mallory"), value("alice"));
    for c in spoofing_spaces() {
        for spoof in [format!("{c}{name}"), format!("{name}{c}")] {
            let what = format!("U+{:04X}", c as u32);
            let alone = format!("{spoof}={evil}");
            assert!(current.read_at(Some(&alone), now()).is_empty(), "{what}");
            assert!(m.try_read_at(Some(&alone), now()).is_none(), "{what}");
            let first = format!("{spoof}={evil}; {name}={good}");
            let s = m.read_at(Some(&first), now());
            assert_eq!(user(&s).as_deref(), Some("alice"), "{what}");
            let s = current.read_at(Some(&first), now());
            assert_eq!(user(&s).as_deref(), Some("alice"), "{what}");
        }
    }
    let tabbed = format!("a=1;\t{name} \t={good}");
    assert_eq!(
        user(&m.read_at(Some(&tabbed), now())).as_deref(),
        Some("alice")
    );
}

#[test]
fn ordinary_separators_still_work() {
    for format in FORMATS {
        let c = codec("__Host-sid", format, &["secret1"]);
        let good = cookie_value(&c, "alice");
        for header in [
            format!("__Host-sid={good}"),
            format!("a=1; __Host-sid={good}"),
            format!("a=1;__Host-sid={good}"),
            format!("a=1;\t__Host-sid={good}"),
            format!("a=1; \t __Host-sid \t={good}; b=2"),
            format!("theme=dark; __Host-sid={good}; lang=en"),
        ] {
            let s = c.try_read(Some(&header)).expect(&header);
            assert_eq!(user(&s).as_deref(), Some("alice"), "{format:?} {header:?}");
        }
        // Names are case-sensitive and never prefix-matched.
        for header in [
            format!("__host-sid={good}"),
            format!("__Host-sidx={good}"),
            format!("x__Host-sid={good}"),
            format!("__Host-si={good}"),
        ] {
            assert!(c.try_read(Some(&header)).is_none(), "{format:?} {header:?}");
        }
    }
}

// --- 2. serialize_str never signs a session ------------------------------------------

/// A Remix 3 `Cookie` pair for `text`, signed as `@remix-run/cookie` signs
/// it, without the check of `serialize_str`.
fn sign_remix3(secret: &str, name: &str, text: &str) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    use hmac::{KeyInit, Mac};
    let encoded = STANDARD.encode(text);
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(encoded.as_bytes());
    let tag = STANDARD_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{name}={encoded}.{tag}")
}

const SESSION_SHAPED: &[&str] = &[
    r#"{"i":"x","d":[{"user":"admin"},{}]}"#,
    r#"{"d":[{"user":"admin"}]}"#,
    r#"{"i":"x"}"#,
    r#"{}"#,
    r#"{"user":"admin"}"#,
    r#"{"__flash_notice__":"hi"}"#,
    r#"{"i":5,"d":[{},{}]}"#,
    " {\"user\":\"admin\"}\n",
    r#"{"a":1,"a":2}"#,
];

#[test]
fn forging_with_serialize_str_would_have_worked() {
    // Why the check exists: the same secrets, a hand-signed JSON session,
    // and the migrating codec upgrades it to a genuine v1 cookie.
    let legacy = codec("__session", RemixFormat::Remix3, &["secret1"]);
    let current = v1("__session");
    let m = MigratingCodec::new(current.clone(), legacy, Write::CookieSession).unwrap();
    let forged = sign_remix3("secret1", "__session", SESSION_SHAPED[0]);
    let s = m.read_at(Some(&forged), now());
    assert_eq!(user(&s).as_deref(), Some("admin"));
    let upgraded = m.save_at(&s, now()).unwrap().unwrap();
    let pair = upgraded.split(';').next().unwrap();
    assert_eq!(
        user(&current.read_at(Some(pair), now())).as_deref(),
        Some("admin")
    );
}

#[test]
fn serialize_str_refuses_session_shaped_strings() {
    for format in FORMATS {
        let other = codec("prefs", RemixFormat::Remix3, &["secret1"]);
        let other = match format {
            RemixFormat::Remix3 => other,
            _ => codec("prefs", format, &["secret1"]),
        };
        for text in SESSION_SHAPED {
            match (format, other.serialize_str(text)) {
                (RemixFormat::Remix3, Err(EncodeError::ReadsAsSession)) => {}
                // React Router signs the JSON *string* of the text, which
                // is no session in either format: allowed.
                (RemixFormat::ReactRouter, Ok(_)) => {}
                (f, r) => panic!("{f:?} {text:?}: {r:?}"),
            }
        }
    }
    let e = EncodeError::ReadsAsSession.to_string();
    assert!(e.contains("own secrets"), "{e}");
}

#[test]
fn what_serialize_str_signs_never_reads_as_a_session() {
    let mut texts: Vec<String> = SESSION_SHAPED.iter().map(|s| s.to_string()).collect();
    texts.extend(
        [
            "hello",
            "null",
            "5",
            "[1,2]",
            "\"a string\"",
            "[{\"user\":\"admin\"},{}]",
            "{\"user\":",
            "\u{feff}{\"user\":\"admin\"}",
            "日本語",
        ]
        .map(String::from),
    );
    for signer_format in FORMATS {
        let signer = codec("__session", signer_format, &["secret1"]);
        for text in &texts {
            let Ok(set_cookie) = signer.serialize_str(text) else {
                continue;
            };
            // The signed string round-trips as a string ...
            let pair = set_cookie.split(';').next().unwrap();
            assert_eq!(signer.parse_str(Some(pair)).as_deref(), Some(text.as_str()));
            // ... and is no session for any codec that shares the secrets.
            let value = pair.split_once('=').unwrap().1;
            let raw = value
                .replace("%2B", "+")
                .replace("%2F", "/")
                .replace("%3D", "=");
            for reader_format in FORMATS {
                let reader = codec("__session", reader_format, &["secret1"]);
                let m = MigratingCodec::new(v1("__session"), reader.clone(), Write::CookieSession)
                    .unwrap();
                for header in [pair.to_owned(), format!("__session={raw}")] {
                    let what = format!("{signer_format:?} -> {reader_format:?} {text:?}");
                    assert!(reader.try_read(Some(&header)).is_none(), "{what}");
                    assert!(m.try_read_at(Some(&header), now()).is_none(), "{what}");
                }
            }
        }
    }
}

// --- 3. Header parsing memory ----------------------------------------------------------

const CAP: usize = 64 * 1024;

#[test]
fn a_header_past_the_cap_is_not_parsed() {
    for format in FORMATS {
        let c = codec("__session", format, &["secret1"]);
        let good = cookie_value(&c, "alice");
        // 1 MiB with one quote, the real cookie first.
        let header = format!("__session={good}; junk=\"{}", "a".repeat(1 << 20));
        let (r, usage) = counting_alloc::measure(|| c.try_read(Some(&header)));
        assert!(r.is_none(), "{format:?}");
        assert_eq!(usage.peak_bytes, 0, "{format:?}");
        let (r, usage) = counting_alloc::measure(|| c.parse_str(Some(&header)));
        assert!(r.is_none());
        assert_eq!(usage.peak_bytes, 0, "{format:?}");
        // At the cap exactly: read.
        let pad = CAP - format!("__session={good}; junk=\"").len();
        let header = format!("__session={good}; junk=\"{}", "a".repeat(pad));
        assert_eq!(header.len(), CAP);
        assert_eq!(user(&c.read(Some(&header))).as_deref(), Some("alice"));
        let over = format!("{header}a");
        assert!(c.try_read(Some(&over)).is_none());
    }
}

#[test]
fn parsing_memory_is_linear_with_a_small_constant() {
    for format in FORMATS {
        let c = codec("__session", format, &["secret1"]);
        let good = cookie_value(&c, "alice");
        // What reading the cookie alone costs.
        let alone = format!("__session={good}");
        let (_, base) = counting_alloc::measure(|| c.try_read(Some(&alone)));
        for junk in [
            format!("j=\"{}", "a".repeat(60_000)),
            format!("j=\"{}", "\\\"".repeat(30_000)),
            "\";".repeat(30_000),
            "x=\"\\".repeat(15_000),
        ] {
            // Junk before the cookie costs nothing: no per-byte table.
            let header = format!("{junk}; __session={good}");
            assert!(header.len() <= CAP);
            let (s, usage) = counting_alloc::measure(|| c.try_read(Some(&header)));
            assert_eq!(user(&s.unwrap()).as_deref(), Some("alice"), "{format:?}");
            assert!(
                usage.peak_bytes <= base.peak_bytes + 256,
                "{format:?}: {} bytes for a {}-byte header (cookie alone: {})",
                usage.peak_bytes,
                header.len(),
                base.peak_bytes
            );
        }
        // A huge value under the session's name: one copy of it at most.
        let header = format!("__session=\"{}\"", "a\\\"".repeat(20_000));
        let (r, usage) = counting_alloc::measure(|| c.try_read(Some(&header)));
        assert!(r.is_none());
        assert!(
            usage.peak_bytes <= header.len() + 64,
            "{format:?}: {} bytes for a {}-byte header",
            usage.peak_bytes,
            header.len()
        );
    }
}

// --- 4. Secrets and signatures ---------------------------------------------------------

#[test]
fn at_most_max_secrets() {
    assert_eq!(MAX_SECRETS, 16);
    let names: Vec<String> = (0..=MAX_SECRETS).map(|i| format!("secret-{i}")).collect();
    for format in FORMATS {
        let ok = RemixCodec::builder("c", format)
            .secrets(&names[..MAX_SECRETS])
            .build()
            .unwrap();
        // The last of the 16 still verifies.
        let old = codec("c", format, &[names[MAX_SECRETS - 1].as_str()]);
        let cookie = format!("c={}", cookie_value(&old, "alice"));
        assert_eq!(user(&ok.read(Some(&cookie))).as_deref(), Some("alice"));

        let err = RemixCodec::builder("c", format)
            .secrets(&names)
            .build()
            .unwrap_err();
        assert_eq!(err, ConfigError::TooManySecrets { max: MAX_SECRETS });
        assert!(!err.to_string().contains("secret-"), "{err}");
        assert!(!format!("{err:?}").contains("secret-"));
        // An unbounded list is not consumed past the limit.
        let endless = std::iter::repeat("s");
        assert_eq!(
            RemixCodec::builder("c", format)
                .secrets(endless)
                .build()
                .unwrap_err(),
            ConfigError::TooManySecrets { max: MAX_SECRETS }
        );
    }
}

/// `atob` of the npm packages: white space stripped, one or two `=` of
/// padding, trailing bits ignored.
fn atob(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::DecodePaddingMode;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    const FORGIVING: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let s: String = s.chars().filter(|c| !" \t\n\r\x0c".contains(*c)).collect();
    FORGIVING.decode(s).ok()
}

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Respellings of a signature: (kind, respelled, whether npm's `atob`
/// decodes it to the same tag, as checked against the npm packages).
fn respellings(sig: &str) -> Vec<(&'static str, String, bool)> {
    let last = sig.as_bytes()[sig.len() - 1];
    let i = B64.iter().position(|&b| b == last).unwrap();
    let flipped = format!("{}{}", &sig[..sig.len() - 1], B64[i ^ 1] as char);
    let mut out = vec![
        ("padding =", format!("{sig}="), true),
        (
            "inner space",
            format!("{} {}", &sig[..10], &sig[10..]),
            true,
        ),
        ("inner tab", format!("{}\t{}", &sig[..10], &sig[10..]), true),
        (
            "inner newline",
            format!("{}\n{}", &sig[..10], &sig[10..]),
            true,
        ),
        ("inner CR", format!("{}\r{}", &sig[..10], &sig[10..]), true),
        (
            "inner form feed",
            format!("{}\x0c{}", &sig[..10], &sig[10..]),
            true,
        ),
        ("non-zero trailing bits", flipped, true),
        ("padding ==", format!("{sig}=="), false),
        ("truncated", sig[..sig.len() - 1].to_owned(), false),
        ("extra character", format!("{sig}A"), false),
    ];
    if sig.contains(['+', '/']) {
        out.push((
            "url-safe -_",
            sig.replace('+', "-").replace('/', "_"),
            false,
        ));
    }
    out
}

/// `s` as the npm `cookie` package reads it back (React Router).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn only_the_canonical_signature_verifies() {
    for format in FORMATS {
        let c = codec("__session", format, &["secret1"]);
        let m = MigratingCodec::new(v1("__session"), c.clone(), Write::CookieSession).unwrap();
        // Sessions until one signature holds `+` or `/` (for `-_`).
        let mut seen_url_safe = false;
        for n in 0..64 {
            let sent = cookie_value(&c, &format!("alice{n}"));
            let raw = sent
                .replace("%2B", "+")
                .replace("%2F", "/")
                .replace("%3D", "=");
            let (payload, sig) = raw.rsplit_once('.').unwrap();
            assert_eq!(sig.len(), 43);
            let tag = atob(sig).unwrap();
            assert!(c.try_read(Some(&format!("__session={sent}"))).is_some());
            for (kind, respelled, npm_accepts) in respellings(sig) {
                seen_url_safe |= kind == "url-safe -_";
                assert_eq!(
                    atob(&respelled).as_ref() == Some(&tag),
                    npm_accepts,
                    "{kind}"
                );
                let value = format!("{payload}.{respelled}");
                let header = match format {
                    RemixFormat::Remix3 => format!("__session=\"{value}\""),
                    _ => format!("__session={}", percent_encode(&value)),
                };
                let what = format!("{format:?} {kind} {header:?}");
                assert!(c.decode(&value).is_none(), "{what}");
                assert!(c.try_read(Some(&header)).is_none(), "{what}");
                assert!(m.try_read_at(Some(&header), now()).is_none(), "{what}");
                assert!(c.parse_str(Some(&header)).is_none(), "{what}");
            }
            if seen_url_safe && n > 0 {
                break;
            }
        }
        assert!(seen_url_safe);
    }
}
