//! `encode`: a session as JSON in, a signed cookie value out.

use super::*;

pub(super) fn encode(o: &Opts) -> Result<u8, Failure> {
    let codec = build_codec(o, load_keyring(o)?)?;
    let text = match o.input.as_deref() {
        None | Some("-") => read_stdin_text("the session JSON")?,
        // The path is never shown, in case a secret was given instead.
        Some(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| usage(format!("cannot open the --input file: {e}")))?;
            String::from_utf8(read_bounded(file, "the --input file")?)
                .map_err(|_| usage("the --input file is not valid UTF-8"))?
        }
    };
    let mut session = session_from_json(&text)?;
    let now = o.now();
    let out = if o.set_cookie {
        if !session.is_dirty() {
            // An empty session is clean, and `save_at` sends nothing for a
            // clean session; `unset` of an absent key marks it changed.
            session
                .unset("")
                .map_err(|e| usage(format!("session: {e}")))?;
        }
        codec.save_at(&session, now)
    } else {
        codec.encode_at(&session, now).map(Some)
    };
    let out = out.map_err(|e| Failure {
        code: EXIT_REFUSED,
        message: format!("cannot encode the session: {e}"),
    })?;
    let out = out.expect("a changed, live session always gets a Set-Cookie");
    println!("{out}");
    Ok(0)
}

/// `{"id": "...", "values": {...}, "flash": {...}}` as a session whose
/// values are set (null leaves a key out) and whose flash is for the next
/// request. Map order is kept.
pub(super) fn session_from_json(text: &str) -> Result<Session, Failure> {
    let tree: ciborium::Value =
        serde_json::from_str(text).map_err(|e| usage(format!("input is not valid JSON: {e}")))?;
    let ciborium::Value::Map(fields) = tree else {
        return Err(usage(
            "input must be a JSON object: {\"id\": ..., \"values\": {...}, \"flash\": {...}}",
        ));
    };
    let (mut id, mut values, mut flash) = (None, None, None);
    for (k, v) in fields {
        let (slot, name) = match k.as_text() {
            Some("id") => {
                let ciborium::Value::Text(t) = v else {
                    return Err(usage("\"id\" must be a string"));
                };
                set_once(&mut id, t, "id")?;
                continue;
            }
            Some("values") => (&mut values, "values"),
            Some("flash") => (&mut flash, "flash"),
            _ => {
                return Err(usage(
                    "unknown field in the input; the fields are \"id\", \"values\" and \"flash\"",
                ));
            }
        };
        let ciborium::Value::Map(entries) = v else {
            return Err(usage(format!("\"{name}\" must be an object")));
        };
        set_once(slot, entries, name)?;
    }
    let mut session = Session::with_id(id.unwrap_or_else(generate_id));
    for (name, entries) in [("values", values), ("flash", flash)] {
        let mut seen = std::collections::HashSet::new();
        for (k, v) in entries.unwrap_or_default() {
            let ciborium::Value::Text(k) = k else {
                unreachable!("JSON object keys are strings")
            };
            if !seen.insert(k.clone()) {
                return Err(usage(format!("duplicate key {k:?} in \"{name}\"")));
            }
            let result = if name == "values" {
                session.set(k.as_str(), &v)
            } else {
                session.flash(k.as_str(), &v)
            };
            result.map_err(|e| usage(format!("\"{name}\".{k:?}: {e}")))?;
        }
    }
    Ok(session)
}

pub(super) fn set_once<T>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), Failure> {
    if slot.replace(value).is_some() {
        return Err(usage(format!("duplicate field \"{name}\" in the input")));
    }
    Ok(())
}
