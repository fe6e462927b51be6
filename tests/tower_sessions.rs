//! `TowerSessionsLayer`, one request at a time: a `tower_sessions_core::Session`
//! over this crate's cookie.

#[path = "support/capture.rs"]
mod capture;

use std::future::Future;

use cookie_session::tower_sessions::TowerSessionsLayer;
use cookie_session::{Key, Keyring, Session, SessionCodec, SessionHandle, SessionLayer};
use http::header::{COOKIE, SET_COOKIE, VARY};
use http::{HeaderValue, Request, Response, StatusCode};
use time::{Duration, OffsetDateTime};
use tower::{Layer, ServiceExt, service_fn};
use tower_sessions_core::Expiry;

const SECRET: &[u8] = b"the secret of the tower-sessions tests";

fn codec() -> SessionCodec {
    SessionCodec::builder("sid", Keyring::new(Key::from_secret(SECRET).unwrap()))
        .build()
        .unwrap()
}

/// Runs one request through `layer`, sending `cookies` as `Cookie` headers,
/// with `handler` given the request's tower-sessions `Session`.
fn run<F, Fut>(layer: &TowerSessionsLayer, cookies: &[&str], handler: F) -> Response<String>
where
    F: Fn(tower_sessions_core::Session) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = String> + Send + 'static,
{
    let svc = layer.layer(service_fn(move |req: Request<()>| {
        let handler = handler.clone();
        async move {
            let session = req
                .extensions()
                .get::<tower_sessions_core::Session>()
                .expect("the layer inserts a Session")
                .clone();
            Ok::<_, std::convert::Infallible>(Response::new(handler(session).await))
        }
    }));
    let mut req = Request::new(());
    for c in cookies {
        req.headers_mut()
            .append(COOKIE, HeaderValue::from_str(c).unwrap());
    }
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(svc.oneshot(req))
        .unwrap()
}

fn set_cookies(res: &Response<String>) -> Vec<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn varies(res: &Response<String>) -> bool {
    res.headers().get_all(VARY).iter().any(|v| v == "Cookie")
}

/// The session in the response's cookie.
fn saved(res: &Response<String>) -> Session {
    let all = set_cookies(res);
    assert_eq!(all.len(), 1, "{all:?}");
    let value = all[0]
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("sid=")
        .unwrap();
    codec().decode(value).unwrap()
}

fn cookie_of(session: &Session) -> String {
    format!("sid={}", codec().encode(session).unwrap())
}

#[test]
fn values_round_trip_between_session_and_record() {
    let layer = TowerSessionsLayer::new(codec());
    let mut s = Session::new();
    s.set("name", "alice").unwrap();
    s.set("n", 41u32).unwrap();
    s.set("ratio", 0.5f64).unwrap();
    s.set("tags", vec!["a", "b"]).unwrap();
    s.set(
        "nested",
        serde_json::json!({"ok": true, "list": [1, -2, 3]}),
    )
    .unwrap();
    // A CBOR byte string has no JSON form: tower-sessions cannot see it,
    // and it is kept as it is.
    s.set("raw", serde_bytes_like()).unwrap();
    let cookie = cookie_of(&s);

    let res = run(&layer, &[&cookie], |session| async move {
        let name: String = session.get("name").await.unwrap().unwrap();
        let n: u32 = session.get("n").await.unwrap().unwrap();
        let ratio: f64 = session.get("ratio").await.unwrap().unwrap();
        let tags: Vec<String> = session.get("tags").await.unwrap().unwrap();
        let nested = session.get_value("nested").await.unwrap().unwrap();
        assert_eq!(session.get_value("raw").await.unwrap(), None);
        session.insert("n", n + 1).await.unwrap();
        session.insert("added", ["x", "y"]).await.unwrap();
        session.remove_value("tags").await.unwrap();
        format!("{name} {n} {ratio} {tags:?} {nested}")
    });
    assert_eq!(
        res.body(),
        r#"alice 41 0.5 ["a", "b"] {"list":[1,-2,3],"ok":true}"#
    );
    let next = saved(&res);
    assert_eq!(next.id(), s.id());
    assert_eq!(next.get::<u32>("n").unwrap(), Some(42));
    assert_eq!(
        next.get::<String>("name").unwrap().as_deref(),
        Some("alice")
    );
    assert_eq!(next.get::<f64>("ratio").unwrap(), Some(0.5));
    assert_eq!(next.get::<Vec<String>>("tags").unwrap(), None);
    assert_eq!(
        next.get::<Vec<String>>("added").unwrap(),
        Some(vec!["x".into(), "y".into()])
    );
    assert_eq!(
        next.get::<serde_json::Value>("nested").unwrap(),
        Some(serde_json::json!({"ok": true, "list": [1, -2, 3]}))
    );
    assert_eq!(next.get_value("raw"), s.get_value("raw"));
}

/// A value that serializes as a CBOR byte string.
fn serde_bytes_like() -> impl serde::Serialize {
    struct Bytes;
    impl serde::Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&[0, 159, 255])
        }
    }
    Bytes
}

#[test]
fn a_new_session_is_saved_only_when_written() {
    let layer = TowerSessionsLayer::new(codec());
    // Untouched: nothing to send, nothing varies.
    let res = run(&layer, &["other=1"], |_| async { "hi".to_owned() });
    assert!(set_cookies(&res).is_empty());
    assert!(!varies(&res));
    // Read: no cookie, but the answer depends on the (absent) cookie.
    let res = run(&layer, &[], |s| async move {
        format!("{:?}", s.get::<u32>("n").await.unwrap())
    });
    assert_eq!(res.body(), "None");
    assert!(set_cookies(&res).is_empty());
    assert!(varies(&res));
    // Written: a cookie.
    let res = run(&layer, &[], |s| async move {
        s.insert("n", 1).await.unwrap();
        s.id().unwrap().to_string()
    });
    assert!(varies(&res));
    let next = saved(&res);
    assert_eq!(next.get::<u32>("n").unwrap(), Some(1));
    // The id the handler saw is the cookie's.
    assert_eq!(res.body(), next.id());
}

#[test]
fn a_read_only_request_sends_no_set_cookie() {
    let layer = TowerSessionsLayer::new(codec());
    let mut s = Session::new();
    s.set("n", 7).unwrap();
    let cookie = cookie_of(&s);
    let res = run(&layer, &["theme=dark", &cookie], |s| async move {
        // Writing the value it already has is no change either.
        let n: u32 = s.get("n").await.unwrap().unwrap();
        s.insert("n", n).await.unwrap();
        assert!(!s.is_modified());
        n.to_string()
    });
    assert_eq!(res.body(), "7");
    assert!(set_cookies(&res).is_empty(), "{:?}", set_cookies(&res));
    assert!(varies(&res));
    // Removing a key that is not there: modified for tower-sessions, but
    // the session is the same, so no cookie either.
    let res = run(&layer, &[&cookie], |s| async move {
        s.remove_value("absent").await.unwrap();
        String::new()
    });
    assert!(set_cookies(&res).is_empty(), "{:?}", set_cookies(&res));
}

#[test]
fn cycle_id_gives_a_new_id_and_keeps_the_values() {
    let layer = TowerSessionsLayer::new(codec());
    let mut s = Session::new();
    s.set("cart", 3).unwrap();
    let cookie = cookie_of(&s);
    let res = run(&layer, &[&cookie], |s| async move {
        s.cycle_id().await.unwrap();
        s.insert("user", "alice").await.unwrap();
        String::new()
    });
    let next = saved(&res);
    assert_ne!(next.id(), s.id());
    assert_eq!(next.id().len(), 22);
    assert_eq!(next.get::<u32>("cart").unwrap(), Some(3));
    assert_eq!(
        next.get::<String>("user").unwrap().as_deref(),
        Some("alice")
    );
}

#[test]
fn the_id_is_the_cookie_session_id() {
    let layer = TowerSessionsLayer::new(codec());
    let s = Session::new();
    let cookie = cookie_of(&s);
    let res = run(&layer, &[&cookie], |s| async move {
        s.id().unwrap().to_string()
    });
    assert_eq!(res.body(), s.id());
}

#[test]
fn delete_and_flush_remove_the_cookie() {
    let layer = TowerSessionsLayer::new(codec());
    let mut s = Session::new();
    s.set("user", "alice").unwrap();
    let cookie = cookie_of(&s);
    let is_removal = |res: &Response<String>| {
        let all = set_cookies(res);
        all.len() == 1 && all[0].starts_with("sid=;") && all[0].contains("Max-Age=0")
    };
    let res = run(&layer, &[&cookie], |s| async move {
        s.delete().await.unwrap();
        String::new()
    });
    assert!(is_removal(&res), "{:?}", set_cookies(&res));
    let res = run(&layer, &[&cookie], |s| async move {
        s.flush().await.unwrap();
        String::new()
    });
    assert!(is_removal(&res), "{:?}", set_cookies(&res));
    // Logged out with a message: a new session with only the message.
    let res = run(&layer, &[&cookie], |s| async move {
        s.flush().await.unwrap();
        s.insert("notice", "bye").await.unwrap();
        String::new()
    });
    let next = saved(&res);
    assert_ne!(next.id(), s.id());
    assert_eq!(next.get::<String>("user").unwrap(), None);
    assert_eq!(
        next.get::<String>("notice").unwrap().as_deref(),
        Some("bye")
    );
}

#[test]
fn a_refresh_due_cookie_is_reissued_though_the_record_is_unchanged() {
    let codec = SessionCodec::builder("sid", Keyring::new(Key::from_secret(SECRET).unwrap()))
        .max_age(Duration::hours(1))
        .refresh_after(Duration::minutes(30))
        .build()
        .unwrap();
    let layer = TowerSessionsLayer::new(codec.clone());
    let mut s = Session::new();
    s.set("n", 5).unwrap();
    let now = OffsetDateTime::now_utc();
    let fresh = format!("sid={}", codec.encode_at(&s, now).unwrap());
    let old = format!(
        "sid={}",
        codec.encode_at(&s, now - Duration::minutes(40)).unwrap()
    );
    let read = |s: tower_sessions_core::Session| async move {
        let expiry = s.expiry();
        let n: u32 = s.get("n").await.unwrap().unwrap();
        format!("{n} {expiry:?}")
    };
    let res = run(&layer, &[&fresh], read);
    assert_eq!(
        res.body(),
        &format!("5 {:?}", Some(Expiry::OnInactivity(Duration::hours(1))))
    );
    assert!(set_cookies(&res).is_empty());

    let res = run(&layer, &[&old], read);
    assert!(res.body().starts_with("5 "));
    let all = set_cookies(&res);
    assert_eq!(all.len(), 1, "{all:?}");
    let next = codec
        .decode(
            all[0]
                .split(';')
                .next()
                .unwrap()
                .strip_prefix("sid=")
                .unwrap(),
        )
        .unwrap();
    assert_eq!(next.id(), s.id());
    assert_eq!(next.get::<u32>("n").unwrap(), Some(5));
    assert!(next.issued_at().unwrap() >= now.unix_timestamp() as u64 - 1);
}

#[test]
fn max_lifetime_shows_as_the_expiry_date_once_it_comes_first() {
    let codec = SessionCodec::builder("sid", Keyring::new(Key::from_secret(SECRET).unwrap()))
        .max_age(Duration::hours(1))
        .max_lifetime(Duration::hours(2))
        .build()
        .unwrap();
    let layer = TowerSessionsLayer::new(codec.clone());
    let now = OffsetDateTime::now_utc();
    // Created 90 minutes ago, re-issued 40 minutes ago: the lifetime ends
    // in 30 minutes, before max_age.
    let first = codec
        .encode_at(&Session::new(), now - Duration::minutes(90))
        .unwrap();
    let mut s = codec
        .decode_at(&first, now - Duration::minutes(40))
        .unwrap();
    s.touch();
    let value = codec.encode_at(&s, now - Duration::minutes(40)).unwrap();
    let created = codec.decode(&value).unwrap().created_at().unwrap();
    let res = run(&layer, &[&format!("sid={value}")], |s| async move {
        format!("{:?}", s.expiry())
    });
    let end = OffsetDateTime::from_unix_timestamp(created as i64).unwrap() + Duration::hours(2);
    assert_eq!(res.body(), &format!("{:?}", Some(Expiry::AtDateTime(end))));
}

#[test]
fn a_refused_cookie_gives_an_empty_session_and_is_logged() {
    let layer = TowerSessionsLayer::new(codec());
    let other = SessionCodec::builder(
        "sid",
        Keyring::new(Key::from_secret(b"another secret, another application").unwrap()),
    )
    .build()
    .unwrap();
    let mut s = Session::new();
    s.set("user", "mallory").unwrap();
    let value = other.encode(&s).unwrap();
    let cookie = format!("sid={value}");
    let (res, logs) = capture::logged(|| {
        run(&layer, &[&cookie], |s| async move {
            format!("{:?}", s.get::<String>("user").await.unwrap())
        })
    });
    assert_eq!(res.body(), "None");
    // Deleted once, so the browser stops sending it.
    let all = set_cookies(&res);
    assert_eq!(all.len(), 1);
    assert!(all[0].starts_with("sid=;") && all[0].contains("Max-Age=0"));
    let refusal = logs
        .iter()
        .find(|l| l.contains("session cookie refused"))
        .unwrap_or_else(|| panic!("no refusal logged: {logs:?}"));
    assert!(refusal.starts_with("INFO "), "{refusal}");
    assert!(refusal.contains("reason="), "{refusal}");
    assert!(logs.iter().all(|l| !l.contains(&value)), "{logs:?}");
}

#[test]
fn a_session_too_large_to_save_fails_closed() {
    let layer = TowerSessionsLayer::new(codec());
    let mut s = Session::new();
    s.set("user", "alice").unwrap();
    let cookie = cookie_of(&s);
    let res = run(&layer, &[&cookie], |s| async move {
        s.insert("blob", "x".repeat(10_000)).await.unwrap();
        "done".to_owned()
    });
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.body(), "");
    let all = set_cookies(&res);
    assert_eq!(all.len(), 1);
    assert!(all[0].starts_with("sid=;") && all[0].contains("Max-Age=0"));
}

#[test]
fn flash_set_behind_session_layer_reads_once() {
    // One cookie shared by a SessionLayer route and a tower-sessions one.
    let plain = SessionLayer::new(codec());
    let svc = plain.layer(service_fn(|req: Request<()>| async move {
        let h = req.extensions().get::<SessionHandle>().unwrap();
        h.set("user", "alice").unwrap();
        h.flash("notice", "saved").unwrap();
        Ok::<_, std::convert::Infallible>(Response::new(String::new()))
    }));
    let res = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(svc.oneshot(Request::new(())))
        .unwrap();
    let cookie = set_cookies(&res)[0].split(';').next().unwrap().to_owned();

    let layer = TowerSessionsLayer::new(codec());
    let res = run(&layer, &[&cookie], |s| async move {
        format!("{:?}", s.get::<String>("notice").await.unwrap())
    });
    assert_eq!(res.body(), "Some(\"saved\")");
    // The flash is dropped from the next cookie, the value kept.
    let next = saved(&res);
    assert_eq!(next.get::<String>("notice").unwrap(), None);
    assert_eq!(
        next.get::<String>("user").unwrap().as_deref(),
        Some("alice")
    );
}
