//! The `cookie-session` binary, run as a user runs it: arguments, standard
//! input, environment, key files, exit status, standard output and error.
//!
//! Every run checks that no secret it was given shows up in its output.

#![cfg(feature = "cli")]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie_session::{
    DecodeError, Expiry, Key, Keyring, Malformed, Session, SessionCodec, SessionData, Value,
    ValueMap,
};
use serde_json::{Value as Json, json};
use time::OffsetDateTime;

const OLD: &str = "old-secret: 7hQ2nV9xKp4LmZ8wR3tY6uB1cE5fG0jD";
const NEW: &str = "new-secret: Xa9Lq2Wm7Np4Rt8Vz3Bc6Df1Gh5Jk0Ms";
const OTHER: &str = "other-secret: Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0X";
const T: i64 = 1_700_000_000;

/// One invocation of the binary.
struct Cli {
    cmd: Command,
    stdin: Option<String>,
    /// Secrets handed to the process, which must never come back out.
    secrets: Vec<String>,
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Output {
    fn json(&self) -> Json {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

fn cli(args: &[&str]) -> Cli {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cookie-session"));
    cmd.args(args)
        .env_remove("COOKIE_SESSION_SECRET")
        .env_remove("COOKIE_SESSION_FALLBACK_SECRETS");
    Cli {
        cmd,
        stdin: None,
        secrets: Vec::new(),
    }
}

impl Cli {
    fn secret(mut self, s: &str) -> Self {
        self.cmd.env("COOKIE_SESSION_SECRET", s);
        self.secrets.push(s.to_owned());
        self
    }

    fn fallbacks(mut self, list: &[&str], sep: &str) -> Self {
        self.cmd
            .env("COOKIE_SESSION_FALLBACK_SECRETS", list.join(sep));
        self.secrets.extend(list.iter().map(|s| s.to_string()));
        self
    }

    fn env(mut self, var: &str, secret: &str) -> Self {
        self.cmd.env(var, secret);
        self.secrets.push(secret.to_owned());
        self
    }

    /// A key file holding `lines`; every non-comment line counts as secret.
    fn key_file(mut self, file: &KeyFile) -> Self {
        self.cmd.arg("--key-file").arg(&file.path);
        self.secrets.extend(file.secrets.iter().cloned());
        self
    }

    fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_owned());
        self
    }

    fn run(mut self) -> Output {
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("the binary runs");
        let mut stdin = child.stdin.take().unwrap();
        if let Some(text) = &self.stdin {
            // The process may exit without reading (a usage error).
            if let Err(e) = stdin.write_all(text.as_bytes()) {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
            }
        }
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let out = Output {
            code: out.status.code().expect("exited normally"),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        };
        for s in &self.secrets {
            assert_no_secret(&out, s);
        }
        out
    }
}

/// Neither the secret nor any 12-character piece of it is in the output.
fn assert_no_secret(out: &Output, secret: &str) {
    let secret = secret.trim();
    let pieces = secret.as_bytes().windows(12.min(secret.len()));
    for piece in pieces {
        let piece = std::str::from_utf8(piece).unwrap();
        assert!(
            !out.stdout.contains(piece) && !out.stderr.contains(piece),
            "a secret leaked into the output:\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
}

struct KeyFile {
    path: PathBuf,
    secrets: Vec<String>,
}

impl KeyFile {
    fn new(tag: &str, contents: &str) -> KeyFile {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join(format!("cli-keys-{tag}-{}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let secrets = contents
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        KeyFile { path, secrets }
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn codec(primary: &str, fallbacks: &[&str]) -> SessionCodec {
    let mut ring = Keyring::new(Key::from_secret(primary.as_bytes()).unwrap());
    for f in fallbacks {
        ring = ring
            .with_fallback(Key::from_secret(f.as_bytes()).unwrap())
            .unwrap();
    }
    SessionCodec::builder("__Host-session", ring)
        .build()
        .unwrap()
}

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

/// Encodes `session` (JSON) with `secret` at `T`; returns the cookie value.
fn encode(secret: &str, session: &Json, extra: &[&str]) -> String {
    let now = T.to_string();
    let mut args = vec!["encode", "--now", &now];
    args.extend_from_slice(extra);
    let out = cli(&args).secret(secret).stdin(&session.to_string()).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    out.stdout.trim_end().to_owned()
}

fn key_id(secret: &str) -> String {
    Key::from_secret(secret.as_bytes())
        .unwrap()
        .id()
        .to_string()
}

fn sample() -> Json {
    json!({
        "id": "session-123",
        "values": {
            "user": "alice",
            "roles": ["admin", "ops"],
            "visits": 3,
            "balance": -12.5,
            "big": 18_446_744_073_709_551_615u64,
            "prefs": {"theme": "dark", "beta": true},
            "ünïcode": "✓"
        },
        "flash": {"notice": "Welcome back"}
    })
}

#[test]
fn keygen_prints_one_new_secret_that_works_as_a_key() {
    let a = cli(&["keygen"]).run();
    let b = cli(&["keygen"]).run();
    assert_eq!(a.code, 0);
    assert_eq!(a.stdout.lines().count(), 1, "{:?}", a.stdout);
    let secret = a.stdout.strip_suffix('\n').expect("one line");
    assert_eq!(secret.len(), 43);
    assert!(
        secret
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
    assert_eq!(URL_SAFE_NO_PAD.decode(secret).unwrap().len(), 32);
    assert_ne!(a.stdout, b.stdout);
    // The secret goes to stdout only; stderr names its key id.
    assert!(!a.stderr.contains(secret));
    assert!(a.stderr.contains(&key_id(secret)), "{}", a.stderr);

    // It works as a key, for the CLI and for the library.
    let value = encode(secret, &sample(), &[]);
    let out = cli(&["decode", "--now", &T.to_string(), &value])
        .secret(secret)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["key_id"], key_id(secret));
    let lib = codec(secret, &[]).decode_at(&value, at(T)).unwrap();
    assert_eq!(lib.id(), "session-123");
}

#[test]
fn encode_decode_round_trip() {
    let value = encode(NEW, &sample(), &[]);
    let lib = codec(NEW, &[]).decode_at(&value, at(T + 5)).unwrap();
    assert_eq!(lib.get::<String>("user").unwrap().as_deref(), Some("alice"));
    assert_eq!(
        lib.get::<String>("notice").unwrap().as_deref(),
        Some("Welcome back")
    );

    // Value as the argument, and as `NAME=value` on stdin.
    let now = (T + 5).to_string();
    for out in [
        cli(&["decode", "--now", &now, &value]).secret(NEW).run(),
        cli(&["decode", "--now", &now])
            .secret(NEW)
            .stdin(&format!("__Host-session={value}\n"))
            .run(),
    ] {
        assert_eq!(out.code, 0, "{}", out.stderr);
        let j = out.json();
        assert_eq!(j["valid"], true);
        assert_eq!(j["session"], sample());
        assert_eq!(j["key_id"], key_id(NEW));
        assert_eq!(j["signed_with"], "primary");
        // The sample carries flash, which the next cookie drops.
        assert_eq!(j["needs_reissue"], true);
        assert_eq!(j["reissue"], "none due");
        assert_eq!(
            j["issued_at"],
            json!({"unix": T, "rfc3339": "2023-11-14T22:13:20Z"})
        );
        assert_eq!(j["created_at"]["unix"], T);
        assert_eq!(
            j["expires_at"],
            json!({"unix": T + 14 * 86_400, "rfc3339": "2023-11-28T22:13:20Z"})
        );
        assert_eq!(j["valid_for_seconds"], 14 * 86_400 - 5);
    }

    // `decode | .session | encode` re-signs the same session.
    let decoded = cli(&["decode", "--compact", "--now", &now, &value])
        .secret(NEW)
        .run();
    assert_eq!(decoded.stdout.lines().count(), 1);
    let again = encode(NEW, &decoded.json()["session"], &[]);
    assert_eq!(again, value);

    // The order of values (and of maps inside them) is kept both ways.
    let ordered = r#"{"values": {"z": 1, "a": {"y": 2, "b": 3}, "m": 4}}"#;
    let out = cli(&["encode"]).secret(NEW).stdin(ordered).run();
    let out = cli(&["decode", "--compact", out.stdout.trim()])
        .secret(NEW)
        .run();
    assert!(
        out.stdout
            .contains(r#""values":{"z":1,"a":{"y":2,"b":3},"m":4}"#),
        "{}",
        out.stdout
    );

    // From a file, with a given name and max-age, no id: a fresh random one.
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-session.json");
    std::fs::write(&file, r#"{"values": {"n": 1, "gone": null}}"#).unwrap();
    let out = cli(&[
        "encode",
        "--input",
        file.to_str().unwrap(),
        "--name",
        "sid",
        "--max-age",
        "90m",
    ])
    .secret(NEW)
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = cli(&["decode", "--name", "sid", out.stdout.trim()])
        .secret(NEW)
        .run();
    let j = out.json();
    assert_eq!(j["session"]["values"], json!({"n": 1}));
    assert_eq!(j["session"]["flash"], json!({}));
    assert_eq!(j["session"]["id"].as_str().unwrap().len(), 22);
    let lifetime =
        j["expires_at"]["unix"].as_i64().unwrap() - j["issued_at"]["unix"].as_i64().unwrap();
    assert_eq!(lifetime, 90 * 60);
}

#[test]
fn set_cookie_carries_the_value_and_attributes() {
    let now = T.to_string();
    let out = cli(&[
        "encode",
        "--set-cookie",
        "--now",
        &now,
        "--max-age",
        "2w",
        "--same-site",
        "strict",
        "--path",
        "/app",
        "--name",
        "app_session",
    ])
    .secret(NEW)
    .stdin("{}")
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let header = out.stdout.trim_end();
    let (pair, attrs) = header.split_once("; ").unwrap();
    let value = pair.strip_prefix("app_session=").unwrap();
    for a in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/app"] {
        assert!(attrs.split("; ").any(|x| x == a), "{a} in {header}");
    }
    assert!(
        attrs.contains(&format!("Max-Age={}", 14 * 86_400)),
        "{header}"
    );
    let ring = Keyring::new(Key::from_secret(NEW.as_bytes()).unwrap());
    let app = SessionCodec::builder("app_session", ring).build().unwrap();
    let s = app.decode_at(value, at(T)).unwrap();
    assert!(s.is_empty());
    // A __Host- cookie (the default name) cannot have another Path.
    let out = cli(&["encode", "--set-cookie", "--path", "/app"])
        .secret(NEW)
        .stdin("{}")
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("__Host- prefix requires"),
        "{}",
        out.stderr
    );

    // `decode NAME=value` needs no --name; a --name that differs is refused,
    // and a wrong context, with the right key, comes with a hint.
    let out = cli(&["decode", "--now", &now, pair]).secret(NEW).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["cookie_name"], "app_session");
    let out = cli(&["decode", "--now", &now, "--name", "other", pair])
        .secret(NEW)
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("differs from --name"), "{}", out.stderr);
    let out = cli(&["decode", "--now", &now, "--context", "another app", pair])
        .secret(NEW)
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.json()["error"]["variant"], "BadSignature");
    assert!(out.json()["hint"].as_str().unwrap().contains("--context"));
    assert!(
        out.stderr.contains("check --name and --context"),
        "{}",
        out.stderr
    );
}

#[test]
fn wrong_key_and_tampering_fail_with_the_reason_and_status_1() {
    let value = encode(NEW, &sample(), &[]);
    let now = T.to_string();

    let out = cli(&["decode", "--now", &now, &value]).secret(OTHER).run();
    assert_eq!(out.code, 1);
    let j = out.json();
    assert_eq!(j["valid"], false);
    assert_eq!(j["error"]["variant"], "UnknownKey");
    assert_eq!(j["error"]["message"], DecodeError::UnknownKey.to_string());
    assert!(out.stderr.contains(&DecodeError::UnknownKey.to_string()));
    assert!(j.get("session").is_none());
    assert!(!out.stdout.contains("alice"), "no unverified payload");

    // Same key, other cookie name or context: the signature does not verify.
    for extra in [["--name", "sid"], ["--context", "another-app"]] {
        let mut args = vec!["decode", "--now", &now];
        args.extend_from_slice(&extra);
        let v = if extra[0] == "--name" {
            format!("sid={value}")
        } else {
            value.clone()
        };
        args.push(&v);
        let out = cli(&args).secret(NEW).run();
        assert_eq!(out.code, 1, "{extra:?}");
        assert_eq!(out.json()["error"]["variant"], "BadSignature");
    }

    // One changed character in the tag.
    let mut bytes = URL_SAFE_NO_PAD.decode(&value).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    let tampered = URL_SAFE_NO_PAD.encode(bytes);
    let out = cli(&["decode", "--now", &now, &tampered]).secret(NEW).run();
    assert_eq!(out.code, 1);
    assert_eq!(out.json()["error"]["variant"], "BadSignature");
    assert_eq!(
        out.json()["error"]["message"],
        DecodeError::BadSignature.to_string()
    );

    let out = cli(&["decode", "not a cookie!"]).secret(NEW).run();
    assert_eq!(out.code, 1);
    assert_eq!(out.json()["error"]["variant"], "Malformed(Base64)");
    assert_eq!(
        out.json()["error"]["message"],
        DecodeError::Malformed(Malformed::Base64).to_string()
    );
}

#[test]
fn header_mode_picks_the_first_cookie_that_verifies() {
    let first = encode(NEW, &json!({"id": "first"}), &[]);
    let second = encode(NEW, &json!({"id": "second"}), &[]);
    let foreign = encode(OTHER, &json!({"id": "foreign"}), &[]);
    let header = format!(
        "theme=dark; __Host-session=garbage; lang=en; __Host-session={foreign}; __Host-session={first}; \
         __Host-session={second}; __Host-sessionx={second}"
    );
    let now = (T + 1).to_string();
    let out = cli(&["decode", "--header", "--now", &now, &header])
        .secret(NEW)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let j = out.json();
    assert_eq!(j["session"]["id"], "first");
    assert_eq!(j["cookie_index"], 2);
    assert_eq!(j["cookies_named"], 4);
    let rejected: Vec<_> = j["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["index"].as_u64().unwrap(),
                r["error"]["variant"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(rejected, [(0, "Malformed(Base64)"), (1, "UnknownKey")]);
    // The library's reader agrees.
    let lib = codec(NEW, &[]).read_at(Some(&header), at(T + 1));
    assert_eq!(lib.id(), "first");

    // Several header lines on stdin, with `Cookie:` prefixes.
    let lines = format!("Cookie: a=1; __Host-session=garbage\ncookie: __Host-session={second}\n");
    let out = cli(&["decode", "--header", "--now", &now])
        .secret(NEW)
        .stdin(&lines)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["session"]["id"], "second");
    assert_eq!(out.json()["cookie_index"], 1);

    // inspect lists every candidate, the chosen one and those after it too.
    let out = cli(&["inspect", "--header", "--now", &now, &header])
        .secret(NEW)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let c = out.json()["candidates"].as_array().unwrap().clone();
    assert_eq!(c.len(), 4);
    assert_eq!(c[3]["session_id"], "second");
    assert_eq!(c[1]["UNVERIFIED"]["key_id"], key_id(OTHER));
    assert_eq!(c[1]["UNVERIFIED"]["key"], "not in the keyring");

    // No cookie of the name, and none that verifies: status 1.
    let out = cli(&["decode", "--header", "a=1; b=2"]).secret(NEW).run();
    assert_eq!(out.code, 1);
    assert_eq!(out.json()["error"]["variant"], "NoCookie");
    let out = cli(&[
        "decode",
        "--header",
        "--now",
        &now,
        &format!("__Host-session={foreign}; __Host-session=x"),
    ])
    .secret(NEW)
    .run();
    assert_eq!(out.code, 1);
    assert_eq!(out.json()["error"]["variant"], "UnknownKey");
    assert_eq!(out.json()["cookies_named"], 2);
}

#[test]
fn rotation_fallback_secrets_verify_and_ask_for_reissue() {
    let old_cookie = encode(OLD, &sample(), &[]);
    let new_cookie = encode(NEW, &sample(), &[]);
    let now = (T + 1).to_string();

    let file = KeyFile::new(
        "rotation",
        &format!("# primary first\n{NEW}\n\n  {OTHER}  \r\n{OLD}\n"),
    );
    let runs = [
        cli(&["decode", "--now", &now, &old_cookie])
            .secret(NEW)
            .fallbacks(&[OTHER, OLD], ","),
        cli(&["decode", "--now", &now, &old_cookie])
            .secret(NEW)
            .fallbacks(&[OTHER, OLD], "\n"),
        cli(&["decode", "--now", &now, &old_cookie]).key_file(&file),
        cli(&[
            "decode",
            "--secret-env",
            "APP_SECRET",
            "--fallback-env",
            "APP_OLD_SECRETS",
            "--now",
            &now,
            &old_cookie,
        ])
        .env("APP_SECRET", NEW)
        .env("APP_OLD_SECRETS", OLD),
    ];
    for run in runs {
        let out = run.run();
        assert_eq!(out.code, 0, "{}", out.stderr);
        let j = out.json();
        assert_eq!(j["needs_reissue"], true);
        assert_eq!(j["reissue"], "signed with a fallback key");
        assert_eq!(j["signed_with"], "fallback");
        assert_eq!(j["key_id"], key_id(OLD));
        assert_eq!(j["session"], sample());
    }

    let out = cli(&["decode", "--now", &now, &new_cookie])
        .key_file(&file)
        .run();
    assert_eq!(out.json()["reissue"], "none due");
    assert_eq!(out.json()["key_id"], key_id(NEW));

    // The key file's first secret signs.
    let out = cli(&["encode", "--now", &T.to_string()])
        .key_file(&file)
        .stdin(&sample().to_string())
        .run();
    assert_eq!(out.stdout.trim_end(), new_cookie);

    // Without the fallback, the old cookie is refused.
    let out = cli(&["decode", "--now", &now, &old_cookie])
        .secret(NEW)
        .run();
    assert_eq!(out.code, 1);
    assert_eq!(out.json()["error"]["variant"], "UnknownKey");
}

#[test]
fn expiry_is_checked_against_the_given_clock() {
    let value = encode(NEW, &sample(), &["--max-age", "60"]);
    let decode_at = |now: i64, extra: &[&str]| {
        let now = now.to_string();
        let mut args = vec!["decode", "--now", now.as_str()];
        args.extend_from_slice(extra);
        args.push(&value);
        cli(&args).secret(NEW).run()
    };

    let out = decode_at(T + 59, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["valid_for_seconds"], 1);
    assert_eq!(out.json()["expires_at"]["unix"], T + 60);

    let cases = [
        (T + 60, vec![], Expiry::ExpiresAt, "Expired(ExpiresAt)"),
        (
            T + 30,
            vec!["--max-age", "30s"],
            Expiry::MaxAge,
            "Expired(MaxAge)",
        ),
        (
            T + 30,
            vec!["--max-lifetime", "20"],
            Expiry::MaxLifetime,
            "Expired(MaxLifetime)",
        ),
        (
            T - 61,
            vec![],
            Expiry::IssuedInFuture,
            "Expired(IssuedInFuture)",
        ),
    ];
    for (now, extra, expiry, variant) in cases {
        let out = decode_at(now, &extra);
        assert_eq!(out.code, 1, "{variant}");
        let j = out.json();
        assert_eq!(j["error"]["variant"], variant);
        assert_eq!(
            j["error"]["message"],
            DecodeError::Expired(expiry).to_string()
        );
        assert!(
            out.stderr
                .contains(&DecodeError::Expired(expiry).to_string())
        );
    }

    // RFC 3339 works for --now as well as Unix seconds.
    let out = cli(&["decode", "--now", "2023-11-14T22:14:20Z", &value])
        .secret(NEW)
        .run();
    assert_eq!(out.json()["error"]["variant"], "Expired(ExpiresAt)");

    // A real clock: a cookie issued in 2023 with a 60 s max-age is expired
    // now.
    let out = cli(&["decode", &value]).secret(NEW).run();
    assert_eq!(out.json()["error"]["variant"], "Expired(ExpiresAt)");
}

#[test]
fn inspect_adds_sizes_cbor_and_a_labelled_unverified_header() {
    let value = encode(NEW, &sample(), &["--max-age", "60"]);
    let now = (T + 1).to_string();
    let out = cli(&["inspect", "--now", &now, &value]).secret(NEW).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let j = out.json();
    assert_eq!(j["session"], sample());
    assert_eq!(j["size"]["bytes"], "__Host-session=".len() + value.len());
    assert_eq!(j["size"]["limit"], 4096);
    assert_eq!(j["cbor"]["values"]["user"], "65616c696365"); // text "alice"
    assert_eq!(j["cbor"]["values"]["visits"], "03");
    assert!(
        j.get("UNVERIFIED").is_none(),
        "verified: nothing unverified"
    );

    // Expired: the times it claims are shown, labelled, and no payload.
    let out = cli(&["inspect", "--now", &(T + 3600).to_string(), &value])
        .secret(NEW)
        .run();
    assert_eq!(out.code, 1);
    let j = out.json();
    assert_eq!(j["error"]["variant"], "Expired(ExpiresAt)");
    let u = &j["UNVERIFIED"];
    assert!(u["warning"].as_str().unwrap().contains("WITHOUT checking"));
    assert_eq!(u["key_id"], key_id(NEW));
    assert_eq!(u["key"], "primary");
    assert_eq!(u["expires_at"]["unix"], T + 60);
    assert!(j.get("session").is_none());
    assert!(!out.stdout.contains("alice"));
    assert!(out.stderr.contains("UNVERIFIED"), "{}", out.stderr);

    // `decode` never shows unverified fields.
    let out = cli(&["decode", "--now", &(T + 3600).to_string(), &value])
        .secret(NEW)
        .run();
    assert!(!out.stdout.contains("UNVERIFIED"));
}

#[test]
fn values_json_cannot_hold_are_wrapped() {
    let mut values = ValueMap::new();
    values.insert("raw", Value::from_cbor(&[0x43, 1, 2, 3]).unwrap()); // bytes
    values.insert("nan", Value::from_cbor(&[0xf9, 0x7e, 0x00]).unwrap()); // f16 NaN
    values.insert(
        "ints",
        Value::from_serialize(
            &[(1u8, "one")]
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
        .unwrap(),
    );
    values.insert(
        "neg",
        Value::from_cbor(&[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).unwrap(),
    ); // -2^64
    let session = Session::from_data(
        "crafted",
        SessionData {
            values,
            flash: ValueMap::new(),
        },
    );
    let value = codec(NEW, &[]).encode_at(&session, at(T)).unwrap();
    let out = cli(&["decode", "--now", &T.to_string(), &value])
        .secret(NEW)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("-18446744073709551616"),
        "{}",
        out.stdout
    );
    let j = out.json();
    let v = &j["session"]["values"];
    assert_eq!(v["raw"], json!({"$bytes": "AQID"}));
    assert_eq!(v["nan"], json!({"$float": "NaN"}));
    assert_eq!(v["ints"], json!({"$map": [[1, "one"]]}));
}

#[test]
fn keys_never_come_from_arguments_and_errors_never_show_them() {
    // No key at all.
    let out = cli(&["decode", "abc"]).run();
    assert_eq!(out.code, 3);
    assert!(
        out.stderr.contains("COOKIE_SESSION_SECRET"),
        "{}",
        out.stderr
    );

    // Secret options are refused without echoing the value.
    for arg in [
        vec!["decode", "--secret", NEW, "abc"],
        vec!["encode", &format!("--key={NEW}")],
    ] {
        let mut c = cli(&arg);
        c.secrets.push(NEW.to_owned());
        let out = c.run();
        assert_eq!(out.code, 2);
        assert!(out.stderr.contains("never taken on the command line"));
    }
    // An unknown option is not shown, not even its name: only its position.
    let mut c = cli(&["decode", "--now", "0", &format!("--whatever={NEW}")]);
    c.secrets.push(NEW.to_owned());
    let out = c.run();
    assert_eq!(out.code, 2);
    assert!(!out.stderr.contains("--whatever"), "{}", out.stderr);
    assert!(
        out.stderr.contains("argument 4 is not an option of decode"),
        "{}",
        out.stderr
    );
    // A known option of another command is named.
    let out = cli(&["decode", "--input", "x"]).run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("--input (argument 2) is not an option of decode"),
        "{}",
        out.stderr
    );

    // A refused secret: the reason, where it came from, not the secret.
    let short = "short-secret-0123456789";
    let out = cli(&["decode", "abc"]).secret(short).run();
    assert_eq!(out.code, 3);
    assert!(
        out.stderr.contains("secret too short: 23 bytes"),
        "{}",
        out.stderr
    );
    let low = "abababababababababababababababababab";
    let out = cli(&["decode", "abc"])
        .secret(NEW)
        .fallbacks(&[OLD, low], ",")
        .run();
    assert_eq!(out.code, 3);
    assert!(
        out.stderr
            .contains("COOKIE_SESSION_FALLBACK_SECRETS, secret 2"),
        "{}",
        out.stderr
    );
    let out = cli(&["decode", "abc"])
        .secret(NEW)
        .fallbacks(&[NEW], ",")
        .run();
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("already holds"), "{}", out.stderr);

    let file = KeyFile::new("bad", &format!("{NEW}\n{short}\n"));
    let out = cli(&["decode", "abc"]).key_file(&file).run();
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("secret 2"), "{}", out.stderr);
    let out = cli(&["decode", "--key-file", "/nonexistent/keys"]).run();
    assert_eq!(out.code, 3);

    // A secret given where a cookie value belongs is not echoed either.
    let mut c = cli(&["decode", NEW]).secret(OLD);
    c.secrets.push(NEW.to_owned());
    let out = c.run();
    assert_eq!(out.code, 1);
}

#[test]
fn encode_refuses_bad_input() {
    let cases: [(&str, i32, &str); 6] = [
        ("not json", 2, "not valid JSON"),
        ("[1, 2]", 2, "must be a JSON object"),
        (r#"{"values": {}, "extra": 1}"#, 2, "unknown field"),
        (r#"{"id": 7}"#, 2, "\"id\" must be a string"),
        (r#"{"values": {"a": 1, "a": 2}}"#, 2, "duplicate key"),
        (
            r#"{"values": {"a": {"b": 1, "b": 2}}}"#,
            2,
            "duplicate CBOR map key",
        ),
    ];
    for (input, code, message) in cases {
        let out = cli(&["encode"]).secret(NEW).stdin(input).run();
        assert_eq!(out.code, code, "{input}");
        assert!(out.stderr.contains(message), "{input}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    let big = json!({"values": {"blob": "x".repeat(5000)}});
    let out = cli(&["encode"]).secret(NEW).stdin(&big.to_string()).run();
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("too large"), "{}", out.stderr);

    for bad in ["0", "-5", "1y", "m", "99999999999999999w"] {
        let out = cli(&["encode", "--max-age", bad])
            .secret(NEW)
            .stdin("{}")
            .run();
        assert_eq!(out.code, 2, "{bad}");
    }
    let out = cli(&["encode", "--name", "bad name"])
        .secret(NEW)
        .stdin("{}")
        .run();
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("cookie name"), "{}", out.stderr);
}

#[test]
fn help_for_the_tool_and_every_command() {
    let out = cli(&["--help"]).run();
    assert_eq!(out.code, 0);
    for word in [
        "keygen",
        "encode",
        "decode",
        "inspect",
        "COOKIE_SESSION_SECRET",
        "--key-file",
    ] {
        assert!(out.stdout.contains(word), "{word}");
    }
    for cmd in ["keygen", "encode", "decode", "inspect"] {
        let a = cli(&[cmd, "--help"]).run();
        let b = cli(&["help", cmd]).run();
        assert_eq!(a.code, 0);
        assert_eq!(a.stdout, b.stdout);
        assert!(
            a.stdout.starts_with(&format!("cookie-session {cmd}:")),
            "{}",
            a.stdout
        );
    }
    let out = cli(&[]).run();
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("USAGE"));
    let out = cli(&["frobnicate"]).run();
    assert_eq!(out.code, 2);
    let out = cli(&["keygen", "--name", "x"]).run();
    assert_eq!(out.code, 2);
}

/// Every option a command may be given a value for.
const VALUE_OPTIONS: [&str; 12] = [
    "--name",
    "--max-age",
    "--max-lifetime",
    "--context",
    "--now",
    "--key-file",
    "--secret-env",
    "--fallback-env",
    "--input",
    "--path",
    "--domain",
    "--same-site",
];
const FLAGS: [&str; 5] = [
    "--help",
    "--header",
    "--compact",
    "--set-cookie",
    "--insecure",
];

/// Every way `s` can be passed to every command: as the command, as an
/// unknown option, as the value of every option (separate and inline), as
/// an inline value of every flag, and as positionals.
fn argument_positions(s: &str) -> Vec<Vec<String>> {
    let mut cases: Vec<Vec<&str>> = vec![vec![s], vec!["help", s]];
    let dash = format!("-{s}");
    let dashes = format!("--{s}");
    let dashes_inline = format!("--{s}={s}");
    let inline: Vec<String> = VALUE_OPTIONS
        .iter()
        .chain(&FLAGS)
        .map(|o| format!("{o}={s}"))
        .collect();
    for cmd in ["keygen", "encode", "decode", "inspect"] {
        for a in [&dash, &dashes, &dashes_inline] {
            cases.push(vec![cmd, a]);
            cases.push(vec![cmd, "--now", "0", a]);
        }
        cases.push(vec![cmd, s]);
        cases.push(vec![cmd, "--", s]);
        cases.push(vec![cmd, s, s]);
        cases.push(vec![cmd, "--header", "--", s]);
        cases.push(vec![cmd, "--header", "--name", s]);
        for o in VALUE_OPTIONS {
            cases.push(vec![cmd, o, s]);
            cases.push(vec![cmd, "--set-cookie", o, s]);
        }
        for a in &inline {
            cases.push(vec![cmd, a]);
        }
    }
    cases
        .into_iter()
        .map(|c| c.into_iter().map(str::to_owned).collect())
        .collect()
}

/// `text` with the expected, labelled uses of `s` taken out: the cookie
/// name, path and domain of `encode --set-cookie`, and the `cookie_name`
/// field of `decode`, when `s` was given as that name, path or domain.
fn without_reported_settings(args: &[String], text: &str, s: &str) -> String {
    let given = |opt: &str| {
        args.windows(2).any(|w| w[0] == opt && w[1] == s) || args.contains(&format!("{opt}={s}"))
    };
    let mut text = text.to_owned();
    if given("--name") {
        text = text
            .replace(&format!("\"cookie_name\": \"{s}\""), "")
            .replace(&format!("\"cookie_name\":\"{s}\""), "");
        if let Some(rest) = text.strip_prefix(&format!("{s}=")) {
            text = rest.to_owned();
        }
    }
    if given("--path") {
        text = text.replace(&format!("; Path={s}"), "");
    }
    if given("--domain") {
        text = text.replace(&format!("; Domain={s}"), "");
    }
    text
}

/// A fresh secret given in any argument position of any command never shows
/// up in what the tool prints, with and without a working key, except as
/// the cookie name, path or domain it was given as, where the output reports
/// those settings.
#[test]
fn no_argument_is_ever_echoed() {
    // Like `keygen` makes, not starting with '-' so that it also reaches
    // the positional paths.
    let s = loop {
        let s = Key::generate_secret().to_string();
        if !s.starts_with('-') {
            break s;
        }
    };
    let cookie = encode(NEW, &sample(), &[]);
    let now = T.to_string();
    let mut runs = 0;
    let mut reported = 0;
    let mut seen_codes = std::collections::BTreeSet::new();
    for args in argument_positions(&s) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let is_encode = args.first() == Some(&"encode");
        let with_key = |c: Cli| {
            c.secret(NEW).stdin(&if is_encode {
                sample().to_string()
            } else {
                cookie.clone()
            })
        };
        // Without a key, with a key and input, and with a key and a clock
        // at which the cookie is valid.
        let mut with_now = args.clone();
        if with_now.len() > 1
            && !args.contains(&"--now")
            && !args.iter().any(|a| a.starts_with("--now="))
        {
            with_now.insert(1, &now);
            with_now.insert(1, "--now");
        }
        for out in [
            cli(&args).run(),
            with_key(cli(&args)).run(),
            with_key(cli(&with_now)).run(),
        ] {
            runs += 1;
            seen_codes.insert(out.code);
            let owned: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            let stdout = without_reported_settings(&owned, &out.stdout, &s);
            if stdout != out.stdout {
                reported += 1;
            }
            assert!(
                !out.stderr.contains(&s[..12]) && !stdout.contains(&s[..12]),
                "{args:?} echoed the argument:\n{}\n{}",
                out.stdout,
                out.stderr
            );
            for piece in s.as_bytes().windows(12) {
                let piece = std::str::from_utf8(piece).unwrap();
                assert!(
                    !out.stderr.contains(piece) && !stdout.contains(piece),
                    "{args:?} echoed part of the argument:\n{}\n{}",
                    out.stdout,
                    out.stderr
                );
            }
        }
    }
    assert!(runs > 400, "{runs}");
    // Nor is a shorter unknown command.
    let out = cli(&["Xq7Vn2KxR7mWp4Zt"]).run();
    assert_eq!(out.code, 2);
    assert!(!out.stderr.contains("Xq7Vn2KxR7mWp4Zt"), "{}", out.stderr);
    // The exceptions are real: the settings were reported where expected.
    assert!(reported >= 4, "{reported}");
    // The runs reach every kind of outcome: success, a refused cookie, bad
    // arguments and missing keys.
    assert_eq!(seen_codes.into_iter().collect::<Vec<_>>(), [0, 1, 2, 3],);
}
