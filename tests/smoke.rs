use cookie_session::*;
use time::OffsetDateTime;

#[test]
fn round_trip_with_flash() {
    let codec = SessionCodec::builder("sid", Keyring::new(Key::generate()))
        .build()
        .unwrap();
    let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    let mut s = Session::new();
    s.set("user", "alice").unwrap();
    s.flash("notice", "hi").unwrap();
    let v = codec.encode_at(&s, now).unwrap();
    let t = codec.decode_at(&v, now).unwrap();
    assert_eq!(t.id(), s.id());
    assert_eq!(t.get::<String>("user").unwrap().as_deref(), Some("alice"));
    assert_eq!(t.get::<String>("notice").unwrap().as_deref(), Some("hi"));
    assert!(t.is_dirty());
    let v2 = codec.encode_at(&t, now).unwrap();
    let u = codec.decode_at(&v2, now).unwrap();
    assert_eq!(u.get::<String>("notice").unwrap(), None);
    assert!(!u.is_dirty());
}
