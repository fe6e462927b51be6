//! Sessions are neither lost nor mixed under concurrency: 64 clients, each
//! with its own cookie jar, send 10,240 requests to a real axum server on
//! 127.0.0.1 and check every answer against what their own session must
//! hold (the clients: tests/support/load_clients.rs).

#[path = "support/load_clients.rs"]
mod load_clients;

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use cookie_session::{Key, Keyring, SessionCodec, SessionHandle, SessionLayer};
use load_clients::StepQuery;

async fn step(session: SessionHandle, Query(q): Query<StepQuery>) -> String {
    let body = load_clients::step(&session, &q);
    // Give other requests a chance to interleave with this one.
    tokio::task::yield_now().await;
    body
}

async fn peek(session: SessionHandle) -> String {
    load_clients::describe(&session)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_keep_their_own_sessions() {
    let key = Key::from_secret(b"load test secret, not for production").unwrap();
    let codec = SessionCodec::builder("sid", Keyring::new(key))
        .build()
        .unwrap();
    let app = Router::new()
        .route("/step", get(step))
        .route("/peek", get(peek))
        .layer(SessionLayer::new(codec));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    load_clients::run_clients(addr).await;
    server.abort();
}
