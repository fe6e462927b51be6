//! tests/load.rs against actix-web: 64 clients, each with its own cookie
//! jar, send 10,240 requests to a real actix-web server (two workers) on
//! 127.0.0.1 and check every answer against what their own session must
//! hold (the clients: tests/support/load_clients.rs).

#[path = "support/load_clients.rs"]
mod load_clients;

use actix_web::{App, HttpServer, web};
use cookie_session::actix::SessionMiddleware;
use cookie_session::{Key, Keyring, SessionCodec, SessionHandle};
use load_clients::StepQuery;

async fn step(session: SessionHandle, q: web::Query<StepQuery>) -> String {
    let body = load_clients::step(&session, &q);
    // Give other requests a chance to interleave with this one.
    actix_web::rt::task::yield_now().await;
    body
}

async fn peek(session: SessionHandle) -> String {
    load_clients::describe(&session)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_keep_their_own_sessions_on_actix_web() {
    let key = Key::from_secret(b"load test secret, not for production").unwrap();
    let codec = SessionCodec::builder("sid", Keyring::new(key))
        .build()
        .unwrap();
    let sessions = SessionMiddleware::new(codec);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The server runs in an actix system of its own, on its own thread.
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .wrap(sessions.clone())
                    .route("/step", web::get().to(step))
                    .route("/peek", web::get().to(peek))
            })
            .workers(2)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run();
            handle_tx.send(server.handle()).unwrap();
            server.await
        })
    });
    let handle = handle_rx.recv().unwrap();
    load_clients::run_clients(addr).await;
    handle.stop(true).await;
    server.join().unwrap().unwrap();
}
