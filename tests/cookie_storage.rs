//! The reference cookie-storage and cookie test lists (remix-session.md
//! §4.2, §4.4), ported to `SessionCodec::read` / `save`, plus the header
//! behaviour the codec adds (deletion, attributes, several cookies).

use cookie_session::{ConfigError, DecodeError, Key, Keyring, SameSite, Session, SessionCodec};
use time::{Duration, OffsetDateTime};

fn key(n: u8) -> Key {
    Key::from_secret(format!("{n}:xR4bT9qW2eY7uI0oP3aS6dF1gH5jK8lZ").as_bytes()).unwrap()
}

fn codec() -> SessionCodec {
    SessionCodec::builder("__sess", Keyring::new(key(1)))
        .build()
        .unwrap()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap()
}

/// What a browser sends back after a `Set-Cookie`: `name=value`, or
/// nothing once the cookie was deleted.
fn browser(set_cookie: &str, previous: Option<String>) -> Option<String> {
    if set_cookie.contains("Max-Age=0") {
        return None;
    }
    let pair = set_cookie.split(';').next().unwrap().to_owned();
    if pair.ends_with('=') {
        previous
    } else {
        Some(pair)
    }
}

/// One request: read the session from `cookie`, let `handler` change it,
/// save it. Returns the session and the cookie the browser then holds.
fn request(
    codec: &SessionCodec,
    cookie: Option<String>,
    handler: impl FnOnce(&mut Session),
) -> (Session, Option<String>, Option<String>) {
    let mut session = codec.read_at(cookie.as_deref(), now());
    handler(&mut session);
    let set_cookie = codec.save_at(&session, now()).unwrap();
    let next = match &set_cookie {
        Some(h) => browser(h, cookie),
        None => cookie,
    };
    (session, set_cookie, next)
}

fn count(s: &mut Session) {
    let n: u64 = s.get("count").unwrap().unwrap_or(0);
    s.set("count", n + 1).unwrap();
}

fn count_of(s: &Session) -> u64 {
    s.get("count").unwrap().unwrap()
}

#[test]
fn persists_session_data_across_requests() {
    let c = codec();
    let (s, _, cookie) = request(&c, None, count);
    assert_eq!(count_of(&s), 1);
    let (s, _, cookie) = request(&c, cookie, count);
    assert_eq!(count_of(&s), 2);
    let (s, _, _) = request(&c, cookie, count);
    assert_eq!(count_of(&s), 3);
}

#[test]
fn clears_session_data_when_the_session_is_destroyed() {
    let c = codec();
    let (_, _, cookie) = request(&c, None, count);
    let (s, _, cookie) = request(&c, cookie, count);
    assert_eq!(count_of(&s), 2);
    let destroyed_cookie = cookie.clone();
    let (s, set_cookie, cookie) = request(&c, cookie, Session::destroy);
    assert!(s.is_destroyed());
    let set_cookie = set_cookie.expect("destroy sends a deletion");
    assert!(set_cookie.starts_with("__sess=;"), "{set_cookie}");
    assert!(set_cookie.contains("Max-Age=0"), "{set_cookie}");
    assert!(
        set_cookie.contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
        "{set_cookie}"
    );
    assert_eq!(cookie, None, "the browser deleted the cookie");
    let (s, _, _) = request(&c, cookie, count);
    assert_eq!(count_of(&s), 1);
    // A client that keeps sending an empty value gets a fresh session too.
    let (s, _, _) = request(&c, Some("__sess=".into()), count);
    assert_eq!(count_of(&s), 1);
    // Stateless: the cookie from before the destroy still verifies.
    let (s, _, _) = request(&c, destroyed_cookie, count);
    assert_eq!(count_of(&s), 3);
}

#[test]
fn does_not_set_a_cookie_when_session_data_is_not_changed() {
    let c = codec();
    let (s, set_cookie, _) = request(&c, None, |_| {});
    assert!(!s.is_dirty());
    assert_eq!(set_cookie, None);
    // Nor for a session read from a cookie and left alone.
    let (_, _, cookie) = request(&c, None, count);
    let (s, set_cookie, _) = request(&c, cookie, |s| {
        let _ = s.get::<u64>("count");
    });
    assert!(!s.is_dirty());
    assert_eq!(set_cookie, None);
}

#[test]
fn makes_flash_data_available_only_on_the_next_request() {
    let c = codec();
    let message = |s: &Session| s.get::<String>("message").unwrap();
    let (s, set_cookie, cookie) = request(&c, None, |_| {});
    assert_eq!(message(&s), None);
    assert_eq!(set_cookie, None);
    let (s, _, cookie) = request(&c, cookie, |s| {
        s.flash("message", "success!").unwrap();
        assert_eq!(s.get::<String>("message").unwrap(), None);
    });
    assert_eq!(message(&s), None);
    let (s, set_cookie, cookie) = request(&c, cookie, |_| {});
    assert_eq!(message(&s).as_deref(), Some("success!"));
    assert!(
        set_cookie.is_some(),
        "the flash is dropped with a new cookie"
    );
    let (s, set_cookie, _) = request(&c, cookie, |_| {});
    assert_eq!(message(&s), None);
    assert_eq!(set_cookie, None);
}

#[test]
fn leaves_old_session_data_in_storage_by_default_when_the_id_is_regenerated() {
    let c = codec();
    let (s1, _, first) = request(&c, None, count);
    assert_eq!(count_of(&s1), 1);
    let (login, _, cookie) = request(&c, first.clone(), |s| s.regenerate_id(false).unwrap());
    assert_ne!(login.id(), s1.id());
    assert_eq!(login.delete_id(), None);
    let (s, _, _) = request(&c, cookie, count);
    assert_eq!(count_of(&s), 2);
    let (s, _, _) = request(&c, first, count);
    assert_eq!(
        count_of(&s),
        2,
        "old session data should still be in storage"
    );
}

#[test]
fn regenerating_with_delete_old_hands_the_old_id_to_the_caller() {
    // Cookie storage cannot delete the old session: instead of a warning,
    // the id to deny-list is on the saved session, and the old cookie still
    // verifies (the documented limit of stateless sessions).
    let c = codec();
    let (s1, _, first) = request(&c, None, count);
    let (login, set_cookie, cookie) = request(&c, first.clone(), |s| {
        s.regenerate_id(true).unwrap();
    });
    assert!(set_cookie.is_some());
    assert_ne!(login.id(), s1.id());
    assert_eq!(login.delete_id(), Some(s1.id()));
    let (s, _, _) = request(&c, cookie, count);
    assert_eq!(count_of(&s), 2);
    let (old, _, _) = request(&c, first, |_| {});
    assert_eq!(old.id(), s1.id());
}

#[test]
fn brand_new_untouched_sessions_get_no_cookie_and_no_stable_id() {
    let c = codec();
    let (a, set_a, _) = request(&c, None, |_| {});
    let (b, set_b, _) = request(&c, None, |_| {});
    assert!(set_a.is_none() && set_b.is_none());
    assert_ne!(a.id(), b.id());
}

// §4.4: the cookie itself.

#[test]
fn defaults_path_samesite_httponly_secure() {
    let mut s = Session::new();
    s.set("a", 1).unwrap();
    let h = codec().save_at(&s, now()).unwrap().unwrap();
    for attr in [
        "Path=/",
        "SameSite=Lax",
        "HttpOnly",
        "Secure",
        "Max-Age=1209600",
    ] {
        assert!(h.split("; ").any(|a| a == attr), "{attr} missing from {h}");
    }
    assert!(!h.contains("Domain"), "{h}");
}

#[test]
fn supports_overriding_cookie_properties() {
    let c = SessionCodec::builder("__sess", Keyring::new(key(1)))
        .domain("remix.run")
        .path("/about")
        .max_age(Duration::hours(1))
        .same_site(SameSite::None)
        .secure(true)
        .http_only(true)
        .partitioned(true)
        .build()
        .unwrap();
    let mut s = Session::new();
    s.set("a", 1).unwrap();
    let h = c.save_at(&s, now()).unwrap().unwrap();
    for attr in [
        "Domain=remix.run",
        "Path=/about",
        "Max-Age=3600",
        "SameSite=None",
        "Secure",
        "HttpOnly",
        "Partitioned",
    ] {
        assert!(h.split("; ").any(|a| a == attr), "{attr} missing from {h}");
    }
    // Deletion repeats Path and Domain, or the browser would not match it.
    let d = c.removal();
    assert!(
        d.contains("Domain=remix.run") && d.contains("Path=/about"),
        "{d}"
    );
}

#[test]
fn attributes_can_be_turned_off() {
    let c = SessionCodec::builder("sess", Keyring::new(key(1)))
        .secure(false)
        .http_only(false)
        .same_site(None)
        .persistent(false)
        .build()
        .unwrap();
    let mut s = Session::new();
    s.set("a", 1).unwrap();
    let h = c.save_at(&s, now()).unwrap().unwrap();
    for attr in ["Secure", "HttpOnly", "SameSite", "Max-Age", "Expires"] {
        assert!(!h.contains(attr), "{attr} in {h}");
    }
    // The server still enforces max_age on a browser-session cookie.
    let value = h.split(';').next().unwrap();
    let later = now() + cookie_session::DEFAULT_MAX_AGE;
    assert!(
        c.read_at(Some(value), later)
            .get::<u8>("a")
            .unwrap()
            .is_none()
    );
}

#[test]
fn refuses_configurations_browsers_would_reject() {
    let b = || SessionCodec::builder("s", Keyring::new(key(1)));
    assert_eq!(
        b().partitioned(true).secure(false).build().unwrap_err(),
        ConfigError::Incompatible("Partitioned requires Secure")
    );
    assert!(b().same_site(SameSite::None).secure(false).build().is_err());
    assert_eq!(
        b().path("about").build().unwrap_err(),
        ConfigError::InvalidAttribute("Path")
    );
    assert_eq!(
        b().domain("a;b").build().unwrap_err(),
        ConfigError::InvalidAttribute("Domain")
    );
    assert_eq!(
        b().max_age(Duration::ZERO).build().unwrap_err(),
        ConfigError::InvalidDuration("max_age")
    );
    assert!(b().max_lifetime(Duration::seconds(-1)).build().is_err());
    assert_eq!(
        b().max_size(4097).build().unwrap_err(),
        ConfigError::InvalidSizeLimit
    );
    assert!(
        SessionCodec::builder("__Host-s", Keyring::new(key(1)))
            .domain("x.org")
            .build()
            .is_err()
    );
    assert!(
        SessionCodec::builder("bad name", Keyring::new(key(1)))
            .build()
            .is_err()
    );
}

#[test]
fn parses_utf8_values() {
    let c = codec();
    let (_, _, cookie) = request(&c, None, |s| s.set("greeting", "日本語").unwrap());
    let (s, _, _) = request(&c, cookie, |_| {});
    assert_eq!(
        s.get::<String>("greeting").unwrap().as_deref(),
        Some("日本語")
    );
}

#[test]
fn fails_to_parse_values_with_an_invalid_signature() {
    let (_, _, cookie) = request(&codec(), None, count);
    let other = SessionCodec::builder("__sess", Keyring::new(key(2)))
        .build()
        .unwrap();
    let (s, _, _) = request(&other, cookie.clone(), |_| {});
    assert!(s.is_empty() && !s.is_dirty());
    assert_eq!(
        other.try_read_at(cookie.as_deref(), now()).unwrap_err(),
        DecodeError::UnknownKey
    );
}

#[test]
fn fails_to_parse_values_with_invalid_signature_encoding() {
    let (_, _, cookie) = request(&codec(), None, count);
    let tampered = format!("{}%^&", cookie.unwrap());
    let c = codec();
    assert!(c.read_at(Some(&tampered), now()).is_empty());
    assert!(matches!(
        c.try_read_at(Some(&tampered), now()),
        Err(DecodeError::Malformed(_))
    ));
}

#[test]
fn supports_secret_rotation() {
    let old = codec();
    let (_, old_set_cookie, cookie) = request(&old, None, count);
    let rotated = SessionCodec::builder(
        "__sess",
        Keyring::new(key(2)).with_fallback(key(1)).unwrap(),
    )
    .build()
    .unwrap();
    let s = rotated.read_at(cookie.as_deref(), now());
    assert_eq!(count_of(&s), 1);
    assert!(s.is_dirty(), "signed by a fallback key: re-issue");
    let new_set_cookie = rotated.save_at(&s, now()).unwrap().unwrap();
    assert_ne!(Some(&new_set_cookie), old_set_cookie.as_ref());
    let new_cookie = browser(&new_set_cookie, None);
    let v = rotated
        .verify_at(
            new_cookie.as_deref().unwrap().split_once('=').unwrap().1,
            now(),
        )
        .unwrap();
    assert_eq!(v.key_id, key(2).id());
    assert!(!v.needs_reissue);
    assert!(!v.session.is_dirty());
    assert_eq!(count_of(&v.session), 1);
    // Once the old key is dropped, old cookies are gone.
    let dropped = SessionCodec::builder("__sess", Keyring::new(key(2)))
        .build()
        .unwrap();
    assert!(dropped.read_at(cookie.as_deref(), now()).is_empty());
}

#[test]
fn parses_missing_and_empty_headers_as_no_session() {
    let c = codec();
    assert_eq!(c.try_read_at(None, now()).unwrap().map(|s| s.len()), None);
    assert!(c.try_read_at(Some(""), now()).unwrap().is_none());
    assert!(
        c.try_read_at(Some("other-cookie=hello"), now())
            .unwrap()
            .is_none()
    );
    assert!(c.read_at(Some("other-cookie=hello"), now()).is_empty());
}

#[test]
fn the_first_verifying_cookie_of_the_name_wins() {
    let c = codec();
    let (_, _, a) = request(&c, None, |s| s.set("who", "a").unwrap());
    let (_, _, b) = request(&c, None, |s| s.set("who", "b").unwrap());
    let (a, b) = (a.unwrap(), b.unwrap());
    let who = |h: &str| c.read_at(Some(h), now()).get::<String>("who").unwrap();
    assert_eq!(who(&format!("x=1; {a}; {b}")).as_deref(), Some("a"));
    assert_eq!(who(&format!("{b}; y=2; {a}")).as_deref(), Some("b"));
    assert_eq!(
        who(&format!("__sess=garbage; {b}; {a}")).as_deref(),
        Some("b")
    );
    // The name is matched exactly.
    let upper = a.replacen("__sess", "__SESS", 1);
    assert_eq!(who(&upper), None);
}

#[test]
fn destroy_of_an_unsaved_session_still_deletes() {
    let c = codec();
    let mut s = Session::new();
    s.destroy();
    assert_eq!(c.save_at(&s, now()).unwrap(), Some(c.removal()));
    assert_eq!(
        c.encode_at(&s, now()).unwrap_err(),
        cookie_session::EncodeError::Destroyed
    );
}

#[test]
fn codec_is_send_sync_clone_and_shared() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<SessionCodec>();
    let c = codec();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut s = Session::new();
                s.set("i", i).unwrap();
                let v = c.encode_at(&s, now()).unwrap();
                c.decode_at(&v, now()).unwrap().get::<i32>("i").unwrap()
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), Some(i as i32));
    }
}
