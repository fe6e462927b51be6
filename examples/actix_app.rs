//! The application of `examples/app.rs` on actix-web instead of axum: the
//! same routes, forms, pages and environment variables (see that file for
//! what they do), through `cookie_session::actix::SessionMiddleware` and
//! the `SessionHandle` extractor. Everything but the framework glue is in
//! `examples/common/mod.rs`, shared by both.
//!
//! ```text
//! cargo run --example actix_app --features actix
//! ```

mod common;

use actix_web::http::header::{ContentType, LOCATION};
use actix_web::{HttpResponse, HttpServer, web};
use common::{App, Login, Reply};
use cookie_session::SessionHandle;
use cookie_session::actix::SessionMiddleware;

#[derive(Clone)]
struct AppState {
    app: App,
    sessions: SessionMiddleware,
}

fn main() -> std::io::Result<()> {
    let app = App::from_env();
    let sessions = SessionMiddleware::new(app.codec());
    let state = AppState {
        app,
        sessions: sessions.clone(),
    };
    let listener = common::listen(common::addr_from_env());
    actix_web::rt::System::new().block_on(
        HttpServer::new(move || {
            actix_web::App::new()
                .app_data(web::Data::new(state.clone()))
                .wrap(sessions.clone())
                .route("/", web::get().to(home))
                .route("/login", web::get().to(login_form))
                .route("/login", web::post().to(login))
                .route("/count", web::post().to(count))
                .route("/logout", web::post().to(logout))
                .route("/logout-everywhere", web::post().to(logout_everywhere))
                .route("/rotate", web::post().to(rotate))
        })
        .listen(listener)?
        .run(),
    )
}

/// A [`Reply`] as an actix-web response.
fn respond(reply: Reply) -> HttpResponse {
    match reply {
        Reply::Page(html) => HttpResponse::Ok()
            .content_type(ContentType::html())
            .body(html),
        Reply::Redirect(to) => HttpResponse::SeeOther()
            .insert_header((LOCATION, to))
            .finish(),
        Reply::Error(text) => HttpResponse::InternalServerError().body(text),
    }
}

type State = web::Data<AppState>;

async fn home(s: State, session: SessionHandle) -> HttpResponse {
    respond(s.app.home(&session, &s.sessions.codec()))
}

async fn login_form(s: State, session: SessionHandle) -> HttpResponse {
    respond(s.app.login_form(&session))
}

async fn login(s: State, session: SessionHandle, form: web::Form<Login>) -> HttpResponse {
    respond(s.app.login(&session, &form))
}

async fn count(s: State, session: SessionHandle) -> HttpResponse {
    respond(s.app.count(&session))
}

async fn logout(s: State, session: SessionHandle) -> HttpResponse {
    respond(s.app.logout(&session))
}

async fn logout_everywhere(s: State, session: SessionHandle) -> HttpResponse {
    respond(s.app.logout_everywhere(&session))
}

async fn rotate(s: State, session: SessionHandle) -> HttpResponse {
    respond(s.app.rotate(&session, |codec| s.sessions.set_codec(codec)))
}
