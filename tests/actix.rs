//! The actix-web `SessionMiddleware` and extractor, one request at a time:
//! the same behaviour as the tower layer (tests/middleware.rs).

#[path = "support/capture.rs"]
mod capture;

use actix_web::http::header::{COOKIE, SET_COOKIE, VARY};
use actix_web::{App, HttpResponse, test, web};
use cookie_session::actix::SessionMiddleware;
use cookie_session::{CookieCodec, Key, Keyring, OnSaveError, SessionCodec, SessionHandle};

const SECRET_A: &[u8] = b"first secret for the middleware tests!!";
const SECRET_B: &[u8] = b"second secret for the middleware tests!";

fn codec(secrets: &[&[u8]]) -> SessionCodec {
    let mut ring = Keyring::new(Key::from_secret(secrets[0]).unwrap());
    for s in &secrets[1..] {
        ring = ring.with_fallback(Key::from_secret(s).unwrap()).unwrap();
    }
    SessionCodec::builder("sid", ring).build().unwrap()
}

type Handler = fn(&SessionHandle) -> HttpResponse;

/// What came back, with the headers the tests look at.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
    set_cookies: Vec<String>,
    vary: Vec<String>,
}

impl Answer {
    fn varies(&self) -> bool {
        self.vary.iter().any(|v| v == "Cookie")
    }

    /// The `name=value` of the `sid` cookie set.
    fn session_pair(&self) -> String {
        let c = self
            .set_cookies
            .iter()
            .find(|c| c.starts_with("sid="))
            .expect("a session cookie");
        c.split(';').next().unwrap().to_owned()
    }

    fn deletes_the_cookie(&self) -> bool {
        self.set_cookies.len() == 1
            && self.set_cookies[0].starts_with("sid=;")
            && self.set_cookies[0].contains("Max-Age=0")
    }
}

/// Runs one request through an app wrapped in `mw` whose only handler is
/// `handler`, sending `cookies` as separate `Cookie` headers.
fn run<C: CookieCodec + 'static>(
    mw: &SessionMiddleware<C>,
    cookies: &[&str],
    handler: Handler,
) -> Answer {
    let app = App::new()
        .wrap(mw.clone())
        .default_service(web::to(move |h: SessionHandle| async move { handler(&h) }));
    call(app, cookies)
}

fn call<T, B>(app: App<T>, cookies: &[&str]) -> Answer
where
    B: actix_web::body::MessageBody,
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
{
    actix_web::rt::System::new().block_on(async move {
        let app = test::init_service(app).await;
        let mut req = test::TestRequest::get();
        for c in cookies {
            req = req.append_header((COOKIE, *c));
        }
        let res = test::call_service(&app, req.to_request()).await;
        let all = |name| {
            res.headers()
                .get_all(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let (set_cookies, vary) = (all(SET_COOKIE), all(VARY));
        let status = res.status().as_u16();
        let body = test::read_body(res).await;
        Answer {
            status,
            body: String::from_utf8(body.to_vec()).unwrap(),
            set_cookies,
            vary,
        }
    })
}

fn run_logged<C: CookieCodec + 'static>(
    mw: &SessionMiddleware<C>,
    cookies: &[&str],
    handler: Handler,
) -> (Answer, Vec<String>) {
    capture::logged(|| run(mw, cookies, handler))
}

fn count(h: &SessionHandle) -> HttpResponse {
    let n = h.get::<u32>("n").unwrap().unwrap_or(0) + 1;
    h.set("n", n).unwrap();
    HttpResponse::Ok().body(n.to_string())
}

fn peek(h: &SessionHandle) -> HttpResponse {
    HttpResponse::Ok().body(format!("{:?}", h.get::<u32>("n").unwrap()))
}

fn read_msg(h: &SessionHandle) -> HttpResponse {
    HttpResponse::Ok().body(format!("{:?}", h.get::<String>("msg").unwrap()))
}

#[test]
fn untouched_anonymous_request_gets_no_cookie_and_no_vary() {
    let mw = SessionMiddleware::new(codec(&[SECRET_A]));
    let res = run(&mw, &["other=1"], |_| HttpResponse::Ok().body("hi"));
    assert_eq!(res.body, "hi");
    assert!(res.set_cookies.is_empty());
    assert!(res.vary.is_empty());
}

#[test]
fn changes_are_saved_and_read_back_without_rewriting() {
    let mw = SessionMiddleware::new(codec(&[SECRET_A]));
    let res = run(&mw, &[], count);
    assert_eq!(res.body, "1");
    assert!(res.varies());
    let res = run(&mw, &[&res.session_pair()], count);
    assert_eq!(res.body, "2");
    // Reading only: no Set-Cookie, but the response depends on the cookie.
    let res = run(&mw, &["a=b", &res.session_pair()], peek);
    assert_eq!(res.body, "Some(2)");
    assert!(res.set_cookies.is_empty());
    assert!(res.varies());
}

#[test]
fn vary_when_the_request_carried_the_cookie_even_if_unused() {
    let mw = SessionMiddleware::new(codec(&[SECRET_A]));
    let pair = run(&mw, &[], count).session_pair();
    let res = run(&mw, &[&pair], |_| HttpResponse::Ok().finish());
    assert!(res.set_cookies.is_empty());
    assert!(res.varies());
    // A handler that reads a session no cookie came with: Vary too.
    let res = run(&mw, &[], peek);
    assert_eq!(res.body, "None");
    assert!(res.set_cookies.is_empty());
    assert!(res.varies());
}

#[test]
fn handler_set_cookies_and_vary_are_kept() {
    let mw = SessionMiddleware::new(codec(&[SECRET_A]));
    let res = run(&mw, &[], |h| {
        h.set("x", 1).unwrap();
        HttpResponse::Ok()
            .append_header((SET_COOKIE, "theme=dark"))
            .append_header((VARY, "Accept-Encoding, cookie"))
            .finish()
    });
    assert_eq!(res.set_cookies.len(), 2, "{res:?}");
    assert_eq!(res.set_cookies[0], "theme=dark");
    assert!(res.set_cookies[1].starts_with("sid="));
    assert_eq!(res.vary, ["Accept-Encoding, cookie"]);
}

#[test]
fn a_handler_that_sets_the_session_cookie_itself_wins_with_a_warning() {
    let mw = SessionMiddleware::new(codec(&[SECRET_A]));
    let (res, logs) = run_logged(&mw, &[], |h| {
        h.set("x", 1).unwrap();
        HttpResponse::Ok()
            .append_header((SET_COOKIE, " sid =mine; Path=/"))
            .finish()
    });
    assert_eq!(res.set_cookies, [" sid =mine; Path=/"]);
    assert!(res.varies());
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(logs[0].starts_with("WARN"), "{logs:?}");
}

#[test]
fn flash_is_seen_once() {
    let mw = SessionMiddleware::new(codec(&[SECRET_A]));
    let res = run(&mw, &[], |h| {
        h.flash("msg", "hello").unwrap();
        HttpResponse::Ok().finish()
    });
    let res = run(&mw, &[&res.session_pair()], read_msg);
    assert_eq!(res.body, "Some(\"hello\")");
    // Flash consumed: the cookie is rewritten without it.
    let res = run(&mw, &[&res.session_pair()], read_msg);
    assert_eq!(res.body, "None");
    assert!(res.set_cookies.is_empty());
}

#[test]
fn destroy_deletes_the_cookie() {
    let mw = SessionMiddleware::new(codec(&[SECRET_A]));
    let pair = run(&mw, &[], count).session_pair();
    let res = run(&mw, &[&pair], |h| {
        h.destroy();
        HttpResponse::Ok().finish()
    });
    assert!(res.deletes_the_cookie(), "{res:?}");
    assert!(res.varies());
}

#[test]
fn set_codec_rotates_keys_and_reissues_old_cookies() {
    let mw = SessionMiddleware::new(codec(&[SECRET_A]));
    let old_pair = run(&mw, &[], count).session_pair();
    // A clone shares the codec, as the workers of an HttpServer do.
    mw.clone().set_codec(codec(&[SECRET_B, SECRET_A]));
    // Read-only handler, yet the cookie is re-issued with the new key.
    let res = run(&mw, &[&old_pair], peek);
    assert_eq!(res.body, "Some(1)");
    let new_pair = res.session_pair();
    let only_b = codec(&[SECRET_B]);
    assert!(
        only_b
            .decode(new_pair.strip_prefix("sid=").unwrap())
            .is_ok()
    );
    assert!(
        only_b
            .decode(old_pair.strip_prefix("sid=").unwrap())
            .is_err()
    );
    // Once the old key is dropped, old cookies give a fresh session.
    mw.set_codec(only_b);
    assert_eq!(
        mw.codec().primary_key_id(),
        codec(&[SECRET_B]).primary_key_id()
    );
    assert_eq!(run(&mw, &[&old_pair], peek).body, "None");
    assert_eq!(run(&mw, &[&new_pair], peek).body, "Some(1)");
}

#[test]
fn refused_cookie_gives_fresh_session_is_deleted_once_and_logs_reason_not_value() {
    let mw = SessionMiddleware::new(codec(&[SECRET_A]));
    let foreign = SessionMiddleware::new(codec(&[SECRET_B]));
    let foreign_pair = run(&foreign, &[], count).session_pair();
    let value = foreign_pair.strip_prefix("sid=").unwrap();
    let (res, logs) = run_logged(&mw, &[&foreign_pair], peek);
    assert_eq!(res.body, "None");
    assert!(res.varies());
    assert!(res.deletes_the_cookie(), "{res:?}");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(logs[0].starts_with("INFO"), "{}", logs[0]);
    assert!(logs[0].contains("unknown key"), "{}", logs[0]);
    assert!(!logs[0].contains(&value[..16]), "{}", logs[0]);
    // A handler that writes replaces it instead.
    let res = run(&mw, &[&foreign_pair], count);
    assert_eq!(res.body, "1");
    assert_eq!(res.set_cookies.len(), 1);
    assert!(res.session_pair().len() > 10);
}

#[test]
fn too_large_session_deletes_the_cookie_and_answers_an_empty_500() {
    let mw = SessionMiddleware::new(codec(&[SECRET_A]));
    let (res, logs) = run_logged(&mw, &[], |h| {
        h.set("big", "x".repeat(5000)).unwrap();
        HttpResponse::Ok().body("the handler's body")
    });
    assert!(res.deletes_the_cookie(), "{res:?}");
    assert_eq!(res.status, 500);
    assert_eq!(res.body, "");
    assert!(res.varies());
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(
        logs[0].starts_with("ERROR") && logs[0].contains("too large"),
        "{}",
        logs[0]
    );
}

#[test]
fn on_save_error_can_keep_the_handlers_response_or_choose_a_status() {
    let mw =
        SessionMiddleware::new(codec(&[SECRET_A])).on_save_error(|_| OnSaveError::KeepResponse);
    let big = |h: &SessionHandle| {
        h.set("big", "x".repeat(5000)).unwrap();
        HttpResponse::Ok().body("kept")
    };
    let res = run(&mw, &[], big);
    assert_eq!(res.status, 200);
    assert_eq!(res.body, "kept");
    assert!(res.deletes_the_cookie(), "{res:?}");
    let mw = mw.on_save_error(|_| OnSaveError::Status(413));
    let res = run(&mw, &[], big);
    assert_eq!(res.status, 413);
    assert_eq!(res.body, "");
    assert!(res.deletes_the_cookie(), "{res:?}");
}

#[test]
fn a_read_only_request_with_a_cookie_due_for_refresh_gets_a_new_one() {
    use time::{Duration, OffsetDateTime};
    let codec = SessionCodec::builder("sid", Keyring::new(Key::from_secret(SECRET_A).unwrap()))
        .max_age(Duration::hours(1))
        .build()
        .unwrap();
    let mut s = cookie_session::Session::new();
    s.set("n", 5).unwrap();
    let now = OffsetDateTime::now_utc();
    let at = |minutes| {
        let value = codec.encode_at(&s, now - Duration::minutes(minutes));
        format!("sid={}", value.unwrap())
    };
    let mw = SessionMiddleware::new(codec.clone());
    let res = run(&mw, &[&at(29)], peek);
    assert_eq!(res.body, "Some(5)");
    assert!(res.set_cookies.is_empty());
    let res = run(&mw, &[&at(31)], peek);
    assert_eq!(res.body, "Some(5)");
    let pair = res.session_pair();
    let v = codec
        .verify_at(
            pair.strip_prefix("sid=").unwrap(),
            OffsetDateTime::now_utc(),
        )
        .unwrap();
    assert!(v.issued_at >= now.unix_timestamp() as u64);
    assert_eq!(v.session.id(), s.id());
}

#[test]
fn the_extractor_needs_the_middleware_and_session_errors_answer_500() {
    async fn counted(session: SessionHandle) -> Result<String, cookie_session::SessionError> {
        let n = session.get::<u32>("n")?.unwrap_or(0) + 1;
        session.set("n", n)?;
        Ok(n.to_string())
    }
    async fn optional(session: Option<SessionHandle>) -> String {
        session.map_or("none".into(), |s| s.id())
    }
    async fn broken(session: SessionHandle) -> Result<String, cookie_session::SessionError> {
        session.set("n", 1)?;
        // A counter is not a string: the `?` answers 500.
        Ok(session.get::<String>("n")?.unwrap_or_default())
    }

    let res = call(App::new().route("/", web::get().to(counted)), &[]);
    assert_eq!(res.status, 500);
    assert!(res.body.contains("SessionMiddleware"), "{}", res.body);
    let res = call(App::new().route("/", web::get().to(optional)), &[]);
    assert_eq!((res.status, res.body.as_str()), (200, "none"));

    let mw = SessionMiddleware::new(codec(&[SECRET_A]));
    let res = call(
        App::new()
            .wrap(mw.clone())
            .route("/", web::get().to(optional)),
        &[],
    );
    assert_eq!(res.body.len(), 22, "a session id");
    let res = call(
        App::new()
            .wrap(mw.clone())
            .route("/", web::get().to(counted)),
        &[],
    );
    assert_eq!((res.status, res.body.as_str()), (200, "1"));
    assert!(res.set_cookies[0].starts_with("sid="));

    let (res, logs) = capture::logged(|| {
        call(
            App::new()
                .wrap(mw.clone())
                .route("/", web::get().to(broken)),
            &[],
        )
    });
    assert_eq!((res.status, res.body.as_str()), (500, ""));
    assert!(logs.iter().any(|l| l.starts_with("ERROR")), "{logs:?}");
}

#[cfg(feature = "remix")]
#[test]
fn a_remix_cookie_comes_out_of_the_middleware_as_v1() {
    use cookie_session::Session;
    use cookie_session::remix::{MigratingCodec, RemixCodec, RemixFormat, Write};
    for format in [RemixFormat::Remix3, RemixFormat::ReactRouter] {
        let legacy = RemixCodec::builder("sid", format)
            .secrets(["a secret of the Node app"])
            .build()
            .unwrap();
        let mut s = Session::new();
        s.set("n", 7).unwrap();
        let set_cookie = legacy.save(&s).unwrap().unwrap();
        let remix_pair = set_cookie.split(';').next().unwrap();
        let v1 = codec(&[SECRET_A]);
        let migrating = MigratingCodec::new(v1.clone(), legacy, Write::CookieSession).unwrap();
        let mw = SessionMiddleware::new(migrating);
        // A handler that only reads: the cookie is rewritten all the same.
        let res = run(&mw, &[remix_pair], peek);
        assert_eq!(res.body, "Some(7)", "{format:?}");
        let pair = res.session_pair();
        let s = v1.decode(pair.strip_prefix("sid=").unwrap()).unwrap();
        assert_eq!(s.get::<u32>("n").unwrap(), Some(7));
        // From then on, it is read as v1 and not rewritten.
        let res = run(&mw, &[&pair], peek);
        assert_eq!(res.body, "Some(7)");
        assert!(res.set_cookies.is_empty());
    }
}
