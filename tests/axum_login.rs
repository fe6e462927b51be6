//! examples/axum_login.rs through real HTTP on 127.0.0.1: log in, see the
//! protected page, log out, be refused it.

#[allow(dead_code)]
#[path = "../examples/axum_login.rs"]
mod example;

use std::time::Duration;

use cookie_session::{Key, Keyring, SessionCodec};
use http::header::{CONTENT_TYPE, COOKIE, HOST, SET_COOKIE};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A browser with a one-cookie jar.
struct Browser {
    addr: std::net::SocketAddr,
    cookie: Option<String>,
}

struct Answer {
    status: StatusCode,
    body: String,
    set_cookie: Vec<String>,
}

impl Browser {
    async fn send(&mut self, method: Method, path: &str, form: &str) -> Answer {
        let stream = TcpStream::connect(self.addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, "127.0.0.1")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, c.as_str());
        }
        let res = sender
            .send_request(req.body(Full::new(Bytes::from(form.to_owned()))).unwrap())
            .await
            .unwrap();
        let set_cookie: Vec<String> = res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for sc in &set_cookie {
            let pair = sc.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if name == "session" {
                // A deletion has an empty value (and Max-Age=0).
                self.cookie = (!value.is_empty()).then(|| pair.to_owned());
            }
        }
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            body: String::from_utf8(body.to_vec()).unwrap(),
            set_cookie,
        }
    }
}

#[tokio::test]
async fn login_protected_logout_refused() {
    let codec = SessionCodec::builder(
        "session",
        Keyring::new(Key::from_secret(b"the secret of the axum-login test!!").unwrap()),
    )
    .build()
    .unwrap();
    let app = example::router(codec.clone(), example::Backend::demo());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let flow = async {
        let mut browser = Browser { addr, cookie: None };

        let res = browser.send(Method::GET, "/protected", "").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert!(res.set_cookie.is_empty(), "{:?}", res.set_cookie);

        let res = browser
            .send(Method::POST, "/login", "username=alice&password=wrong")
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert!(browser.cookie.is_none());

        let res = browser
            .send(
                Method::POST,
                "/login",
                "username=alice&password=alice-demo-password",
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.body, "logged in as alice");
        let cookie = browser.cookie.clone().expect("a session cookie");
        // It is this crate's signed cookie, holding axum-login's data.
        let session = codec
            .decode(cookie.strip_prefix("session=").unwrap())
            .unwrap();
        let data: serde_json::Value = session.get("axum-login.data").unwrap().unwrap();
        assert_eq!(data["user_id"], 1);

        let res = browser.send(Method::GET, "/protected", "").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.body, "the protected page, for alice");
        // Read only: no new cookie.
        assert!(res.set_cookie.is_empty(), "{:?}", res.set_cookie);
        let res = browser.send(Method::GET, "/", "").await;
        assert_eq!(res.body, "hello alice");

        // A tampered cookie is refused: not logged in.
        let mut tampered = Browser {
            addr,
            cookie: Some(format!("{cookie}x")),
        };
        let res = tampered.send(Method::GET, "/protected", "").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);

        let res = browser.send(Method::POST, "/logout", "").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.body, "logged out");
        assert_eq!(res.set_cookie.len(), 1);
        assert!(
            res.set_cookie[0].contains("Max-Age=0"),
            "{:?}",
            res.set_cookie
        );
        assert!(browser.cookie.is_none());

        let res = browser.send(Method::GET, "/protected", "").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);

        // The old cookie, replayed, still verifies (a cookie cannot revoke
        // its copies; see the README's security model): logout is the
        // browser's, unless the id is deny-listed.
        let mut replay = Browser {
            addr,
            cookie: Some(cookie),
        };
        let res = replay.send(Method::GET, "/protected", "").await;
        assert_eq!(res.status, StatusCode::OK);
    };
    tokio::time::timeout(Duration::from_secs(30), flow)
        .await
        .expect("the flow finishes within 30 s");
    server.abort();
}
