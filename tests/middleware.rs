//! `SessionLayer` behaviour, one request at a time.
#![cfg(feature = "tower")]

#[path = "support/layer.rs"]
mod layer;

use cookie_session::{Key, Keyring, Session, SessionCodec, SessionHandle, SessionLayer};
use http::HeaderValue;
use http::header::{SET_COOKIE, VARY};
use http::{Request, Response};
use layer::{run, run_logged, session_pair, set_cookies, varies};
use tower::ServiceExt;

const SECRET_A: &[u8] = b"first secret for the middleware tests!!";
const SECRET_B: &[u8] = b"second secret for the middleware tests!";

fn codec(secrets: &[&[u8]]) -> SessionCodec {
    let mut ring = Keyring::new(Key::from_secret(secrets[0]).unwrap());
    for s in &secrets[1..] {
        ring = ring.with_fallback(Key::from_secret(s).unwrap()).unwrap();
    }
    SessionCodec::builder("sid", ring).build().unwrap()
}

fn count(h: &SessionHandle, res: &mut Response<String>) {
    let n = h.get::<u32>("n").unwrap().unwrap_or(0) + 1;
    h.set("n", n).unwrap();
    *res.body_mut() = n.to_string();
}

fn peek(h: &SessionHandle, res: &mut Response<String>) {
    *res.body_mut() = format!("{:?}", h.get::<u32>("n").unwrap());
}

#[test]
fn untouched_anonymous_request_gets_no_cookie_and_no_vary() {
    let layer = SessionLayer::new(codec(&[SECRET_A]));
    let res = run(&layer, &["other=1"], |_, res| *res.body_mut() = "hi".into());
    assert_eq!(res.body(), "hi");
    assert!(set_cookies(&res).is_empty());
    assert!(!varies(&res));
}

#[test]
fn changes_are_saved_and_read_back_without_rewriting() {
    let layer = SessionLayer::new(codec(&[SECRET_A]));
    let res = run(&layer, &[], count);
    assert_eq!(res.body(), "1");
    assert!(varies(&res));
    let pair = session_pair(&res);
    let res = run(&layer, &[&pair], count);
    assert_eq!(res.body(), "2");
    let pair = session_pair(&res);
    // Reading only: no Set-Cookie, but the response depends on the cookie.
    let res = run(&layer, &["a=b", &pair], peek);
    assert_eq!(res.body(), "Some(2)");
    assert!(set_cookies(&res).is_empty());
    assert!(varies(&res));
}

#[test]
fn handler_set_cookies_and_vary_are_kept() {
    let layer = SessionLayer::new(codec(&[SECRET_A]));
    let res = run(&layer, &[], |h, res| {
        res.headers_mut()
            .append(SET_COOKIE, HeaderValue::from_static("theme=dark"));
        res.headers_mut()
            .append(VARY, HeaderValue::from_static("Accept-Encoding, cookie"));
        h.set("x", 1).unwrap();
    });
    let all = set_cookies(&res);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], "theme=dark");
    assert!(all[1].starts_with("sid="));
    assert_eq!(res.headers().get_all(VARY).iter().count(), 1);
}

#[test]
fn flash_is_seen_once() {
    let layer = SessionLayer::new(codec(&[SECRET_A]));
    let res = run(&layer, &[], |h, _| h.flash("msg", "hello").unwrap());
    let pair = session_pair(&res);
    let res = run(&layer, &[&pair], |h, res| {
        *res.body_mut() = format!("{:?}", h.get::<String>("msg").unwrap());
    });
    assert_eq!(res.body(), "Some(\"hello\")");
    // Flash consumed: the cookie is rewritten without it.
    let pair = session_pair(&res);
    let res = run(&layer, &[&pair], |h, res| {
        *res.body_mut() = format!("{:?}", h.get::<String>("msg").unwrap());
    });
    assert_eq!(res.body(), "None");
    assert!(set_cookies(&res).is_empty());
}

#[test]
fn destroy_deletes_the_cookie() {
    let layer = SessionLayer::new(codec(&[SECRET_A]));
    let pair = session_pair(&run(&layer, &[], count));
    let res = run(&layer, &[&pair], |h, _| h.destroy());
    let all = set_cookies(&res);
    assert_eq!(all.len(), 1);
    assert!(all[0].starts_with("sid=;") && all[0].contains("Max-Age=0"));
    assert!(varies(&res));
}

#[test]
fn replace_with_clean_session_deletes_and_with_flash_reissues() {
    let layer = SessionLayer::new(codec(&[SECRET_A]));
    let pair = session_pair(&run(&layer, &[], count));
    let res = run(&layer, &[&pair], |h, _| {
        h.replace(Session::new());
    });
    assert!(set_cookies(&res)[0].starts_with("sid=;"));

    let res = run(&layer, &[&pair], |h, res| {
        let old = h.replace(Session::new());
        h.flash("msg", "bye").unwrap();
        *res.body_mut() = old.id().to_owned();
    });
    let old_id = res.body().clone();
    let new_pair = session_pair(&res);

    // A replacement with data is saved even though nothing changed it.
    let replaced = run(&layer, &[&pair], |h, _| {
        let mut data = cookie_session::SessionData::default();
        data.values
            .insert("n", cookie_session::Value::from_serialize(&7).unwrap());
        h.replace(Session::from_data("replacement", data));
    });
    let read = run(&layer, &[&session_pair(&replaced)], peek);
    assert_eq!(read.body(), "Some(7)");

    let res = run(&layer, &[&new_pair], |h, res| {
        *res.body_mut() = format!(
            "{} {:?} {:?}",
            h.id(),
            h.get::<String>("msg"),
            h.get::<u32>("n")
        );
    });
    assert!(!res.body().starts_with(&old_id));
    assert!(
        res.body().ends_with("Ok(Some(\"bye\")) Ok(None)"),
        "{}",
        res.body()
    );
}

#[test]
fn set_codec_rotates_keys_and_reissues_old_cookies() {
    let layer = SessionLayer::new(codec(&[SECRET_A]));
    let old_pair = session_pair(&run(&layer, &[], count));
    layer.set_codec(codec(&[SECRET_B, SECRET_A]));
    // Read-only handler, yet the cookie is re-issued with the new key.
    let res = run(&layer, &[&old_pair], peek);
    assert_eq!(res.body(), "Some(1)");
    let new_pair = session_pair(&res);
    let only_b = codec(&[SECRET_B]);
    let value = new_pair.strip_prefix("sid=").unwrap();
    assert!(only_b.decode(value).is_ok());
    assert!(
        only_b
            .decode(old_pair.strip_prefix("sid=").unwrap())
            .is_err()
    );
    // Once the old key is dropped, old cookies give a fresh session.
    layer.set_codec(only_b);
    assert_eq!(run(&layer, &[&old_pair], peek).body(), "None");
    assert_eq!(run(&layer, &[&new_pair], peek).body(), "Some(1)");
}

#[test]
fn refused_cookie_gives_fresh_session_and_logs_reason_not_value() {
    let layer = SessionLayer::new(codec(&[SECRET_A]));
    let foreign = SessionLayer::new(codec(&[SECRET_B]));
    let foreign_pair = session_pair(&run(&foreign, &[], count));
    let (res, logs) = run_logged(&layer, &[&foreign_pair], count);
    assert_eq!(res.body(), "1");
    assert!(varies(&res));
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(logs[0].starts_with("INFO"), "{}", logs[0]);
    assert!(logs[0].contains("unknown key"), "{}", logs[0]);
    let value = foreign_pair.strip_prefix("sid=").unwrap();
    assert!(!logs[0].contains(value), "{}", logs[0]);
    assert!(!logs[0].contains(&value[..16]), "{}", logs[0]);
}

#[test]
fn too_large_session_is_logged_and_the_cookie_deleted() {
    let layer = SessionLayer::new(codec(&[SECRET_A]));
    let (res, logs) = run_logged(&layer, &[], |h, _| h.set("big", "x".repeat(5000)).unwrap());
    let all = set_cookies(&res);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].starts_with("sid=;") && all[0].contains("Max-Age=0"));
    // Loud by default: 500, with no detail in the body.
    assert_eq!(res.status(), 500);
    assert_eq!(res.body(), "");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(
        logs[0].starts_with("ERROR") && logs[0].contains("too large"),
        "{}",
        logs[0]
    );
}

#[cfg(feature = "axum")]
#[test]
fn axum_extractor_works_and_reports_a_missing_layer() {
    use axum::{Router, body::Body, routing::get};
    async fn handler(session: SessionHandle) -> String {
        let n = session.get::<u32>("n").unwrap().unwrap_or(0) + 1;
        session.set("n", n).unwrap();
        n.to_string()
    }
    async fn optional(session: Option<SessionHandle>) -> String {
        session.map_or("none".into(), |s| s.id())
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let body = |res: http::Response<Body>| {
        let bytes = rt
            .block_on(axum::body::to_bytes(res.into_body(), 1 << 16))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    };
    let bare = Router::new().route("/", get(optional));
    let res = rt
        .block_on(bare.clone().oneshot(Request::new(Body::empty())))
        .unwrap();
    assert_eq!(body(res), "none");
    let layered = bare.layer(SessionLayer::new(codec(&[SECRET_A])));
    let res = rt
        .block_on(layered.oneshot(Request::new(Body::empty())))
        .unwrap();
    assert_eq!(body(res).len(), 22, "a session id");

    let router = Router::new().route("/", get(handler));
    let res = rt
        .block_on(router.clone().oneshot(Request::new(Body::empty())))
        .unwrap();
    assert_eq!(res.status(), 500);

    let app = router.layer(SessionLayer::new(codec(&[SECRET_A])));
    let res = rt
        .block_on(app.oneshot(Request::new(Body::empty())))
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .starts_with("sid=")
    );
}

#[test]
fn a_revoked_cookie_gives_a_fresh_session_and_the_reason_is_logged() {
    let codec = SessionCodec::builder("sid", Keyring::new(Key::from_secret(SECRET_A).unwrap()))
        .revoked_when(|v| v.session.get_value("user").and_then(|u| u.as_str()) == Some("mallory"))
        .build()
        .unwrap();
    let mut s = Session::new();
    s.set("user", "mallory").unwrap();
    let value = codec.encode(&s).unwrap();
    let layer = SessionLayer::new(codec);
    let (res, logs) = run_logged(&layer, &[&format!("sid={value}")], |h, res| {
        *res.body_mut() = format!("{:?}", h.get::<String>("user").unwrap());
    });
    assert_eq!(res.body(), "None");
    assert!(varies(&res));
    // Deleted once, so the browser stops sending it.
    let all = set_cookies(&res);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].starts_with("sid=;") && all[0].contains("Max-Age=0"));
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(
        logs[0].starts_with("INFO") && logs[0].contains("session revoked"),
        "{logs:?}"
    );
    assert!(!logs[0].contains(&value[..16]), "{logs:?}");
}

#[test]
fn a_read_only_request_with_a_cookie_due_for_refresh_gets_a_new_one() {
    use time::{Duration, OffsetDateTime};
    let codec = SessionCodec::builder("sid", Keyring::new(Key::from_secret(SECRET_A).unwrap()))
        .max_age(Duration::hours(1))
        .build()
        .unwrap();
    let mut s = Session::new();
    s.set("n", 5).unwrap();
    let now = OffsetDateTime::now_utc();
    let recent = format!(
        "sid={}",
        codec.encode_at(&s, now - Duration::minutes(29)).unwrap()
    );
    let old = format!(
        "sid={}",
        codec.encode_at(&s, now - Duration::minutes(31)).unwrap()
    );
    let layer = SessionLayer::new(codec.clone());
    let res = run(&layer, &[&recent], peek);
    assert_eq!(res.body(), "Some(5)");
    assert!(set_cookies(&res).is_empty());
    let res = run(&layer, &[&old], peek);
    assert_eq!(res.body(), "Some(5)");
    let pair = session_pair(&res);
    let v = codec
        .verify_at(
            pair.strip_prefix("sid=").unwrap(),
            OffsetDateTime::now_utc(),
        )
        .unwrap();
    assert!(v.issued_at >= now.unix_timestamp() as u64);
    assert_eq!(v.session.id(), s.id());
    assert_eq!(v.session.get::<u32>("n").unwrap(), Some(5));
}

#[test]
fn on_save_error_can_keep_the_handlers_response() {
    let layer = SessionLayer::new(codec(&[SECRET_A]))
        .on_save_error(|_| cookie_session::OnSaveError::KeepResponse);
    let res = run(&layer, &[], |h, res| {
        h.set("big", "x".repeat(5000)).unwrap();
        *res.body_mut() = "kept".into();
    });
    assert_eq!(res.status(), 200);
    assert_eq!(res.body(), "kept");
    assert!(set_cookies(&res)[0].starts_with("sid=;"));
    let layer = layer.on_save_error(|_| cookie_session::OnSaveError::Status(413));
    let res = run(&layer, &[], |h, _| h.set("big", "x".repeat(5000)).unwrap());
    assert_eq!(res.status(), 413);
}

#[test]
fn a_handler_can_check_that_the_session_still_fits() {
    let layer = SessionLayer::new(codec(&[SECRET_A]));
    let res = run(&layer, &[], |h, res| {
        h.set("small", "x").unwrap();
        let small = h.fits();
        h.set("big", "x".repeat(5000)).unwrap();
        let big = h.fits();
        h.unset("big").unwrap();
        *res.body_mut() = format!("{small} {big} {}", h.fits());
    });
    assert_eq!(res.body(), "true false true");
    assert_eq!(res.status(), 200);
    assert!(session_pair(&res).len() > 10);
}

#[cfg(feature = "remix")]
mod remix {
    use super::*;
    use cookie_session::remix::{MigratingCodec, RemixCodec, RemixFormat, Write};

    fn legacy(format: RemixFormat) -> RemixCodec {
        RemixCodec::builder("sid", format)
            .secrets(["a secret of the Node app"])
            .build()
            .unwrap()
    }

    fn remix_pair(codec: &RemixCodec, n: u32) -> String {
        let mut s = Session::new();
        s.set("n", n).unwrap();
        let set_cookie = codec.save(&s).unwrap().unwrap();
        set_cookie.split(';').next().unwrap().to_owned()
    }

    #[test]
    fn a_remix_cookie_comes_out_of_the_layer_as_v1() {
        for format in [RemixFormat::Remix3, RemixFormat::ReactRouter] {
            let legacy = legacy(format);
            let v1 = codec(&[SECRET_A]);
            let migrating =
                MigratingCodec::new(v1.clone(), legacy.clone(), Write::CookieSession).unwrap();
            let layer = SessionLayer::new(migrating);
            // A handler that only reads: the cookie is rewritten all the same.
            let res = run(&layer, &[&remix_pair(&legacy, 7)], peek);
            assert_eq!(res.body(), "Some(7)", "{format:?}");
            let pair = session_pair(&res);
            let value = pair.strip_prefix("sid=").unwrap();
            let s = v1.decode(value).unwrap();
            assert_eq!(s.get::<u32>("n").unwrap(), Some(7));
            // From then on, it is read as v1 and not rewritten.
            let res = run(&layer, &[&pair], peek);
            assert_eq!(res.body(), "Some(7)");
            assert!(set_cookies(&res).is_empty());
        }
    }

    #[test]
    fn a_remix_codec_runs_behind_the_layer_and_the_codec_can_be_swapped() {
        let legacy = legacy(RemixFormat::Remix3);
        let layer = SessionLayer::new(legacy.clone());
        let res = run(&layer, &[], count);
        let pair = session_pair(&res);
        assert!(legacy.decode(pair.strip_prefix("sid=").unwrap()).is_some());
        // A forged Remix cookie is refused, logged and deleted.
        let forged = remix_pair(&super::remix::legacy_other(), 1);
        let (res, logs) = run_logged(&layer, &[&forged], peek);
        assert_eq!(res.body(), "None");
        assert!(logs[0].contains("signature"), "{logs:?}");
        assert!(set_cookies(&res)[0].starts_with("sid=;"));

        let migrating = SessionLayer::new(
            MigratingCodec::new(codec(&[SECRET_A]), legacy.clone(), Write::Remix).unwrap(),
        );
        let res = run(&migrating, &[&pair], count);
        assert_eq!(res.body(), "2");
        migrating.set_codec(
            MigratingCodec::new(codec(&[SECRET_A]), legacy, Write::CookieSession).unwrap(),
        );
        let res = run(&migrating, &[&session_pair(&res)], count);
        assert_eq!(res.body(), "3");
        let v1 = codec(&[SECRET_A]);
        assert!(
            v1.decode(session_pair(&res).strip_prefix("sid=").unwrap())
                .is_ok()
        );
    }

    fn legacy_other() -> RemixCodec {
        RemixCodec::builder("sid", RemixFormat::Remix3)
            .secrets(["another Node app's secret"])
            .build()
            .unwrap()
    }
}
