//! The reference `Session` test list (remix-session.md §4.1), ported, plus
//! the behaviours the §1.2 table pins down.

use cookie_session::{Session, SessionData, SessionError, Value, ValueMap};
use serde::{Deserialize, Serialize};

fn map<const N: usize>(entries: [(&str, serde_json::Value); N]) -> ValueMap {
    entries
        .into_iter()
        .map(|(k, v)| (k, Value::from_serialize(&v).unwrap()))
        .collect()
}

fn get_str(s: &Session, key: &str) -> Option<String> {
    s.get::<String>(key).unwrap()
}

#[test]
fn creates_a_new_session() {
    let s = Session::new();
    assert!(!s.id().is_empty());
    assert!(!s.is_destroyed());
    assert!(!s.is_dirty());
    assert_eq!(s.len(), 0);
    assert!(s.is_empty());
}

#[test]
fn creates_a_new_session_with_a_custom_id() {
    assert_eq!(Session::with_id("custom-id").id(), "custom-id");
    assert_eq!(Session::with_id("").id(), "", "ids are kept verbatim");
}

#[test]
fn creates_a_new_session_with_initial_data() {
    let data = SessionData {
        values: map([("hello", "world".into())]),
        flash: ValueMap::new(),
    };
    let s = Session::from_data("id", data);
    assert_eq!(s.len(), 1);
    assert_eq!(get_str(&s, "hello").as_deref(), Some("world"));
    assert!(!s.is_dirty());
}

#[test]
fn creates_a_new_session_with_initial_flash_data() {
    let data = SessionData {
        values: ValueMap::new(),
        flash: map([("hello", "world".into())]),
    };
    let s = Session::from_data("id", data);
    assert_eq!(get_str(&s, "hello").as_deref(), Some("world"));
    assert!(s.is_dirty());
}

#[test]
fn sets_and_gets_values() {
    let mut s = Session::new();
    assert!(!s.has("hello"));
    assert_eq!(get_str(&s, "hello"), None);
    assert!(!s.is_dirty());

    s.set("hello", "world").unwrap();
    assert!(s.has("hello"));
    assert_eq!(get_str(&s, "hello").as_deref(), Some("world"));
    assert!(s.is_dirty());

    s.unset("hello").unwrap();
    assert!(!s.has("hello"));
    assert_eq!(get_str(&s, "hello"), None);
    assert!(s.is_dirty());
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct User {
    id: u32,
    name: String,
}

#[test]
fn sets_and_gets_values_with_complex_types() {
    let data = SessionData {
        values: map([("user", serde_json::json!({"id": 123, "name": "alice"}))]),
        flash: ValueMap::new(),
    };
    let mut s = Session::from_data("id", data);
    assert_eq!(
        s.get::<User>("user").unwrap(),
        Some(User {
            id: 123,
            name: "alice".into()
        })
    );
    let bob = User {
        id: 456,
        name: "bob".into(),
    };
    s.set("user", &bob).unwrap();
    assert_eq!(s.get::<User>("user").unwrap(), Some(bob));
}

#[test]
fn unsets_values_when_set_to_null() {
    let mut s = Session::new();
    s.set("hello", "world").unwrap();
    s.set("hello", ()).unwrap();
    assert!(!s.has("hello"));
    assert_eq!(get_str(&s, "hello"), None);
    assert!(s.is_dirty());
}

#[test]
fn unsets_values_when_set_to_undefined() {
    let mut s = Session::new();
    s.set("hello", "world").unwrap();
    s.set("hello", None::<String>).unwrap();
    assert!(!s.has("hello"));
    assert_eq!(get_str(&s, "hello"), None);
    assert!(s.is_dirty());
}

#[test]
fn regenerates_the_session_id() {
    let mut s = Session::new();
    let original = s.id().to_owned();
    assert!(!s.is_dirty());
    s.regenerate_id(false).unwrap();
    assert_ne!(s.id(), original);
    assert_eq!(s.delete_id(), None);
    assert!(s.is_dirty());
}

#[test]
fn deletes_the_old_session_id() {
    let mut s = Session::new();
    let original = s.id().to_owned();
    s.regenerate_id(true).unwrap();
    assert_ne!(s.id(), original);
    assert_eq!(s.delete_id(), Some(original.as_str()));
    assert!(s.is_dirty());
}

#[test]
fn destroys_the_session() {
    let mut s = Session::new();
    assert!(!s.is_destroyed());
    s.destroy();
    assert!(s.is_destroyed());
}

#[test]
fn deletes_the_original_session_when_the_id_is_regenerated_more_than_once() {
    let mut s = Session::new();
    let original = s.id().to_owned();
    s.regenerate_id(true).unwrap();
    assert_ne!(s.id(), original);
    assert_eq!(s.delete_id(), Some(original.as_str()));
    s.regenerate_id(true).unwrap();
    assert_ne!(s.id(), original);
    assert_eq!(s.delete_id(), Some(original.as_str()));
}

fn destroyed() -> Session {
    let mut s = Session::new();
    s.set("hello", "world").unwrap();
    s.destroy();
    s
}

#[test]
fn destroyed_flash_throws() {
    let err = destroyed().flash("a", 1).unwrap_err();
    assert_eq!(err, SessionError::Destroyed);
    assert_eq!(err.to_string(), "Session has been destroyed");
}

#[test]
fn destroyed_regenerate_id_throws() {
    let err = destroyed().regenerate_id(false).unwrap_err();
    assert_eq!(err.to_string(), "Session has been destroyed");
    let err = destroyed().regenerate_id(true).unwrap_err();
    assert_eq!(err.to_string(), "Session has been destroyed");
}

#[test]
fn destroyed_set_throws() {
    let err = destroyed().set("a", 1).unwrap_err();
    assert_eq!(err.to_string(), "Session has been destroyed");
}

#[test]
fn destroyed_unset_throws() {
    let err = destroyed().unset("hello").unwrap_err();
    assert_eq!(err.to_string(), "Session has been destroyed");
}

#[test]
fn destroyed_get_returns_none() {
    let mut s = Session::new();
    s.set("hello", "world").unwrap();
    assert_eq!(get_str(&s, "hello").as_deref(), Some("world"));
    s.destroy();
    assert_eq!(get_str(&s, "hello"), None);
    assert_eq!(s.get_value("hello"), None);
}

#[test]
fn destroyed_has_returns_false() {
    let mut s = Session::new();
    s.set("hello", "world").unwrap();
    assert!(s.has("hello"));
    s.destroy();
    assert!(!s.has("hello"));
}

#[test]
fn destroyed_keeps_id_delete_id_dirty_and_empties_data() {
    let mut s = Session::with_id("a");
    s.regenerate_id(true).unwrap();
    s.set("k", 1).unwrap();
    s.flash("f", 2).unwrap();
    let id = s.id().to_owned();
    s.destroy();
    s.destroy(); // idempotent
    assert_eq!(s.id(), id);
    assert_eq!(s.delete_id(), Some("a"));
    assert!(s.is_dirty());
    assert_eq!(s.len(), 0);
    assert_eq!(s.data(), SessionData::default());
}

#[test]
fn destroy_does_not_mark_dirty() {
    let mut s = Session::new();
    s.destroy();
    assert!(!s.is_dirty());
}

// §1.2 / §1.3: the flash lifecycle and the rules around it.

#[test]
fn flash_is_invisible_in_the_same_request() {
    let mut s = Session::new();
    s.flash("message", "success!").unwrap();
    assert_eq!(get_str(&s, "message"), None);
    assert!(!s.has("message"));
    assert_eq!(s.len(), 0);
    assert!(s.is_dirty());
    assert_eq!(
        s.data().flash.get("message"),
        Some(&Value::from_serialize("success!").unwrap())
    );
}

#[test]
fn flash_lives_for_exactly_one_request_read_or_not() {
    let mut a = Session::with_id("s");
    a.flash("message", "success!").unwrap();

    let b = Session::from_data("s", a.data());
    assert!(b.is_dirty(), "incoming flash makes the session dirty");
    for _ in 0..3 {
        assert_eq!(get_str(&b, "message").as_deref(), Some("success!"));
    }
    assert!(b.has("message"));
    assert_eq!(b.len(), 1);
    assert!(b.data().flash.is_empty(), "incoming flash is never sent on");

    // Not read at all: still dropped.
    let b2 = Session::from_data("s", a.data());
    let c = Session::from_data("s", b2.data());
    assert_eq!(get_str(&c, "message"), None);
    assert!(!c.is_dirty());
}

#[test]
fn reflash_during_the_flash_request_survives_to_the_next() {
    let mut a = Session::with_id("s");
    a.flash("message", "one").unwrap();
    let mut b = Session::from_data("s", a.data());
    b.flash("message", "two").unwrap();
    assert_eq!(get_str(&b, "message").as_deref(), Some("one"));
    let c = Session::from_data("s", b.data());
    assert_eq!(get_str(&c, "message").as_deref(), Some("two"));
}

#[test]
fn flash_stores_null_but_set_deletes_it() {
    let mut s = Session::with_id("s");
    s.flash("f", ()).unwrap();
    s.set("v", ()).unwrap();
    assert!(s.data().flash.get("f").unwrap().is_null());
    assert!(!s.data().values.contains_key("v"));
    let next = Session::from_data("s", s.data());
    assert!(next.has("f"));
    assert_eq!(next.get::<Option<u8>>("f").unwrap(), Some(None));
}

#[test]
fn a_value_wins_over_incoming_flash_of_the_same_name() {
    let data = SessionData {
        values: map([("k", "value".into())]),
        flash: map([("k", "flash".into())]),
    };
    let mut s = Session::from_data("s", data);
    assert_eq!(get_str(&s, "k").as_deref(), Some("value"));
    assert_eq!(s.len(), 2, "a key in both maps counts twice");
    s.unset("k").unwrap();
    assert_eq!(
        get_str(&s, "k").as_deref(),
        Some("flash"),
        "unset cannot remove flash"
    );
    assert!(s.has("k"));
}

#[test]
fn set_does_not_touch_pending_flash() {
    let mut s = Session::with_id("s");
    s.flash("k", "f").unwrap();
    s.set("k", "v").unwrap();
    let d = s.data();
    assert_eq!(
        d.values.get("k").unwrap().deserialize::<String>().unwrap(),
        "v"
    );
    assert_eq!(
        d.flash.get("k").unwrap().deserialize::<String>().unwrap(),
        "f"
    );
}

#[test]
fn no_op_changes_still_mark_dirty() {
    let mut s = Session::new();
    s.unset("missing").unwrap();
    assert!(s.is_dirty());
    let mut s = Session::new();
    s.set("missing", ()).unwrap();
    assert!(s.is_dirty());
}

#[test]
fn reads_do_not_mark_dirty() {
    let data = SessionData {
        values: map([("a", 1.into())]),
        flash: ValueMap::new(),
    };
    let s = Session::from_data("s", data);
    let _ = s.get::<u8>("a");
    let _ = s.has("a");
    let _ = s.len();
    let _ = s.data();
    assert!(!s.is_dirty());
}

#[test]
fn get_of_another_shape_is_an_error() {
    let mut s = Session::new();
    s.set("n", 42).unwrap();
    s.set("list", [1, 2]).unwrap();
    assert!(matches!(
        s.get::<String>("n"),
        Err(SessionError::Deserialize(_))
    ));
    assert!(matches!(
        s.get::<User>("list"),
        Err(SessionError::Deserialize(_))
    ));
    assert!(matches!(
        s.get::<u8>("list"),
        Err(SessionError::Deserialize(_))
    ));
    assert_eq!(s.get::<u64>("n").unwrap(), Some(42));
}

#[test]
fn set_refuses_values_the_format_cannot_carry() {
    let mut s = Session::new();
    assert!(matches!(
        s.set("big", u128::MAX),
        Err(SessionError::InvalidValue(_))
    ));
    assert!(!s.has("big"));
    // Small 128-bit values fit in 64-bit CBOR integers.
    s.set("small", 5u128).unwrap();
    assert_eq!(s.get::<u8>("small").unwrap(), Some(5));
}

#[test]
fn insertion_order_is_kept_and_reset_moves_to_end() {
    let mut s = Session::with_id("s");
    for k in ["b", "1", "a", "0"] {
        s.set(k, 0).unwrap();
    }
    s.set("b", 1).unwrap(); // keeps its place
    let keys: Vec<String> = s.data().values.keys().map(str::to_owned).collect();
    assert_eq!(keys, ["b", "1", "a", "0"]);
    s.unset("b").unwrap();
    s.set("b", 2).unwrap(); // moves to the end
    let keys: Vec<String> = s.data().values.keys().map(str::to_owned).collect();
    assert_eq!(keys, ["1", "a", "0", "b"]);
}

#[test]
fn from_data_of_data_reproduces_the_next_request() {
    let mut s = Session::with_id("s");
    s.set("user", "alice").unwrap();
    s.set("n", 3).unwrap();
    s.flash("notice", "hi").unwrap();
    let next = Session::from_data(s.id(), s.data());
    assert_eq!(next.id(), "s");
    assert_eq!(get_str(&next, "user").as_deref(), Some("alice"));
    assert_eq!(next.get::<u8>("n").unwrap(), Some(3));
    assert_eq!(get_str(&next, "notice").as_deref(), Some("hi"));
    assert_eq!(next.len(), 3);
    assert!(next.is_dirty());
}

#[test]
fn session_is_clone_and_debug_shows_values() {
    let mut s = Session::with_id("s");
    s.set("theme", "dark").unwrap();
    let c = s.clone();
    assert_eq!(get_str(&c, "theme").as_deref(), Some("dark"));
    let dbg = format!("{s:?}");
    assert!(dbg.contains("theme") && dbg.contains("dark"), "{dbg}");
}
