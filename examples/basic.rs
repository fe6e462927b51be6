//! Plays a login / flash / counter / logout cycle against `SessionCodec`, the
//! way any web framework would drive it, and prints the headers of each
//! request and response.
//!
//! ```text
//! cargo run --example basic
//! ```
//!
//! Set `SESSION_SECRET` (32+ random characters, e.g. from
//! `Key::generate_secret()`) to sign with your own key; without it a random
//! key is generated for this run.

use cookie_session::{Key, Keyring, Session, SessionCodec};
use time::Duration;

/// What a browser does with `Set-Cookie`: keep `name=value`, or forget it
/// when the server deletes it.
#[derive(Default)]
struct Browser {
    cookie: Option<String>,
}

impl Browser {
    fn receive(&mut self, set_cookie: &str) {
        let pair = set_cookie.split(';').next().unwrap_or_default();
        let deleted = set_cookie.split("; ").any(|a| a == "Max-Age=0");
        self.cookie = (!deleted).then(|| pair.to_owned());
    }
}

fn request(
    codec: &SessionCodec,
    browser: &mut Browser,
    label: &str,
    handler: impl FnOnce(&mut Session) -> Result<String, Box<dyn std::error::Error>>,
) -> Result<(), Box<dyn std::error::Error>> {
    println!("── {label}");
    match &browser.cookie {
        Some(c) => println!("   > Cookie: {c}"),
        None => println!("   > (no cookie)"),
    }
    let mut session = codec.read(browser.cookie.as_deref());
    let body = handler(&mut session)?;
    println!("   < {body}");
    match codec.save(&session)? {
        Some(set_cookie) => {
            println!("   < Set-Cookie: {set_cookie}");
            browser.receive(&set_cookie);
        }
        None => println!("   < (no Set-Cookie: session unchanged)"),
    }
    if let Some(old) = session.delete_id() {
        // A cookie cannot revoke an older copy of itself: if the old id was
        // ever issued, its cookies verify until they expire.
        println!("   ! id {old} was replaced: deny-list it if it was ever issued");
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = match std::env::var("SESSION_SECRET") {
        Ok(secret) => Key::from_secret(secret.as_bytes())?,
        Err(_) => {
            eprintln!("SESSION_SECRET not set: using a random key for this run");
            Key::generate()
        }
    };
    let codec = SessionCodec::builder("__Host-session", Keyring::new(key))
        .max_age(Duration::hours(8))
        .max_lifetime(Duration::days(7))
        .build()?;
    let mut browser = Browser::default();

    request(&codec, &mut browser, "GET / (first visit)", |s| {
        Ok(format!("hello, guest (session {} not stored yet)", s.id()))
    })?;

    request(&codec, &mut browser, "POST /login", |s| {
        s.regenerate_id(true)?; // new identity on a privilege change
        s.set("user", "alice@example.com")?;
        s.flash("notice", "Welcome back, Alice!")?;
        Ok("303 See Other -> /".into())
    })?;

    for _ in 0..2 {
        request(&codec, &mut browser, "GET /", |s| {
            let user: Option<String> = s.get("user")?;
            let notice: Option<String> = s.get("notice")?;
            let visits: u32 = s.get("visits")?.unwrap_or(0) + 1;
            s.set("visits", visits)?;
            Ok(format!("user={user:?} notice={notice:?} visits={visits}"))
        })?;
    }

    request(&codec, &mut browser, "GET /about (reads only)", |s| {
        let user: Option<String> = s.get("user")?;
        Ok(format!("about page for {user:?}"))
    })?;

    request(&codec, &mut browser, "POST /logout", |s| {
        s.destroy();
        Ok("303 See Other -> /".into())
    })?;

    request(&codec, &mut browser, "GET / (after logout)", |s| {
        let user: Option<String> = s.get("user")?;
        Ok(format!("user={user:?}"))
    })?;
    Ok(())
}
