//! The Rust half of the cross-implementation check in `interop/remix/`
//! (run by `scripts/remix-interop.sh`).
//!
//! ```text
//! remix_interop NODE_JSON RUST_JSON
//! ```
//!
//! Reads the cases Node wrote (`node exchange.mjs write`), checks each one
//! with [`RemixCodec`] / [`MigratingCodec`], and writes to `RUST_JSON` the
//! cases for Node to check (`node exchange.mjs check RUST_JSON`). Exits
//! non-zero on any mismatch.
//!
//! JSON is handled as `ciborium::Value` trees, which keep object keys in
//! order, so values written here come out in the order JavaScript gives
//! them.

use std::process::ExitCode;

use ciborium::Value as Tree;
use cookie_session::remix::{MigratingCodec, RemixCodec, RemixFormat, Source, Write};
use cookie_session::{EncodeError, Key, Keyring, Session, SessionCodec, Value};

type Result<T> = std::result::Result<T, String>;

fn field<'a>(t: &'a Tree, key: &str) -> Option<&'a Tree> {
    match t {
        Tree::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn text<'a>(t: &'a Tree, key: &str) -> Result<&'a str> {
    field(t, key)
        .and_then(Tree::as_text)
        .ok_or_else(|| format!("missing text field {key}"))
}

fn entries(t: Option<&Tree>) -> Vec<(String, Tree)> {
    t.and_then(Tree::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|pair| {
                    let pair = pair.as_array()?;
                    Some((pair.first()?.as_text()?.to_owned(), pair.get(1)?.clone()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn obj(pairs: Vec<(&str, Tree)>) -> Tree {
    Tree::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (Tree::Text(k.into()), v))
            .collect(),
    )
}

fn pairs_tree(pairs: &[(String, Tree)]) -> Tree {
    Tree::Array(
        pairs
            .iter()
            .map(|(k, v)| Tree::Array(vec![Tree::Text(k.clone()), v.clone()]))
            .collect(),
    )
}

fn format_of(case: &Tree) -> Result<RemixFormat> {
    match text(case, "format")? {
        "remix3" => Ok(RemixFormat::Remix3),
        "react-router" => Ok(RemixFormat::ReactRouter),
        f => Err(format!("unknown format {f}")),
    }
}

/// A codec configured as the Node cookie of the case (Node's defaults:
/// no `HttpOnly`, no `Secure`).
fn codec(format: RemixFormat, cookie: &Tree) -> Result<RemixCodec> {
    let secrets: Vec<String> = field(cookie, "secrets")
        .and_then(Tree::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Tree::as_text)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let flag = |k| field(cookie, k).and_then(Tree::as_bool).unwrap_or(false);
    let mut b = RemixCodec::builder(text(cookie, "name")?, format)
        .secrets(secrets)
        .http_only(flag("httpOnly"))
        .secure(flag("secure"));
    if let Some(Tree::Integer(m)) = field(cookie, "maxAge") {
        b = b.max_age(time::Duration::seconds(i128::from(*m) as i64));
    }
    b.build().map_err(|e| e.to_string())
}

/// The session a case describes, built as an application would.
fn build(format: RemixFormat, expect: &Tree) -> Result<Session> {
    let mut s = match (format, field(expect, "id").and_then(Tree::as_text)) {
        (RemixFormat::Remix3, Some(id)) => Session::with_id(id),
        (RemixFormat::Remix3, None) => Session::new(),
        _ => Session::with_id(""),
    };
    for (k, v) in entries(field(expect, "values")) {
        s.set(k, &v).map_err(|e| e.to_string())?;
    }
    for (k, v) in entries(field(expect, "flash")) {
        s.flash(k, &v).map_err(|e| e.to_string())?;
    }
    Ok(s)
}

fn value_of(t: &Tree) -> Result<Value> {
    Value::from_serialize(t).map_err(|e| e.to_string())
}

fn check_session(format: RemixFormat, s: &Session, expect: &Tree) -> Result<()> {
    if format == RemixFormat::Remix3 {
        if let Some(id) = field(expect, "id").and_then(Tree::as_text) {
            if s.id() != id {
                return Err(format!("id {:?}, want {id:?}", s.id()));
            }
        }
    } else if !s.id().is_empty() {
        return Err(format!("React Router session id {:?}", s.id()));
    }
    let values = entries(field(expect, "values"));
    let flash = entries(field(expect, "flash"));
    for (k, v) in values.iter().chain(flash.iter()) {
        let got = s.get_value(k).ok_or_else(|| format!("{k} missing"))?;
        if *got != value_of(v)? {
            return Err(format!("{k}: got {got:?}, want {v:?}"));
        }
    }
    if s.len() != values.len() + flash.len() {
        return Err(format!(
            "len {}, want {}",
            s.len(),
            values.len() + flash.len()
        ));
    }
    if s.is_dirty() == flash.is_empty() {
        return Err(format!("dirty {}", s.is_dirty()));
    }
    Ok(())
}

fn check_node_case(case: &Tree) -> Result<()> {
    let format = format_of(case)?;
    let cookie = field(case, "cookie").ok_or("no cookie")?;
    let codec = codec(format, cookie)?;

    if let Some(Tree::Integer(n)) = field(case, "largestBlob") {
        let n = i128::from(*n) as usize;
        let mut s = Session::with_id("");
        s.set("blob", "x".repeat(n)).map_err(|e| e.to_string())?;
        codec
            .save(&s)
            .map_err(|e| format!("{n} bytes accepted by Node, refused here: {e}"))?;
        s.set("blob", "x".repeat(n + 1))
            .map_err(|e| e.to_string())?;
        let refused = match field(case, "refusedLength") {
            Some(Tree::Integer(n)) => i128::from(*n) as usize,
            _ => return Err("no refusedLength".into()),
        };
        return match codec.save(&s) {
            Err(EncodeError::TooLarge { size, limit: 4096 }) if size == refused => Ok(()),
            other => Err(format!(
                "{} bytes refused by Node, here: {:?}",
                n + 1,
                other.map(|o| o.map(|h| h.len()))
            )),
        };
    }

    let header = text(case, "header")?;
    if let Some(parsed) = field(case, "parsed") {
        // Node marks the headers this crate deliberately reads as holding
        // no cookie: a respelled signature, or a name Node only matched
        // after trimming white space other than SP and HTAB.
        let want = match field(case, "differs").and_then(Tree::as_text) {
            Some("signature" | "name") => None,
            Some(d) => return Err(format!("unknown difference {d}")),
            None => parsed.as_text(),
        };
        let got = codec.parse_str(Some(header));
        return if got.as_deref() == want {
            Ok(())
        } else {
            Err(format!("parsed {got:?}, Node {want:?} from {header:?}"))
        };
    }
    match field(case, "expect") {
        Some(Tree::Null) | None => {
            if let Some(s) = codec.try_read(Some(header)) {
                return Err(format!("expected no session, read {s:?}"));
            }
            let s = codec.read(Some(header));
            if !s.is_empty() || s.is_dirty() {
                return Err("fresh session not empty and clean".into());
            }
        }
        Some(expect) => {
            let s = codec
                .try_read(Some(header))
                .ok_or("Node's cookie did not read")?;
            check_session(format, &s, expect)?;
            // Re-encoding what was read gives Node's payload back.
            if entries(field(expect, "flash")).is_empty() {
                let mine = codec.encode(&s).map_err(|e| e.to_string())?;
                let payload = mine.rsplit_once('.').map_or("", |(p, _)| p);
                let sent = match format {
                    RemixFormat::Remix3 => payload.to_owned(),
                    _ => payload
                        .replace('+', "%2B")
                        .replace('/', "%2F")
                        .replace('=', "%3D"),
                };
                if !header.contains(&format!("__session={sent}.")) {
                    return Err(format!("re-encoded payload {sent} not in {header}"));
                }
            }
            // The same data, written here, is Node's Set-Cookie byte for byte.
            if let Some(want) = field(case, "setCookie").and_then(Tree::as_text) {
                let mine = codec
                    .save(&build(format, expect)?)
                    .map_err(|e| e.to_string())?
                    .unwrap_or_default();
                if mine != want {
                    return Err(format!("Set-Cookie {mine}\n      want {want}"));
                }
            }
            // Flash is dropped by the next save.
            if !entries(field(expect, "flash")).is_empty() {
                let next = codec
                    .save(&s)
                    .map_err(|e| e.to_string())?
                    .ok_or("no save")?;
                let next = codec.read(Some(next.split(';').next().unwrap_or("")));
                for (k, _) in entries(field(expect, "flash")) {
                    if next.has(&k) {
                        return Err(format!("flash {k} survived a save"));
                    }
                }
            }
            // Migration to v1 keeps everything.
            let v1 = SessionCodec::builder(codec.name(), Keyring::new(Key::generate()))
                .build()
                .map_err(|e| e.to_string())?;
            let m = MigratingCodec::new(v1.clone(), codec.clone(), Write::CookieSession)
                .map_err(|e| e.to_string())?;
            let now = time::OffsetDateTime::now_utc();
            let (read, source) = m.try_read_at(Some(header), now).ok_or("migrating read")?;
            if source != Source::Remix || !read.is_dirty() {
                return Err("legacy cookie not marked for rewrite".into());
            }
            let out = m
                .save_at(&read, now)
                .map_err(|e| e.to_string())?
                .ok_or("no v1 cookie")?;
            let moved = v1.read_at(Some(out.split(';').next().unwrap_or("")), now);
            for (k, v) in entries(field(expect, "values")) {
                if moved.get_value(&k) != Some(&value_of(&v)?) {
                    return Err(format!("{k} lost in migration"));
                }
            }
            if format == RemixFormat::Remix3 && moved.id() != read.id() {
                return Err("id lost in migration".into());
            }
        }
    }
    if let Some(want) = field(case, "removal").and_then(Tree::as_text) {
        if codec.removal() != want {
            return Err(format!("removal {}\n    want {want}", codec.removal()));
        }
    }
    Ok(())
}

const VALUES: &str = r#"[
  ["str", "hello"], ["n", 42], ["neg", -7], ["f", 1.5], ["big", 1e21], ["small", 1e-7],
  ["t", true], ["obj", {"b": 1, "1": 2, "a": [1, "x", null, {"z": false}]}],
  ["uni", "日本語 ✓ \"q\" \\ \n\t\u0001 😀 </script>"], ["10", "ten"], ["2", "two"]
]"#;

fn strict(secrets: &[&str]) -> Tree {
    obj(vec![
        ("name", Tree::Text("__session".into())),
        (
            "secrets",
            Tree::Array(secrets.iter().map(|s| Tree::Text((*s).into())).collect()),
        ),
        ("httpOnly", Tree::Bool(true)),
        ("secure", Tree::Bool(true)),
        ("maxAge", Tree::Integer(3600.into())),
    ])
}

fn expect(
    format: RemixFormat,
    s: &Session,
    values: &[(String, Tree)],
    flash: &[(String, Tree)],
) -> Tree {
    let mut e = vec![("values", pairs_tree(values)), ("flash", pairs_tree(flash))];
    if format == RemixFormat::Remix3 {
        e.push(("id", Tree::Text(s.id().into())));
    }
    obj(e)
}

fn first_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or("").to_owned()
}

/// The cases Node checks.
fn rust_cases() -> Result<Vec<Tree>> {
    let values = entries(Some(
        &serde_json::from_str::<Tree>(VALUES).map_err(|e| e.to_string())?,
    ));
    let mut cases = Vec::new();
    for format in [RemixFormat::Remix3, RemixFormat::ReactRouter] {
        let fname = match format {
            RemixFormat::Remix3 => "remix3",
            _ => "react-router",
        };
        let mut add =
            |name: &str, cookie: Tree, header: String, expect: Tree, extra: Vec<(&str, Tree)>| {
                let mut c = vec![
                    ("format", Tree::Text(fname.into())),
                    ("name", Tree::Text(name.into())),
                    ("cookie", cookie),
                    ("header", Tree::Text(header)),
                    ("expect", expect),
                ];
                c.extend(extra);
                cases.push(obj(c));
            };
        let cfg = strict(&["s3cr3t"]);
        let codec = codec(format, &cfg)?;
        let err = |e: EncodeError| e.to_string();

        // Values.
        let mut s = codec.read(None);
        for (k, v) in &values {
            s.set(k.clone(), v).map_err(|e| e.to_string())?;
        }
        let values_cookie = codec.save(&s).map_err(err)?.ok_or("not saved")?;
        add(
            "values",
            cfg.clone(),
            first_pair(&values_cookie),
            expect(format, &s, &values, &[]),
            vec![("setCookie", Tree::Text(values_cookie.clone()))],
        );

        // Flash set here, read by Node.
        let mut s = codec.read(None);
        s.set("user", "ada").map_err(|e| e.to_string())?;
        s.flash("notice", "Saved!").map_err(|e| e.to_string())?;
        s.flash("count", 3).map_err(|e| e.to_string())?;
        let flash_cookie = codec.save(&s).map_err(err)?.ok_or("not saved")?;
        let user = vec![("user".to_owned(), Tree::Text("ada".into()))];
        let flash = vec![
            ("notice".to_owned(), Tree::Text("Saved!".into())),
            ("count".to_owned(), Tree::Integer(3.into())),
        ];
        add(
            "flash",
            cfg.clone(),
            first_pair(&flash_cookie),
            expect(format, &s, &user, &flash),
            vec![("setCookie", Tree::Text(flash_cookie))],
        );

        // Destroy.
        let mut s = codec.read(Some(&first_pair(&values_cookie)));
        s.destroy();
        let removal = codec.save(&s).map_err(err)?.ok_or("no removal")?;
        add(
            "destroy",
            cfg.clone(),
            first_pair(&removal),
            Tree::Null,
            vec![("removal", Tree::Text(removal))],
        );

        // Secret rotation: written with the new secret of two.
        let rotating = codec_with(format, &["new-secret", "old-secret"])?;
        let mut s = rotating.read(None);
        s.set("k", "v").map_err(|e| e.to_string())?;
        let rotated = first_pair(&rotating.save(&s).map_err(err)?.ok_or("not saved")?);
        let kv = vec![("k".to_owned(), Tree::Text("v".into()))];
        add(
            "rotation: new secret",
            strict(&["new-secret"]),
            rotated.clone(),
            expect(format, &s, &kv, &[]),
            vec![],
        );
        add(
            "rotation: both secrets",
            strict(&["old-secret", "new-secret"]),
            rotated.clone(),
            expect(format, &s, &kv, &[]),
            vec![],
        );
        add(
            "rotation: old secret alone",
            strict(&["old-secret"]),
            rotated.clone(),
            Tree::Null,
            vec![],
        );
        // Written with the old secret, read by Node after rotation.
        let old = codec_with(format, &["old-secret"])?;
        let mut s = old.read(None);
        s.set("k", "v").map_err(|e| e.to_string())?;
        let old_cookie = first_pair(&old.save(&s).map_err(err)?.ok_or("not saved")?);
        add(
            "rotation: old cookie, new secrets",
            strict(&["new-secret", "old-secret"]),
            old_cookie,
            expect(format, &s, &kv, &[]),
            vec![],
        );

        // Tampered.
        let mut t = first_pair(&values_cookie).into_bytes();
        let i = "__session=".len() + 4;
        t[i] = if t[i] == b'A' { b'B' } else { b'A' };
        add(
            "tampered",
            cfg.clone(),
            String::from_utf8(t).map_err(|e| e.to_string())?,
            Tree::Null,
            vec![],
        );

        // Rollback: a v1 cookie read by the migrating codec, written for Node.
        let v1 = SessionCodec::builder("__session", Keyring::new(Key::generate()))
            .build()
            .map_err(|e| e.to_string())?;
        let mut s = v1.read(None);
        for (k, v) in &values {
            s.set(k.clone(), v).map_err(|e| e.to_string())?;
        }
        let v1_cookie = first_pair(&v1.save(&s).map_err(err)?.ok_or("not saved")?);
        let m = MigratingCodec::new(v1, codec.clone(), Write::Remix).map_err(|e| e.to_string())?;
        let read = m.read(Some(&v1_cookie));
        let legacy = first_pair(
            &m.save(&read)
                .map_err(err)?
                .ok_or("v1 cookie not rewritten")?,
        );
        add(
            "rollback from v1",
            cfg.clone(),
            legacy,
            expect(format, &read, &values, &[]),
            vec![],
        );
    }
    Ok(cases)
}

fn codec_with(format: RemixFormat, secrets: &[&str]) -> Result<RemixCodec> {
    codec(format, &strict(secrets))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [node_json, rust_json] = args.as_slice() else {
        eprintln!("usage: remix_interop NODE_JSON RUST_JSON");
        return ExitCode::from(2);
    };
    let input = match std::fs::read_to_string(node_json) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{node_json}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let doc: Tree = match serde_json::from_str(&input) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{node_json}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cases = field(&doc, "cases")
        .and_then(Tree::as_array)
        .cloned()
        .unwrap_or_default();
    let (mut passed, mut failed) = (0, 0);
    for case in &cases {
        match check_node_case(case) {
            Ok(()) => passed += 1,
            Err(e) => {
                failed += 1;
                let name = text(case, "name").unwrap_or("?");
                let format = text(case, "format").unwrap_or("?");
                eprintln!("FAIL [{format}] {name}: {e}");
            }
        }
    }
    println!("rust-reads-node: {passed} passed, {failed} failed");

    let out = match rust_cases() {
        Ok(c) => obj(vec![("cases", Tree::Array(c))]),
        Err(e) => {
            eprintln!("writing cases: {e}");
            return ExitCode::FAILURE;
        }
    };
    let text = serde_json::to_string_pretty(&out).expect("trees serialize");
    if let Err(e) = std::fs::write(rust_json, text) {
        eprintln!("{rust_json}: {e}");
        return ExitCode::FAILURE;
    }
    if failed > 0 || passed == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
