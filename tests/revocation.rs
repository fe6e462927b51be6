//! Revocation: the codec's `revoked_when` predicate, and the two patterns
//! it exists for (log out everywhere, deny-listed ids).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use cookie_session::{DecodeError, Expiry, Key, Keyring, Session, SessionCodec, Verified};
use time::{Duration, OffsetDateTime};

const SECRET: &[u8] = b"revocation tests: a 32+ byte secret for signing";
const T0: i64 = 1_780_000_000;

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(T0 + secs).unwrap()
}

fn codec_with(revoked: impl Fn(&Verified) -> bool + Send + Sync + 'static) -> SessionCodec {
    SessionCodec::builder("sid", Keyring::new(Key::from_secret(SECRET).unwrap()))
        .max_age(Duration::hours(1))
        .revoked_when(revoked)
        .build()
        .unwrap()
}

fn login(codec: &SessionCodec, user: &str, t: i64) -> String {
    let mut s = Session::new();
    s.set("user", user).unwrap();
    codec.encode_at(&s, at(t)).unwrap()
}

#[test]
fn a_revoked_cookie_is_refused_with_its_reason_and_read_gives_a_fresh_session() {
    let codec =
        codec_with(|v| v.session.get_value("user").and_then(|u| u.as_str()) == Some("mallory"));
    let alice = login(&codec, "alice", 0);
    let mallory = login(&codec, "mallory", 0);
    assert!(codec.decode_at(&alice, at(1)).is_ok());
    assert_eq!(
        codec.decode_at(&mallory, at(1)).unwrap_err(),
        DecodeError::Revoked
    );
    assert_eq!(
        codec.verify_at(&mallory, at(1)).unwrap_err(),
        DecodeError::Revoked
    );
    let header = format!("sid={mallory}");
    assert_eq!(
        codec.try_read_at(Some(&header), at(1)).unwrap_err(),
        DecodeError::Revoked
    );
    let s = codec.read_at(Some(&header), at(1));
    assert!(s.is_empty() && !s.is_dirty());
    assert_eq!(DecodeError::Revoked.to_string(), "session revoked");
}

#[test]
fn the_predicate_sees_only_cookies_whose_tag_times_and_payload_were_checked() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let codec = codec_with(move |_| {
        seen.fetch_add(1, Ordering::Relaxed);
        false
    });
    let good = login(&codec, "alice", 0);
    let other = SessionCodec::builder(
        "sid",
        Keyring::new(Key::from_secret(b"another key of the revocation tests!").unwrap()),
    )
    .build()
    .unwrap();
    let forged = login(&other, "alice", 0);
    let mut tampered = good.clone().into_bytes();
    let last = tampered.len() - 5;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let payload_bad = codec.sign_raw_payload(
        &[0x83, 0x60, 0xa0, 0xa0, 0x00],
        T0 as u64,
        T0 as u64 + 60,
        T0 as u64,
    );

    assert_eq!(
        codec.decode_at(&forged, at(1)).unwrap_err(),
        DecodeError::UnknownKey
    );
    assert!(codec.decode_at(&tampered, at(1)).is_err());
    assert_eq!(
        codec.decode_at(&good, at(3600)).unwrap_err(),
        DecodeError::Expired(Expiry::ExpiresAt)
    );
    assert!(matches!(
        codec.decode_at(&payload_bad, at(1)).unwrap_err(),
        DecodeError::Payload(_)
    ));
    assert_eq!(calls.load(Ordering::Relaxed), 0);
    assert!(codec.decode_at(&good, at(1)).is_ok());
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}

/// Log out everywhere: per user, sessions created before this time are
/// refused. In an application the map is refreshed from its database.
#[derive(Clone, Default)]
struct ValidAfter(Arc<RwLock<HashMap<String, u64>>>);

impl ValidAfter {
    fn revoked(&self, v: &Verified) -> bool {
        let Some(user) = v.session.get_value("user").and_then(|u| u.as_str()) else {
            return false;
        };
        let map = self.0.read().unwrap();
        map.get(user).is_some_and(|&after| v.created_at <= after)
    }

    fn log_out_everywhere(&self, user: &str, now: OffsetDateTime) {
        let mut map = self.0.write().unwrap();
        map.insert(user.to_owned(), now.unix_timestamp() as u64);
    }
}

#[test]
fn log_out_everywhere_ends_every_session_of_the_user_and_only_those() {
    let valid_after = ValidAfter::default();
    let check = valid_after.clone();
    let codec = codec_with(move |v| check.revoked(v));
    let laptop = login(&codec, "alice", 0);
    let phone = login(&codec, "alice", 60);
    let bob = login(&codec, "bob", 0);

    // The laptop keeps the session alive: a refresh keeps created_at.
    let v = codec.verify_at(&laptop, at(40 * 60)).unwrap();
    assert!(v.reissue.refresh);
    let laptop = codec.encode_at(&v.session, at(40 * 60)).unwrap();

    valid_after.log_out_everywhere("alice", at(45 * 60));
    for cookie in [&laptop, &phone] {
        assert_eq!(
            codec.decode_at(cookie, at(45 * 60)).unwrap_err(),
            DecodeError::Revoked
        );
    }
    assert!(codec.decode_at(&bob, at(45 * 60)).is_ok());
    // Logging in again afterwards works.
    let again = login(&codec, "alice", 46 * 60);
    assert!(codec.decode_at(&again, at(47 * 60)).is_ok());
}

/// Deny-list: the ids `delete_id` hands over, each kept until the cookies
/// carrying it could have expired.
#[derive(Clone, Default)]
struct DenyList(Arc<RwLock<HashMap<String, u64>>>);

impl DenyList {
    fn add(&self, id: &str, until: OffsetDateTime) {
        let mut map = self.0.write().unwrap();
        map.insert(id.to_owned(), until.unix_timestamp() as u64);
    }

    fn prune(&self, now: OffsetDateTime) {
        let now = now.unix_timestamp() as u64;
        self.0.write().unwrap().retain(|_, until| *until > now);
    }

    fn len(&self) -> usize {
        self.0.read().unwrap().len()
    }
}

#[test]
fn a_deny_list_of_delete_ids_refuses_copies_of_logged_out_and_regenerated_sessions() {
    let deny = DenyList::default();
    let check = deny.clone();
    let codec = codec_with(move |v| check.0.read().unwrap().contains_key(v.session.id()));
    let max_age = codec.max_age();

    // Logout: a copy of the cookie taken before it is refused after it.
    let before_logout = login(&codec, "alice", 0);
    let mut s = codec.decode_at(&before_logout, at(60)).unwrap();
    s.destroy();
    deny.add(s.delete_id().unwrap(), at(60) + max_age);
    assert!(
        codec
            .save_at(&s, at(60))
            .unwrap()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        codec.decode_at(&before_logout, at(61)).unwrap_err(),
        DecodeError::Revoked
    );

    // Login on top of an anonymous session: regenerate_id(true).
    let anonymous = codec.encode_at(&Session::new(), at(0)).unwrap();
    let mut s = codec.decode_at(&anonymous, at(60)).unwrap();
    s.set("user", "bob").unwrap();
    s.regenerate_id(true).unwrap();
    deny.add(s.delete_id().unwrap(), at(60) + max_age);
    let logged_in = codec.encode_at(&s, at(60)).unwrap();
    assert_eq!(
        codec.decode_at(&anonymous, at(61)).unwrap_err(),
        DecodeError::Revoked
    );
    assert!(codec.decode_at(&logged_in, at(61)).is_ok());

    // Entries can go once the cookies they name have expired anyway.
    assert_eq!(deny.len(), 2);
    deny.prune(at(60) + max_age);
    assert_eq!(deny.len(), 0);
}
