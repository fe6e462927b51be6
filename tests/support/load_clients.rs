//! The client side of the load tests (tests/load.rs on axum,
//! tests/load_actix.rs on actix-web): 64 clients, each with its own cookie
//! jar, send 160 requests each to a server on 127.0.0.1 and check every
//! answer against what their own session must hold. The servers route
//! `GET /step` to [`step`] and `GET /peek` to [`describe`].

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cookie_session::SessionHandle;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::http::header::{COOKIE, HOST, SET_COOKIE, VARY};
use hyper::http::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::TcpStream;

const CLIENTS: usize = 64;
const REQUESTS_PER_CLIENT: usize = 160;
/// Each client opens a new connection this often.
const REQUESTS_PER_CONNECTION: usize = 40;

/// The query of `GET /step`.
#[derive(Deserialize)]
pub struct StepQuery {
    client: usize,
    flash: Option<String>,
}

/// What the session holds, as `owner counter flash`: the body of both
/// routes.
pub fn describe(session: &SessionHandle) -> String {
    let owner = session.get::<usize>("owner").unwrap();
    let n = session.get::<u64>("n").unwrap().unwrap_or(0);
    let msg = session.get::<String>("msg").unwrap();
    format!(
        "{} {n} {}",
        owner.map_or("-".into(), |o| o.to_string()),
        msg.as_deref().unwrap_or("-")
    )
}

/// `GET /step`: counts, claims the session for the client on first sight,
/// and flashes. (The servers yield to the runtime after it, so that other
/// requests interleave with this one.)
pub fn step(session: &SessionHandle, q: &StepQuery) -> String {
    let mut s = session.lock();
    if s.get::<usize>("owner").unwrap().is_none() {
        s.set("owner", q.client).unwrap();
    }
    let n = s.get::<u64>("n").unwrap().unwrap_or(0);
    s.set("n", n + 1).unwrap();
    if let Some(f) = &q.flash {
        s.flash("msg", f).unwrap();
    }
    drop(s);
    describe(session)
}

struct Client {
    id: usize,
    /// The jar: the session cookie's `name=value`, as last set.
    cookie: Option<String>,
    sender: Option<hyper::client::conn::http1::SendRequest<Empty<Bytes>>>,
    addr: std::net::SocketAddr,
}

struct Answer {
    body: String,
    set_cookie: Option<String>,
    vary: bool,
}

impl Client {
    async fn get(&mut self, path: &str) -> Answer {
        if self.sender.is_none() {
            let stream = TcpStream::connect(self.addr).await.unwrap();
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            self.sender = Some(sender);
        }
        let mut req = Request::get(path).header(HOST, "127.0.0.1");
        // Another cookie in a separate header, as HTTP/2 clients send them.
        req = req.header(COOKIE, format!("theme=t{}", self.id));
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, c.as_str());
        }
        let sender = self.sender.as_mut().unwrap();
        sender.ready().await.unwrap();
        let res = sender
            .send_request(req.body(Empty::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let set_cookies: Vec<String> = res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert!(set_cookies.len() <= 1, "{set_cookies:?}");
        let set_cookie = set_cookies.into_iter().next();
        if let Some(sc) = &set_cookie {
            let pair = sc.split(';').next().unwrap();
            assert!(pair.starts_with("sid=") && pair.len() > 4, "{sc}");
            self.cookie = Some(pair.to_owned());
        }
        let vary = res.headers().get_all(VARY).iter().any(|v| v == "Cookie");
        let body = res.into_body().collect().await.unwrap().to_bytes();
        Answer {
            body: String::from_utf8(body.to_vec()).unwrap(),
            set_cookie,
            vary,
        }
    }

    /// Runs the client's whole script and returns the flash messages it saw.
    async fn run(mut self) -> Vec<String> {
        let mut expected_n = 0u64;
        // The flash set by the previous request, due in this one.
        let mut due: Option<String> = None;
        let mut seen = Vec::new();
        for k in 0..REQUESTS_PER_CLIENT {
            if k % REQUESTS_PER_CONNECTION == 0 {
                self.sender = None;
            }
            let read_only = k % 7 == 6;
            let flash = (!read_only && k % 5 == 2).then(|| format!("c{}-r{k}", self.id));
            let answer = if read_only {
                self.get("/peek").await
            } else {
                let mut path = format!("/step?client={}", self.id);
                if let Some(f) = &flash {
                    path.push_str("&flash=");
                    path.push_str(f);
                }
                self.get(&path).await
            };
            if !read_only {
                expected_n += 1;
            }
            let want = format!(
                "{} {expected_n} {}",
                if expected_n == 0 {
                    "-".into()
                } else {
                    self.id.to_string()
                },
                due.as_deref().unwrap_or("-")
            );
            assert_eq!(answer.body, want, "client {} request {k}", self.id);
            if let Some(d) = due.take() {
                seen.push(d);
            }
            // A cookie is written exactly when the session changed: a step
            // always changes it; a peek only drops a flash that arrived.
            let must_write = !read_only || answer.body.split(' ').nth(2) != Some("-");
            assert_eq!(
                answer.set_cookie.is_some(),
                must_write,
                "client {} request {k}: {:?}",
                self.id,
                answer.set_cookie
            );
            assert!(answer.vary, "client {} request {k}: no Vary", self.id);
            due = flash;
        }
        seen
    }
}

/// Runs every client against the server at `addr` and checks what they saw.
pub async fn run_clients(addr: SocketAddr) {
    let all_seen = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for id in 0..CLIENTS {
        let all_seen = all_seen.clone();
        let client = Client {
            id,
            cookie: None,
            sender: None,
            addr,
        };
        tasks.push(tokio::spawn(async move {
            let seen = client.run().await;
            all_seen.lock().unwrap().push((id, seen));
        }));
    }
    let all = async {
        for t in tasks {
            t.await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(300), all)
        .await
        .expect("the load test finishes in time");

    // Every flash a client set, it saw exactly once, and no other client did.
    let all_seen = all_seen.lock().unwrap();
    assert_eq!(all_seen.len(), CLIENTS);
    let mut unique = HashSet::new();
    for (id, seen) in all_seen.iter() {
        let expected: Vec<String> = (0..REQUESTS_PER_CLIENT)
            .filter(|k| k % 7 != 6 && k % 5 == 2 && k + 1 < REQUESTS_PER_CLIENT)
            .map(|k| format!("c{id}-r{k}"))
            .collect();
        assert_eq!(seen, &expected, "client {id}");
        for s in seen {
            assert!(unique.insert(s.clone()), "{s} seen twice");
        }
    }
    assert!(unique.len() > CLIENTS * 20);
}
