//! Sliding refresh on a simulated clock: sessions that are only read stay
//! alive while requests keep coming, with a bounded number of writes, and
//! `max_lifetime` still ends them.

use cookie_session::{Key, Keyring, Session, SessionCodec, SessionCodecBuilder};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

const SECRET: &[u8] = b"sliding refresh tests: 32+ bytes, random enough";
const T0: i64 = 1_780_000_000;

fn builder() -> SessionCodecBuilder {
    SessionCodec::builder("sid", Keyring::new(Key::from_secret(SECRET).unwrap()))
}

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(T0 + secs).unwrap()
}

/// The value of a `Set-Cookie` header.
fn value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.strip_prefix("sid=").unwrap().to_owned()
}

/// A browser and a server: the browser keeps the last cookie it was sent.
struct Browser {
    codec: SessionCodec,
    cookie: Option<String>,
    /// The times (seconds after T0) at which the server wrote a cookie.
    writes: Vec<i64>,
}

impl Browser {
    /// Logs in at `t`.
    fn login(codec: SessionCodec, t: i64) -> Browser {
        let mut s = Session::new();
        s.set("user", "alice").unwrap();
        let set_cookie = codec.save_at(&s, at(t)).unwrap().unwrap();
        Browser {
            codec,
            cookie: Some(value(&set_cookie)),
            writes: vec![t],
        }
    }

    /// A request at `t` whose handler only reads the session; whether the
    /// user was still logged in.
    fn read_page(&mut self, t: i64) -> bool {
        let header = self.cookie.as_ref().map(|v| format!("sid={v}"));
        let session = self.codec.read_at(header.as_deref(), at(t));
        let logged_in = session.get::<String>("user").unwrap().is_some();
        if let Some(set_cookie) = self.codec.save_at(&session, at(t)).unwrap() {
            self.writes.push(t);
            self.cookie = Some(value(&set_cookie));
        }
        logged_in
    }
}

#[test]
fn a_reader_every_20_minutes_stays_logged_in_for_11_hours_with_a_write_every_40() {
    let codec = builder().max_age(Duration::hours(1)).build().unwrap();
    assert_eq!(codec.refresh_after(), Some(Duration::minutes(30)));
    let mut b = Browser::login(codec, 0);
    for t in (20 * 60..=11 * 3600).step_by(20 * 60) {
        assert!(b.read_page(t), "logged out at {t} s");
    }
    // 33 requests; a write every other one, when the cookie is 40 minutes
    // old, never sooner than `refresh_after`.
    assert_eq!(b.writes.len(), 1 + 16, "{:?}", b.writes);
    for w in b.writes.windows(2) {
        assert_eq!(w[1] - w[0], 40 * 60, "{:?}", b.writes);
    }
}

#[test]
fn without_refresh_a_reader_is_logged_out_after_max_age() {
    let codec = builder()
        .max_age(Duration::hours(1))
        .refresh_after(Duration::hours(1))
        .build()
        .unwrap();
    assert_eq!(codec.refresh_after(), None);
    let mut b = Browser::login(codec, 0);
    assert!(b.read_page(20 * 60));
    assert!(b.read_page(40 * 60));
    assert!(b.read_page(3599));
    assert!(!b.read_page(3600));
    assert_eq!(b.writes, [0]);
}

#[test]
fn max_lifetime_ends_a_refreshed_session() {
    let codec = builder()
        .max_age(Duration::hours(1))
        .max_lifetime(Duration::hours(4))
        .build()
        .unwrap();
    let mut b = Browser::login(codec.clone(), 0);
    for t in (30 * 60..4 * 3600).step_by(30 * 60) {
        assert!(b.read_page(t), "logged out at {t} s");
        let v = codec.verify_at(b.cookie.as_ref().unwrap(), at(t)).unwrap();
        assert!(v.expires_at <= (T0 + 4 * 3600) as u64);
    }
    // Every 30 minutes until the cookie of 3:00 already runs to the end of
    // the session's lifetime (4:00): the refresh due at 3:30 would not move
    // the expiry, so it is skipped.
    let every_30_min: Vec<i64> = (0..=6).map(|i| i * 30 * 60).collect();
    assert_eq!(b.writes, every_30_min);
    assert!(!b.read_page(4 * 3600));
}

#[test]
fn a_refresh_keeps_id_values_and_created_at_and_moves_the_expiry() {
    let codec = builder().max_age(Duration::hours(1)).build().unwrap();
    let mut s = Session::new();
    s.set("user", "alice").unwrap();
    let first = codec.encode_at(&s, at(0)).unwrap();
    let early = codec.verify_at(&first, at(29 * 60 + 59)).unwrap();
    assert!(!early.needs_reissue && !early.reissue.is_due());
    assert_eq!(
        codec.save_at(&early.session, at(29 * 60 + 59)).unwrap(),
        None
    );

    let due = codec.verify_at(&first, at(30 * 60)).unwrap();
    assert!(due.needs_reissue && due.reissue.refresh && !due.reissue.fallback_key);
    assert_eq!(due.reissue.to_string(), "refresh due");
    let set_cookie = codec.save_at(&due.session, at(30 * 60)).unwrap().unwrap();
    assert!(set_cookie.contains("Max-Age=3600"), "{set_cookie}");
    let second = codec.verify_at(&value(&set_cookie), at(30 * 60)).unwrap();
    assert_eq!(second.session.id(), s.id());
    assert_eq!(second.session.id(), due.session.id());
    assert_eq!(
        second.session.get::<String>("user").unwrap().as_deref(),
        Some("alice")
    );
    assert_eq!(second.created_at, T0 as u64);
    assert_eq!(second.issued_at, (T0 + 30 * 60) as u64);
    assert_eq!(second.expires_at, (T0 + 90 * 60) as u64);
    assert_eq!(second.session.issued_at(), Some(second.issued_at));
    assert_eq!(second.session.created_at(), Some(T0 as u64));
}

#[test]
fn refresh_and_a_fallback_key_are_both_reported() {
    let old = Key::from_secret(b"the old key of the refresh tests, 32+ b").unwrap();
    let before = SessionCodec::builder("sid", Keyring::new(old.clone()))
        .max_age(Duration::hours(1))
        .build()
        .unwrap();
    let ring = Keyring::new(Key::from_secret(SECRET).unwrap())
        .with_fallback(old)
        .unwrap();
    let after = SessionCodec::builder("sid", ring)
        .max_age(Duration::hours(1))
        .build()
        .unwrap();
    let value = before.encode_at(&Session::new(), at(0)).unwrap();
    let v = after.verify_at(&value, at(45 * 60)).unwrap();
    assert!(v.reissue.fallback_key && v.reissue.refresh);
    assert_eq!(
        v.reissue.to_string(),
        "signed with a fallback key, refresh due"
    );
    let v = after.verify_at(&value, at(60)).unwrap();
    assert!(v.reissue.fallback_key && !v.reissue.refresh);
}

#[test]
fn flash_makes_a_write_due_without_a_reissue_reason() {
    let codec = builder().build().unwrap();
    let mut s = Session::new();
    s.flash("notice", "saved").unwrap();
    let value = codec.encode_at(&s, at(0)).unwrap();
    let v = codec.verify_at(&value, at(1)).unwrap();
    assert!(v.needs_reissue && !v.reissue.is_due());
}

#[test]
fn touch_reissues_now() {
    let codec = builder().max_age(Duration::hours(1)).build().unwrap();
    let mut s = Session::new();
    s.set("n", 1).unwrap();
    let first = codec.encode_at(&s, at(0)).unwrap();
    let mut s = codec.decode_at(&first, at(60)).unwrap();
    assert_eq!(codec.save_at(&s, at(60)).unwrap(), None);
    s.touch();
    let set_cookie = codec.save_at(&s, at(60)).unwrap().unwrap();
    let v = codec.verify_at(&value(&set_cookie), at(60)).unwrap();
    assert_eq!(v.issued_at, (T0 + 60) as u64);
    assert_eq!(v.session.get::<u32>("n").unwrap(), Some(1));
}

#[test]
fn a_negative_refresh_after_is_refused_and_zero_refreshes_every_time() {
    assert!(
        builder()
            .refresh_after(Duration::seconds(-1))
            .build()
            .is_err()
    );
    let codec = builder().refresh_after(Duration::ZERO).build().unwrap();
    let value = codec.encode_at(&Session::new(), at(0)).unwrap();
    assert!(codec.verify_at(&value, at(1)).unwrap().reissue.refresh);
    // A refresh that would not move the expiry is skipped.
    assert!(!codec.verify_at(&value, at(0)).unwrap().reissue.refresh);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Across random request timings, a session is never refused while the
    /// requests come closer than `max_age - refresh_after` apart, and never
    /// lives past `max_lifetime`.
    #[test]
    fn never_refused_while_used_never_past_max_lifetime(
        max_age in 2i64..20_000,
        refresh_frac in 0.0f64..1.0,
        lifetime in proptest::option::of(1i64..200_000),
        gap_fracs in proptest::collection::vec(0.0f64..1.0, 1..120),
    ) {
        let refresh_after = ((max_age as f64) * refresh_frac) as i64;
        let mut b = builder()
            .max_age(Duration::seconds(max_age))
            .refresh_after(Duration::seconds(refresh_after));
        if let Some(l) = lifetime {
            b = b.max_lifetime(Duration::seconds(l));
        }
        let codec = b.build().unwrap();
        let window = max_age - refresh_after;
        let mut browser = Browser::login(codec, 0);
        let mut t = 0;
        for f in gap_fracs {
            // A gap in 0..window.
            t += ((window as f64) * f) as i64;
            let logged_in = browser.read_page(t);
            match lifetime {
                Some(l) if t >= l => {
                    prop_assert!(!logged_in, "alive at {} past max_lifetime {}", t, l);
                    break;
                }
                _ => prop_assert!(logged_in, "refused at {}: {:?}", t, browser.writes),
            }
        }
    }
}

#[cfg(feature = "remix")]
#[test]
fn migrating_codec_refreshes_v1_cookies_and_rewrites_remix_ones() {
    use cookie_session::remix::{MigratingCodec, RemixCodec, RemixFormat, Write};
    let v1 = builder().max_age(Duration::hours(1)).build().unwrap();
    let legacy = RemixCodec::builder("sid", RemixFormat::Remix3)
        .secrets(["a remix secret"])
        .build()
        .unwrap();
    let codec = MigratingCodec::new(v1.clone(), legacy.clone(), Write::CookieSession).unwrap();

    let mut s = Session::new();
    s.set("user", "alice").unwrap();
    let old = format!("sid={}", v1.encode_at(&s, at(0)).unwrap());
    let fresh = codec.read_at(Some(&old), at(10 * 60));
    assert_eq!(codec.save_at(&fresh, at(10 * 60)).unwrap(), None);
    let due = codec.read_at(Some(&old), at(31 * 60));
    let set_cookie = codec.save_at(&due, at(31 * 60)).unwrap().unwrap();
    let v = v1.verify_at(&value(&set_cookie), at(31 * 60)).unwrap();
    assert_eq!(v.issued_at, (T0 + 31 * 60) as u64);
    assert_eq!(v.created_at, T0 as u64);

    let remix = legacy.save(&s).unwrap().unwrap();
    let pair = remix.split(';').next().unwrap();
    let read = codec.read_at(Some(pair), at(0));
    assert!(read.is_dirty());
    assert!(codec.save_at(&read, at(0)).unwrap().is_some());
}
