//! Regression tests for attacks on the edges of the crate: cookie names
//! spoofed with Unicode white space, saves that fail, logout, and what the
//! layer adds to a response.

use cookie_session::{Key, Keyring, Session, SessionCodec};
use time::OffsetDateTime;

const SECRET: &[u8] = b"hardening tests: a 32+ byte secret, not periodic";
const NAME: &str = "__Host-sid";

fn codec() -> SessionCodec {
    SessionCodec::builder(NAME, Keyring::new(Key::from_secret(SECRET).unwrap()))
        .build()
        .unwrap()
}

/// A cookie value for a session of `user`, signed with the real key: an
/// attacker gets one by logging in to their own account.
fn value_for(user: &str) -> String {
    let mut s = Session::new();
    s.set("user", user).unwrap();
    codec().encode(&s).unwrap()
}

fn user(s: &Session) -> Option<String> {
    s.get("user").unwrap()
}

/// Every character a browser keeps as part of a cookie name but
/// `str::trim` (and JavaScript's `trim`) would strip: all Unicode white
/// space except SP and HTAB, which RFC 6265 lets a parser trim, plus the
/// byte order mark.
fn spoofing_chars() -> Vec<char> {
    (0..=0x10_FFFF)
        .filter_map(char::from_u32)
        .filter(|c| c.is_whitespace() || *c == '\u{feff}')
        .filter(|c| !matches!(c, ' ' | '\t'))
        .collect()
}

/// The spoofed names: each character before and after the real name.
fn spoofed_names() -> Vec<String> {
    let chars = spoofing_chars();
    // U+0009..=U+000D, U+0020, U+0085, U+00A0, U+1680, U+2000..=U+200A,
    // U+2028, U+2029, U+202F, U+205F, U+3000 are white space; SP and HTAB
    // are not spoofing; U+FEFF is added.
    assert_eq!(chars.len(), 25 - 2 + 1, "{chars:?}");
    chars
        .iter()
        .flat_map(|c| [format!("{c}{NAME}"), format!("{NAME}{c}")])
        .collect()
}

#[test]
fn the_cookie_crate_trims_unicode_space_from_names_which_is_why_we_do_not_use_it() {
    let c = cookie::Cookie::parse("\u{2000}__Host-sid=x").unwrap();
    assert_eq!(c.name(), NAME);
}

#[test]
fn a_name_spoofed_with_unicode_space_is_never_read() {
    let codec = codec();
    let (attacker, victim) = (value_for("mallory"), value_for("alice"));
    let now = OffsetDateTime::now_utc();
    for name in spoofed_names() {
        // Planted first: the victim's own cookie is read.
        let header = format!("{name}={attacker}; {NAME}={victim}");
        let s = codec.read(Some(&header));
        assert_eq!(user(&s).as_deref(), Some("alice"), "{name:?}");
        // Alone: no session cookie at all.
        let header = format!("{name}={attacker}");
        assert!(
            codec.try_read_at(Some(&header), now).unwrap().is_none(),
            "{name:?}"
        );
        assert!(codec.cookie_values(&header).next().is_none(), "{name:?}");
    }
}

#[test]
fn ordinary_separators_still_work() {
    let codec = codec();
    let victim = value_for("alice");
    for header in [
        format!("{NAME}={victim}"),
        format!("a=1; {NAME}={victim}"),
        format!("a=1;{NAME}={victim}"),
        format!("a=1;\t{NAME}={victim}"),
        format!("a=1; \t {NAME} \t= \t{victim} \t; b=2"),
    ] {
        assert_eq!(user(&codec.read(Some(&header))).as_deref(), Some("alice"));
    }
}

#[test]
fn destroy_hands_over_the_id_the_session_arrived_with() {
    let codec = codec();
    let value = value_for("alice");
    let arrived = codec.decode(&value).unwrap();
    let id = arrived.id().to_owned();

    let mut s = arrived.clone();
    assert_eq!(s.delete_id(), None);
    s.destroy();
    assert_eq!(s.delete_id(), Some(id.as_str()));

    // After a regeneration, the id it arrived with, not the new one.
    for delete_old in [false, true] {
        let mut s = arrived.clone();
        s.regenerate_id(delete_old).unwrap();
        s.regenerate_id(false).unwrap();
        s.destroy();
        assert_eq!(s.delete_id(), Some(id.as_str()), "{delete_old}");
    }
}

#[cfg(feature = "http")]
mod headers {
    use super::*;
    use http::header::COOKIE;
    use http::{HeaderMap, HeaderValue};

    fn headers(fields: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for f in fields {
            h.append(COOKIE, HeaderValue::from_str(f).unwrap());
        }
        h
    }

    #[test]
    fn a_name_spoofed_with_unicode_space_is_never_read_from_a_header_map() {
        let codec = codec();
        let (attacker, victim) = (value_for("mallory"), value_for("alice"));
        let now = OffsetDateTime::now_utc();
        let real = format!("{NAME}={victim}");
        for name in spoofed_names() {
            let spoofed = format!("{name}={attacker}");
            if HeaderValue::from_str(&spoofed).is_err() {
                continue; // control characters cannot be sent
            }
            let one = headers(&[&format!("{spoofed}; {real}")]);
            let split = headers(&[&spoofed, &real]);
            for h in [one, split] {
                assert_eq!(user(&codec.read_headers(&h)).as_deref(), Some("alice"));
            }
            let alone = headers(&[&spoofed]);
            assert!(
                codec.try_read_headers_at(&alone, now).unwrap().is_none(),
                "{name:?}"
            );
        }
    }
}

#[cfg(feature = "tower")]
#[path = "support/layer.rs"]
mod layer;

#[cfg(feature = "tower")]
mod tower_layer {
    use super::layer::{run, run_logged, session_pair, set_cookies, varies};
    use super::*;
    use cookie_session::SessionLayer;
    use http::HeaderValue;
    use http::header::SET_COOKIE;

    fn layer() -> SessionLayer {
        SessionLayer::new(
            SessionCodec::builder("sid", Keyring::new(Key::from_secret(SECRET).unwrap()))
                .build()
                .unwrap(),
        )
    }

    fn show_user(h: &cookie_session::SessionHandle, res: &mut http::Response<String>) {
        *res.body_mut() = format!("{:?}", h.get::<String>("user").unwrap());
    }

    #[test]
    fn a_name_spoofed_with_unicode_space_is_never_read_by_the_layer() {
        let layer = SessionLayer::new(codec());
        let (attacker, victim) = (value_for("mallory"), value_for("alice"));
        let real = format!("{NAME}={victim}");
        for name in spoofed_names() {
            let spoofed = format!("{name}={attacker}");
            if HeaderValue::from_str(&spoofed).is_err() {
                continue; // control characters cannot be sent
            }
            let res = run(&layer, &[&format!("{spoofed}; {real}")], show_user);
            assert_eq!(res.body(), "Some(\"alice\")", "{name:?}");
            let res = run(&layer, &[&spoofed], show_user);
            assert_eq!(res.body(), "None", "{name:?}");
        }
    }

    #[test]
    fn a_failed_save_deletes_the_old_cookie() {
        let layer = layer();
        let admin = run(&layer, &[], |h, _| h.set("role", "admin").unwrap());
        let pair = session_pair(&admin);
        // The handler takes the privilege away and adds too much data.
        let (res, logs) = run_logged(&layer, &[&pair], |h, _| {
            h.unset("role").unwrap();
            h.set("notes", "x".repeat(5000)).unwrap();
        });
        let all = set_cookies(&res);
        assert_eq!(all.len(), 1, "{all:?}");
        assert!(all[0].starts_with("sid=;") && all[0].contains("Max-Age=0"));
        assert!(varies(&res));
        assert_eq!(logs.len(), 1, "{logs:?}");
        assert!(logs[0].starts_with("ERROR"), "{logs:?}");
        let value = pair.strip_prefix("sid=").unwrap();
        assert!(!logs[0].contains(&value[..12]), "{logs:?}");
    }

    #[test]
    fn reading_the_session_varies_even_without_a_cookie() {
        let layer = layer();
        let res = run(&layer, &["other=1"], show_user);
        assert_eq!(res.body(), "None");
        assert!(set_cookies(&res).is_empty());
        assert!(varies(&res));
        let res = run(&layer, &["other=1"], |_, _| {});
        assert!(!varies(&res));
    }

    #[test]
    fn the_handlers_own_session_cookie_wins() {
        let layer = layer();
        let (res, logs) = run_logged(&layer, &[], |h, res| {
            h.set("n", 1).unwrap();
            res.headers_mut()
                .append(SET_COOKIE, HeaderValue::from_static(" sid=mine; Path=/"));
        });
        assert_eq!(set_cookies(&res), [" sid=mine; Path=/"]);
        assert_eq!(logs.len(), 1, "{logs:?}");
        assert!(logs[0].starts_with("WARN"), "{logs:?}");
        // Another cookie's name that merely starts like it does not count.
        let res = run(&layer, &[], |h, res| {
            h.set("n", 1).unwrap();
            res.headers_mut()
                .append(SET_COOKIE, HeaderValue::from_static("sidx=1"));
        });
        let all = set_cookies(&res);
        assert_eq!(all.len(), 2);
        assert!(all[1].starts_with("sid="));
    }
}
