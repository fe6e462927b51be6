//! `cookie-session`: make secrets, and encode, decode and inspect session
//! cookies from the command line.
//!
//! Built with the `cli` feature:
//!
//! ```text
//! cargo run --features cli -- keygen
//! cargo install cookie-session --features cli
//! ```
//!
//! Keys are read from the environment (`COOKIE_SESSION_SECRET`, plus
//! `COOKIE_SESSION_FALLBACK_SECRETS` for rotation) or from a file
//! (`--key-file`), never from the command line, and are never printed.
//! Run `cookie-session --help` for the details.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::io::{self, IsTerminal as _, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie_session::{
    DEFAULT_MAX_AGE, DecodeError, Key, KeyId, Keyring, SameSite, Session, SessionCodec, ValueMap,
    Verified, generate_id,
};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// Environment variable holding the primary secret.
const SECRET_ENV: &str = "COOKIE_SESSION_SECRET";
/// Environment variable holding the fallback secrets.
const FALLBACK_ENV: &str = "COOKIE_SESSION_FALLBACK_SECRETS";
/// The default cookie name.
const DEFAULT_NAME: &str = "__session";
/// The largest input (JSON, cookie value or header, key file) read.
const MAX_INPUT: u64 = 1 << 20;

/// Exit code: the cookie was refused, no session cookie was found, or the
/// session could not be encoded.
const EXIT_REFUSED: u8 = 1;
/// Exit code: bad arguments or unreadable input.
const EXIT_USAGE: u8 = 2;
/// Exit code: no key, an unreadable key file, or a refused secret.
const EXIT_KEYS: u8 = 3;

const HELP: &str = "\
cookie-session: make secrets, and encode, decode and inspect signed session cookies

USAGE:
    cookie-session <COMMAND> [OPTIONS]

COMMANDS:
    keygen     Print a new random secret (43 characters of base64url)
    encode     Sign a session given as JSON; print the cookie value
    decode     Verify a cookie (value or Cookie header); print the session as JSON
    inspect    Like decode, with sizes, raw CBOR, every candidate cookie and,
               when verification fails, the cookie's UNVERIFIED header fields
    help       Print this help, or a command's help: cookie-session help decode

KEYS (encode, decode, inspect):
    Secrets are never taken on the command line and never printed.
    --key-file PATH     One secret per line: the first signs and verifies, the
                        others only verify (rotation). Blank lines and lines
                        starting with '#' are ignored; surrounding whitespace is
                        trimmed. Takes precedence over the environment.
    COOKIE_SESSION_SECRET
                        The primary secret, when no --key-file is given.
    COOKIE_SESSION_FALLBACK_SECRETS
                        Verify-only secrets, separated by commas or newlines.
    --secret-env VAR, --fallback-env VAR
                        Read the secrets from other variables instead.
    A secret is used as the bytes of its text (as `Key::from_secret` does):
    at least 32 bytes, as made by `cookie-session keygen`.

EXIT STATUS:
    0  success
    1  the cookie was refused (wrong key, expired, malformed, ...), no session
       cookie was found, or the session could not be encoded (too large)
    2  bad arguments or unreadable input
    3  no key, an unreadable key file, or a refused secret

Run `cookie-session <COMMAND> --help` for the options of a command.
";

const HELP_KEYGEN: &str = "\
cookie-session keygen: print a new random secret

USAGE:
    cookie-session keygen

Prints 32 random bytes from the operating system as 43 characters of unpadded
base64url, and nothing else, on standard output; its key id and a reminder go
to standard error. Store the secret in your secret store and hand it to the
application (and to this tool) in an environment variable such as
COOKIE_SESSION_SECRET. Anyone who has it can forge sessions.

    export COOKIE_SESSION_SECRET=\"$(cookie-session keygen)\"
";

const HELP_ENCODE: &str = "\
cookie-session encode: sign a session given as JSON and print the cookie value

USAGE:
    cookie-session encode [OPTIONS] < session.json
    cookie-session encode [OPTIONS] --input session.json

INPUT (standard input, or --input FILE; '-' means standard input):
    {\"id\": \"optional id\", \"values\": {\"user\": \"alice\"}, \"flash\": {\"notice\": \"Hi\"}}

    All three fields are optional; no id means a new random one. Values and
    flash are stored as CBOR, in the order given. A value that is null is
    left out (as Session::set does); flash values are kept as given, null
    too, and are what the next request will read. The `session` object
    printed by `decode` has this shape, so `decode | jq .session | encode`
    re-signs a session.

OPTIONS:
    --name NAME           Cookie name, signed into the cookie [default: __session]
    --max-age DURATION    How long the cookie stays valid [default: 14d]
    --max-lifetime DURATION
                          Absolute session lifetime, from its creation [default: none]
    --context TEXT        Application label signed into the cookie [default: none]
    --now TIME            Issue the cookie at TIME instead of now
    --set-cookie          Print the whole Set-Cookie header value instead of the value
    --path PATH           Set-Cookie Path [default: /]
    --domain DOMAIN       Set-Cookie Domain [default: none, host-only]
    --same-site VALUE     Set-Cookie SameSite: strict, lax, none or off [default: lax]
    --insecure            Leave out the Secure attribute
    --key-file PATH, --secret-env VAR, --fallback-env VAR
                          Where the keys come from (see cookie-session --help)
    -h, --help            Print this help

DURATION is a whole number of seconds, or a number followed by one unit:
s (seconds), m (minutes), h (hours), d (days), w (weeks): 3600, 90m, 14d.
TIME is Unix seconds (1700000000) or RFC 3339 (2023-11-14T22:13:20Z).
";

const HELP_DECODE: &str = "\
cookie-session decode: verify a session cookie and print the session as JSON

USAGE:
    cookie-session decode [OPTIONS] [VALUE]
    cookie-session decode [OPTIONS] --header [HEADER]

INPUT (the argument, or standard input when there is none):
    A cookie value (a leading `NAME=` is accepted; put `--` before an
    argument that starts with `-`), or with --header a whole Cookie header (a
    leading `Cookie:` is accepted; several lines are several headers). In a
    header, the cookies named --name are tried in order, at most 16, and the
    first that verifies wins, as SessionCodec::read does.

OUTPUT (standard output, JSON):
    valid (true), cookie_name, key_id and signed_with (primary or fallback) of
    the key that signed it, needs_reissue (signed with a fallback key: the
    application re-signs it on its next save), issued_at, expires_at,
    created_at and now (each as {\"unix\": seconds, \"rfc3339\": text}),
    valid_for_seconds, and session: {\"id\", \"values\", \"flash\"}. With
    --header, also cookie_index, cookies_named and rejected (the cookies of the
    name tried before it, with their errors).

    Values are converted from CBOR to JSON; what JSON cannot hold is wrapped:
    byte strings as {\"$bytes\": base64url}, non-finite floats as
    {\"$float\": \"NaN\"}, maps with keys other than text as
    {\"$map\": [[key, value], ...]}.

    A cookie that is refused prints {\"valid\": false, \"error\": {\"variant\",
    \"message\"}}: the library's DecodeError, as Debug and Display (e.g.
    \"BadSignature\", \"session cookie signature does not verify\"); the message
    goes to standard error too, and the exit status is 1.

OPTIONS:
    --header              The input is a Cookie header, not a value
    --name NAME           Cookie name [default: __session]
    --max-age DURATION    The application's max_age [default: 14d]
    --max-lifetime DURATION
                          The application's max_lifetime [default: none]
    --context TEXT        The application's context label [default: none]
    --now TIME            Check the times as of TIME instead of now
    --compact             One line of JSON instead of indented
    --key-file PATH, --secret-env VAR, --fallback-env VAR
                          Where the keys come from (see cookie-session --help)
    -h, --help            Print this help

DURATION and TIME: see `cookie-session encode --help`.
";

const HELP_INSPECT: &str = "\
cookie-session inspect: decode, with details for debugging

USAGE:
    cookie-session inspect [OPTIONS] [VALUE]
    cookie-session inspect [OPTIONS] --header [HEADER]

Takes the input and options of `decode` and prints what it prints, plus:
    size              bytes of NAME=VALUE, and the limit (4096)
    cbor              each value and flash as hex CBOR, as signed
    candidates        with --header: every cookie of the name (at most 16),
                      each with its key id and its result

When the cookie is refused, it also prints an object named UNVERIFIED: the
version, key id and times read from the cookie's header WITHOUT checking the
signature. Anyone can forge them; they only help to tell why a cookie fails
(which key id it names, when it says it expires). The payload of a refused
cookie is never shown.
";

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(Failure { code, message }) => {
            eprintln!("cookie-session: {message}");
            ExitCode::from(code)
        }
    }
}

/// An error that ends the program: its message (never a secret) and exit
/// status.
struct Failure {
    code: u8,
    message: String,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: EXIT_USAGE,
        message: message.into(),
    }
}

fn keys_error(message: impl Into<String>) -> Failure {
    Failure {
        code: EXIT_KEYS,
        message: message.into(),
    }
}

fn run() -> Result<u8, Failure> {
    let mut args = Vec::new();
    for a in std::env::args_os().skip(1) {
        // Never echo an argument: it could be a secret pasted by mistake.
        args.push(
            a.into_string()
                .map_err(|_| usage("arguments must be valid UTF-8"))?,
        );
    }
    let Some(command) = args.first().cloned() else {
        eprint!("{HELP}");
        return Ok(EXIT_USAGE);
    };
    let rest = &args[1..];
    match command.as_str() {
        "-h" | "--help" => print_help(HELP),
        "-V" | "--version" => {
            println!("cookie-session {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        "help" => match rest.first().map(String::as_str) {
            None => print_help(HELP),
            Some(c) => print_help(command_help(c).ok_or_else(|| unknown_command(c))?),
        },
        "keygen" | "encode" | "decode" | "inspect" => {
            let opts = Opts::parse(&command, rest)?;
            if opts.help {
                return print_help(command_help(&command).unwrap_or(HELP));
            }
            match command.as_str() {
                "keygen" => keygen(&opts),
                "encode" => encode(&opts),
                "decode" => decode(&opts, false),
                _ => decode(&opts, true),
            }
        }
        other => Err(unknown_command(other)),
    }
}

fn unknown_command(c: &str) -> Failure {
    let shown = if c.len() <= 20 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        format!(" '{c}'")
    } else {
        String::new()
    };
    usage(format!(
        "unknown command{shown}; the commands are keygen, encode, decode, inspect (see --help)"
    ))
}

fn command_help(command: &str) -> Option<&'static str> {
    Some(match command {
        "keygen" => HELP_KEYGEN,
        "encode" => HELP_ENCODE,
        "decode" => HELP_DECODE,
        "inspect" => HELP_INSPECT,
        _ => return None,
    })
}

fn print_help(text: &str) -> Result<u8, Failure> {
    print!("{text}");
    Ok(0)
}

/// The options of every command; [`Opts::parse`] accepts only those of the
/// command at hand.
#[derive(Default)]
struct Opts {
    help: bool,
    name: Option<String>,
    max_age: Option<Duration>,
    max_lifetime: Option<Duration>,
    context: Option<String>,
    now: Option<OffsetDateTime>,
    key_file: Option<PathBuf>,
    secret_env: Option<String>,
    fallback_env: Option<String>,
    input: Option<String>,
    header: bool,
    set_cookie: bool,
    path: Option<String>,
    domain: Option<String>,
    same_site: Option<Option<SameSite>>,
    insecure: bool,
    compact: bool,
    positional: Vec<String>,
}

const KEY_OPTS: &[&str] = &["--key-file", "--secret-env", "--fallback-env"];
const CODEC_OPTS: &[&str] = &[
    "--name",
    "--max-age",
    "--max-lifetime",
    "--context",
    "--now",
];

impl Opts {
    fn parse(command: &str, args: &[String]) -> Result<Opts, Failure> {
        let specific: &[&str] = match command {
            "keygen" => &[],
            "encode" => &[
                "--input",
                "--set-cookie",
                "--path",
                "--domain",
                "--same-site",
                "--insecure",
            ],
            _ => &["--header", "--compact"],
        };
        let allowed = |o: &str| {
            o == "--help"
                || specific.contains(&o)
                || (command != "keygen" && (KEY_OPTS.contains(&o) || CODEC_OPTS.contains(&o)))
        };
        let mut o = Opts::default();
        let mut it = args.iter();
        let mut only_positional = false;
        while let Some(arg) = it.next() {
            if only_positional || !arg.starts_with('-') || arg == "-" {
                o.positional.push(arg.clone());
                continue;
            }
            if arg == "--" {
                only_positional = true;
                continue;
            }
            if arg == "-h" {
                o.help = true;
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (arg.as_str(), None),
            };
            if matches!(
                name,
                "--secret" | "--key" | "--secrets" | "--fallback" | "--fallback-secret"
            ) {
                return Err(usage(format!(
                    "{name}: secrets are never taken on the command line; set {SECRET_ENV} \
                     (and {FALLBACK_ENV}) or use --key-file PATH"
                )));
            }
            if !allowed(name) {
                let shown: String = name.chars().take(40).collect();
                return Err(usage(format!(
                    "unknown option {shown} for {command} (see cookie-session {command} --help)"
                )));
            }
            let is_flag = matches!(
                name,
                "--help" | "--header" | "--set-cookie" | "--insecure" | "--compact"
            );
            if is_flag {
                if inline.is_some() {
                    return Err(usage(format!("{name} takes no value")));
                }
                match name {
                    "--help" => o.help = true,
                    "--header" => o.header = true,
                    "--set-cookie" => o.set_cookie = true,
                    "--insecure" => o.insecure = true,
                    _ => o.compact = true,
                }
                continue;
            }
            let value = match inline {
                Some(v) => v,
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| usage(format!("{name} needs a value")))?,
            };
            match name {
                "--name" => o.name = Some(value),
                "--max-age" => o.max_age = Some(parse_duration(name, &value)?),
                "--max-lifetime" => o.max_lifetime = Some(parse_duration(name, &value)?),
                "--context" => o.context = Some(value),
                "--now" => o.now = Some(parse_time(&value)?),
                "--key-file" => o.key_file = Some(PathBuf::from(value)),
                "--secret-env" => o.secret_env = Some(value),
                "--fallback-env" => o.fallback_env = Some(value),
                "--input" => o.input = Some(value),
                "--path" => o.path = Some(value),
                "--domain" => o.domain = Some(value),
                "--same-site" => {
                    o.same_site = Some(match value.to_ascii_lowercase().as_str() {
                        "strict" => Some(SameSite::Strict),
                        "lax" => Some(SameSite::Lax),
                        "none" => Some(SameSite::None),
                        "off" => None,
                        _ => return Err(usage("--same-site takes strict, lax, none or off")),
                    })
                }
                _ => unreachable!("every allowed option is handled"),
            }
        }
        let max_positional = match command {
            "decode" | "inspect" => 1,
            _ => 0,
        };
        if o.positional.len() > max_positional && !o.help {
            return Err(usage(format!(
                "{command} takes {} argument{}, got {} (see cookie-session {command} --help)",
                if max_positional == 0 { "no" } else { "one" },
                if max_positional == 0 { "s" } else { "" },
                o.positional.len()
            )));
        }
        Ok(o)
    }

    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(DEFAULT_NAME)
    }

    fn now(&self) -> OffsetDateTime {
        self.now.unwrap_or_else(OffsetDateTime::now_utc)
    }

    fn max_age(&self) -> Duration {
        self.max_age.unwrap_or(DEFAULT_MAX_AGE)
    }
}

/// `3600`, `90s`, `15m`, `12h`, `14d`, `2w`.
fn parse_duration(option: &str, text: &str) -> Result<Duration, Failure> {
    let bad = || {
        usage(format!(
            "{option} takes a positive whole number of seconds, or a number with one of the \
             units s, m, h, d, w (e.g. 3600, 90m, 14d)"
        ))
    };
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let multiplier: i64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return Err(bad()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = digits.parse().map_err(|_| bad())?;
    let secs = n.checked_mul(multiplier).ok_or_else(bad)?;
    if secs < 1 {
        return Err(bad());
    }
    Ok(Duration::seconds(secs))
}

/// Unix seconds or RFC 3339.
fn parse_time(text: &str) -> Result<OffsetDateTime, Failure> {
    let bad = || usage("--now takes Unix seconds or an RFC 3339 time (2023-11-14T22:13:20Z)");
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = text.parse().map_err(|_| bad())?;
        return OffsetDateTime::from_unix_timestamp(secs).map_err(|_| bad());
    }
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| bad())
}

// ---------------------------------------------------------------------------
// Keys

/// The keyring, from `--key-file` or the environment. Error messages name
/// the source and the line or position, never the secret.
fn load_keyring(o: &Opts) -> Result<Keyring, Failure> {
    let (secrets, source) = match &o.key_file {
        Some(path) => (read_key_file(path)?, KeySource::File(path)),
        None => {
            let primary_var = o.secret_env.as_deref().unwrap_or(SECRET_ENV);
            let fallback_var = o.fallback_env.as_deref().unwrap_or(FALLBACK_ENV);
            let primary = env_secret(primary_var)?.ok_or_else(|| {
                keys_error(format!(
                    "no key: set {primary_var} (see `cookie-session keygen`), or pass \
                     --key-file PATH"
                ))
            })?;
            let primary = primary.trim().to_owned();
            if primary.is_empty() {
                return Err(keys_error(format!("{primary_var} is empty")));
            }
            let mut secrets = vec![primary];
            if let Some(fallbacks) = env_secret(fallback_var)? {
                secrets.extend(
                    fallbacks
                        .split([',', '\n'])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
            }
            (secrets, KeySource::Env(primary_var, fallback_var))
        }
    };
    let mut keys = Vec::with_capacity(secrets.len());
    for (i, secret) in secrets.iter().enumerate() {
        let key = Key::from_secret(secret.as_bytes())
            .map_err(|e| keys_error(format!("{}: {e}", source.describe(i))))?;
        keys.push(key);
    }
    let mut keys = keys.into_iter();
    let mut ring = Keyring::new(keys.next().expect("at least one secret"));
    for (i, key) in keys.enumerate() {
        ring = ring
            .with_fallback(key)
            .map_err(|e| keys_error(format!("{}: {e}", source.describe(i + 1))))?;
    }
    Ok(ring)
}

enum KeySource<'a> {
    File(&'a Path),
    /// Primary and fallback variable names.
    Env(&'a str, &'a str),
}

impl KeySource<'_> {
    /// Where secret number `i` (0 = primary) came from.
    fn describe(&self, i: usize) -> String {
        match self {
            KeySource::File(p) => format!("key file {}, secret {}", p.display(), i + 1),
            KeySource::Env(primary, _) if i == 0 => primary.to_string(),
            KeySource::Env(_, fallback) => format!("{fallback}, secret {i}"),
        }
    }
}

fn env_secret(var: &str) -> Result<Option<String>, Failure> {
    match std::env::var(var) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(keys_error(format!("{var} is not valid UTF-8")))
        }
    }
}

fn read_key_file(path: &Path) -> Result<Vec<String>, Failure> {
    let unreadable = |e: io::Error| keys_error(format!("key file {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    warn_if_shared(path, &file);
    let text = read_bounded(file, "the key file").map_err(|f| keys_error(f.message))?;
    let text = String::from_utf8(text)
        .map_err(|_| keys_error(format!("key file {}: not valid UTF-8", path.display())))?;
    let secrets: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    if secrets.is_empty() {
        return Err(keys_error(format!(
            "key file {}: no secret in it (one per line, first = primary)",
            path.display()
        )));
    }
    Ok(secrets)
}

#[cfg(unix)]
fn warn_if_shared(path: &Path, file: &std::fs::File) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = file.metadata() {
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            eprintln!(
                "cookie-session: warning: key file {} is accessible to other users (mode {:o}); \
                 chmod 600 it",
                path.display(),
                mode & 0o777
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_: &Path, _: &std::fs::File) {}

fn build_codec(o: &Opts, keyring: Keyring) -> Result<SessionCodec, Failure> {
    let mut b = SessionCodec::builder(o.name(), keyring).max_age(o.max_age());
    if let Some(l) = o.max_lifetime {
        b = b.max_lifetime(l);
    }
    if let Some(c) = &o.context {
        b = b.context(c);
    }
    if let Some(p) = &o.path {
        b = b.path(p.as_str());
    }
    if let Some(d) = &o.domain {
        b = b.domain(d.as_str());
    }
    if let Some(s) = o.same_site {
        b = b.same_site(s);
    }
    if o.insecure {
        b = b.secure(false);
    }
    b.build()
        .map_err(|e| usage(format!("invalid configuration: {e}")))
}

// ---------------------------------------------------------------------------
// Input

/// Reads at most [`MAX_INPUT`] bytes.
fn read_bounded(r: impl Read, what: &str) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    r.take(MAX_INPUT + 1)
        .read_to_end(&mut buf)
        .map_err(|e| usage(format!("cannot read {what}: {e}")))?;
    if buf.len() as u64 > MAX_INPUT {
        return Err(usage(format!("{what} is larger than {MAX_INPUT} bytes")));
    }
    Ok(buf)
}

fn read_stdin_text(what: &str) -> Result<String, Failure> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        eprintln!("cookie-session: reading {what} from standard input (end with Ctrl-D)");
    }
    let bytes = read_bounded(stdin.lock(), what)?;
    String::from_utf8(bytes).map_err(|_| usage(format!("{what} is not valid UTF-8")))
}

// ---------------------------------------------------------------------------
// keygen

fn keygen(_: &Opts) -> Result<u8, Failure> {
    let secret = Key::generate_secret();
    let id = Key::from_secret(secret.as_bytes())
        .expect("a generated secret is long and random")
        .id();
    let mut out = io::stdout().lock();
    writeln!(out, "{}", secret.as_str())
        .and_then(|()| out.flush())
        .map_err(|e| usage(format!("cannot write the secret: {e}")))?;
    eprintln!(
        "cookie-session: new secret with key id {id}. Keep it in your secret store and pass it \
         in {SECRET_ENV}; anyone who has it can forge sessions. To rotate, move the old secret \
         to {FALLBACK_ENV}."
    );
    Ok(0)
}

// ---------------------------------------------------------------------------
// encode

fn encode(o: &Opts) -> Result<u8, Failure> {
    let codec = build_codec(o, load_keyring(o)?)?;
    let text = match o.input.as_deref() {
        None | Some("-") => read_stdin_text("the session JSON")?,
        Some(path) => {
            let file =
                std::fs::File::open(path).map_err(|e| usage(format!("cannot open {path}: {e}")))?;
            String::from_utf8(read_bounded(file, path)?)
                .map_err(|_| usage(format!("{path} is not valid UTF-8")))?
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
fn session_from_json(text: &str) -> Result<Session, Failure> {
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

fn set_once<T>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), Failure> {
    if slot.replace(value).is_some() {
        return Err(usage(format!("duplicate field \"{name}\" in the input")));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// decode and inspect

/// One candidate cookie value and where it came from.
struct Candidate {
    value: String,
}

fn decode(o: &Opts, inspect: bool) -> Result<u8, Failure> {
    let keyring = load_keyring(o)?;
    let key_ids: Vec<KeyId> = keyring.keys().iter().map(Key::id).collect();
    let codec = build_codec(o, keyring)?;
    let text = match o.positional.first() {
        Some(v) => v.clone(),
        None => read_stdin_text(if o.header {
            "the Cookie header"
        } else {
            "the cookie value"
        })?,
    };
    let now = o.now();
    let candidates = if o.header {
        cookies_named(&text, codec.name())
    } else {
        let v = text.trim();
        let v = v
            .strip_prefix(codec.name())
            .and_then(|r| r.strip_prefix('='))
            .unwrap_or(v);
        vec![Candidate {
            value: v.to_owned(),
        }]
    };
    if candidates.is_empty() {
        let out = obj([
            ("valid", Out::Bool(false)),
            ("cookie_name", Out::str(codec.name())),
            (
                "error",
                obj([
                    ("variant", Out::str("NoCookie")),
                    (
                        "message",
                        Out::Str(format!("no cookie named {} in the header", codec.name())),
                    ),
                ]),
            ),
        ]);
        print_json(&out, o.compact)?;
        return Err(Failure {
            code: EXIT_REFUSED,
            message: format!("no cookie named {} in the header", codec.name()),
        });
    }

    // Try candidates in order, as `SessionCodec::try_read_at` does; inspect
    // goes on past the first that verifies to show all of them.
    let mut results = Vec::with_capacity(candidates.len());
    let mut chosen = None;
    for (i, c) in candidates.iter().enumerate() {
        let r = codec.verify_at(&c.value, now);
        if r.is_ok() && chosen.is_none() {
            chosen = Some(i);
        }
        results.push(r);
        if chosen.is_some() && !inspect {
            break;
        }
    }

    let mut out = Vec::new();
    let code = match chosen {
        Some(i) => {
            let Ok(v) = &results[i] else { unreachable!() };
            out.push(("valid", Out::Bool(true)));
            out.push(("cookie_name", Out::str(codec.name())));
            out.push(("key_id", Out::Str(v.key_id.to_string())));
            out.push((
                "signed_with",
                Out::str(if v.needs_reissue {
                    "fallback"
                } else {
                    "primary"
                }),
            ));
            out.push(("needs_reissue", Out::Bool(v.needs_reissue)));
            out.push(("issued_at", time_out(v.issued_at)));
            out.push(("expires_at", time_out(v.expires_at)));
            out.push(("created_at", time_out(v.created_at)));
            out.push(("now", time_out(unix(now))));
            out.push(("valid_for_seconds", Out::Int(valid_for(o, v, now))));
            out.push(("session", session_out(&v.session)));
            if o.header {
                out.push(("cookie_index", Out::Int(i as i128)));
                out.push(("cookies_named", Out::Int(candidates.len() as i128)));
                out.push((
                    "rejected",
                    Out::Arr(
                        results[..i]
                            .iter()
                            .enumerate()
                            .filter_map(|(j, r)| {
                                r.as_ref().err().map(|e| {
                                    obj([("index", Out::Int(j as i128)), ("error", error_out(e))])
                                })
                            })
                            .collect(),
                    ),
                ));
            }
            if inspect {
                let c = &candidates[i];
                out.push(("size", size_out(&codec, &c.value)));
                out.push(("cbor", cbor_out(&v.session)));
            }
            0
        }
        None => {
            let Err(e) = &results[0] else { unreachable!() };
            out.push(("valid", Out::Bool(false)));
            out.push(("cookie_name", Out::str(codec.name())));
            out.push(("error", error_out(e)));
            if o.header {
                out.push(("cookies_named", Out::Int(candidates.len() as i128)));
            }
            if inspect {
                out.push(("size", size_out(&codec, &candidates[0].value)));
                out.push(("UNVERIFIED", unverified_out(&candidates[0].value, &key_ids)));
            }
            eprintln!("cookie-session: {e}");
            EXIT_REFUSED
        }
    };
    if inspect && o.header {
        let list = candidates
            .iter()
            .zip(&results)
            .enumerate()
            .map(|(i, (c, r))| {
                let mut fields = vec![("index", Out::Int(i as i128))];
                match r {
                    Ok(v) => {
                        fields.push(("valid", Out::Bool(true)));
                        fields.push(("key_id", Out::Str(v.key_id.to_string())));
                        fields.push(("session_id", Out::str(v.session.id())));
                    }
                    Err(e) => {
                        fields.push(("valid", Out::Bool(false)));
                        fields.push(("error", error_out(e)));
                        fields.push(("UNVERIFIED", unverified_out(&c.value, &key_ids)));
                    }
                }
                Out::Obj(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            })
            .collect();
        out.push(("candidates", Out::Arr(list)));
    }
    let out = Out::Obj(out.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
    print_json(&out, o.compact)?;
    if inspect && chosen.is_none() {
        eprintln!(
            "cookie-session: the UNVERIFIED fields were read without checking the signature; \
             do not trust them"
        );
    }
    Ok(code)
}

/// The values of the cookies named `name` in one or more `Cookie` header
/// lines, in order, at most 16 (the number `SessionCodec::read` tries).
/// Parsed like the library does: with the `cookie` crate, values as sent.
fn cookies_named(text: &str, name: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let line = match line.get(..7) {
            Some(p) if p.eq_ignore_ascii_case("cookie:") => &line[7..],
            _ => line,
        };
        for c in cookie::Cookie::split_parse(line).filter_map(Result::ok) {
            if c.name() == name && out.len() < 16 {
                let value = c.value_raw().unwrap_or(c.value()).to_owned();
                out.push(Candidate { value });
            }
        }
    }
    out
}

/// Seconds left before the first of the signed expiry, `issued_at +
/// max_age` and `created_at + max_lifetime`.
fn valid_for(o: &Opts, v: &Verified, now: OffsetDateTime) -> i128 {
    let mut end = i128::from(v.expires_at)
        .min(i128::from(v.issued_at) + i128::from(o.max_age().whole_seconds()));
    if let Some(l) = o.max_lifetime {
        end = end.min(i128::from(v.created_at) + i128::from(l.whole_seconds()));
    }
    end - i128::from(now.unix_timestamp())
}

fn unix(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp()).unwrap_or(0)
}

fn time_out(secs: u64) -> Out {
    let rfc = i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .map_or(Out::Null, Out::Str);
    obj([("unix", Out::Int(i128::from(secs))), ("rfc3339", rfc)])
}

fn error_out(e: &DecodeError) -> Out {
    obj([
        ("variant", Out::Str(format!("{e:?}"))),
        ("message", Out::Str(e.to_string())),
    ])
}

fn session_out(s: &Session) -> Out {
    obj([
        ("id", Out::str(s.id())),
        ("values", map_out(&s.data().values)),
        ("flash", map_out(s.incoming_flash())),
    ])
}

fn map_out(m: &ValueMap) -> Out {
    Out::Obj(
        m.iter()
            .map(|(k, v)| {
                let tree = ciborium::de::from_reader::<ciborium::Value, _>(v.as_cbor())
                    .map_or(Out::Null, |t| cbor_to_out(&t));
                (k.to_owned(), tree)
            })
            .collect(),
    )
}

fn cbor_out(s: &Session) -> Out {
    let hex_map = |m: &ValueMap| {
        Out::Obj(
            m.iter()
                .map(|(k, v)| (k.to_owned(), Out::Str(hex(v.as_cbor()))))
                .collect(),
        )
    };
    obj([
        ("values", hex_map(&s.data().values)),
        ("flash", hex_map(s.incoming_flash())),
    ])
}

fn size_out(codec: &SessionCodec, value: &str) -> Out {
    obj([
        (
            "bytes",
            Out::Int((codec.name().len() + 1 + value.len()) as i128),
        ),
        ("limit", Out::Int(cookie_session::MAX_COOKIE_SIZE as i128)),
    ])
}

/// The version, key id and times of a cookie, read WITHOUT verifying it.
/// The payload is never shown.
fn unverified_out(value: &str, key_ids: &[KeyId]) -> Out {
    const HEADER: usize = 1 + 4 + 8 * 3;
    let warning = (
        "warning",
        Out::str(
            "read WITHOUT checking the signature: anyone can forge these fields; \
             use them only to tell why the cookie was refused",
        ),
    );
    let decoded = if value.len() <= 2 * cookie_session::MAX_COOKIE_SIZE {
        URL_SAFE_NO_PAD.decode(value.as_bytes()).ok()
    } else {
        None
    };
    let Some(bytes) = decoded else {
        return obj([warning, ("readable", Out::Bool(false))]);
    };
    if bytes.len() < HEADER {
        return obj([warning, ("readable", Out::Bool(false))]);
    }
    let u64_at = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[at..at + 8]);
        u64::from_be_bytes(b)
    };
    let key_id = hex(&bytes[1..5]);
    let role = match key_ids.iter().position(|id| id.to_bytes() == bytes[1..5]) {
        Some(0) => "primary",
        Some(_) => "fallback",
        None => "not in the keyring",
    };
    obj([
        warning,
        ("readable", Out::Bool(true)),
        ("version", Out::Int(i128::from(bytes[0]))),
        ("key_id", Out::Str(key_id)),
        ("key", Out::str(role)),
        ("issued_at", time_out(u64_at(5))),
        ("expires_at", time_out(u64_at(13))),
        ("created_at", time_out(u64_at(21))),
    ])
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn print_json(out: &Out, compact: bool) -> Result<(), Failure> {
    let mut stdout = io::stdout().lock();
    let r = if compact {
        serde_json::to_writer(&mut stdout, out)
    } else {
        serde_json::to_writer_pretty(&mut stdout, out)
    };
    r.map_err(io::Error::from)
        .and_then(|()| writeln!(stdout))
        .and_then(|()| stdout.flush())
        .map_err(|e| usage(format!("cannot write the output: {e}")))
}

// ---------------------------------------------------------------------------
// JSON output that keeps the order of maps

/// A JSON tree whose objects keep their order.
enum Out {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Arr(Vec<Out>),
    Obj(Vec<(String, Out)>),
}

impl Out {
    fn str(s: &str) -> Out {
        Out::Str(s.to_owned())
    }
}

fn obj<const N: usize>(fields: [(&str, Out); N]) -> Out {
    Out::Obj(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

impl Serialize for Out {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Out::Null => s.serialize_unit(),
            Out::Bool(b) => s.serialize_bool(*b),
            Out::Int(i) => match (u64::try_from(*i), i64::try_from(*i)) {
                (Ok(u), _) => s.serialize_u64(u),
                (_, Ok(n)) => s.serialize_i64(n),
                _ => s.serialize_i128(*i),
            },
            Out::Float(f) => s.serialize_f64(*f),
            Out::Str(t) => s.serialize_str(t),
            Out::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Out::Obj(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// CBOR to JSON; what JSON cannot hold is wrapped (see `decode --help`).
fn cbor_to_out(v: &ciborium::Value) -> Out {
    use ciborium::Value as C;
    match v {
        C::Null => Out::Null,
        C::Bool(b) => Out::Bool(*b),
        C::Integer(i) => Out::Int(i128::from(*i)),
        C::Float(f) if f.is_finite() => Out::Float(*f),
        C::Float(f) => obj([(
            "$float",
            Out::str(if f.is_nan() {
                "NaN"
            } else if *f > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            }),
        )]),
        C::Text(t) => Out::str(t),
        C::Bytes(b) => obj([("$bytes", Out::Str(URL_SAFE_NO_PAD.encode(b)))]),
        C::Array(items) => Out::Arr(items.iter().map(cbor_to_out).collect()),
        C::Map(entries) => {
            let mut keys = std::collections::HashSet::new();
            let text_keys = entries
                .iter()
                .all(|(k, _)| k.as_text().is_some_and(|t| keys.insert(t)));
            if text_keys {
                Out::Obj(
                    entries
                        .iter()
                        .map(|(k, v)| (k.as_text().unwrap_or_default().to_owned(), cbor_to_out(v)))
                        .collect(),
                )
            } else {
                obj([(
                    "$map",
                    Out::Arr(
                        entries
                            .iter()
                            .map(|(k, v)| Out::Arr(vec![cbor_to_out(k), cbor_to_out(v)]))
                            .collect(),
                    ),
                )])
            }
        }
        // Tags never pass the library's checks; shown for completeness.
        C::Tag(tag, inner) => obj([(
            "$tag",
            Out::Arr(vec![Out::Int(i128::from(*tag)), cbor_to_out(inner)]),
        )]),
        other => Out::Str(format!("{other:?}")),
    }
}
