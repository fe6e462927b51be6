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

mod args;
mod decode;
mod encode;
mod json;
mod keys;

use args::*;
use decode::*;
use encode::*;
use json::*;
use keys::*;

/// Environment variable holding the primary secret.
const SECRET_ENV: &str = "COOKIE_SESSION_SECRET";
/// Environment variable holding the fallback secrets.
const FALLBACK_ENV: &str = "COOKIE_SESSION_FALLBACK_SECRETS";
/// The default cookie name.
const DEFAULT_NAME: &str = "__Host-session";
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
    --name NAME           Cookie name, signed into the cookie [default: __Host-session]
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
    the key that signed it, needs_reissue (the application writes a new cookie
    on its next save even if nothing changed: signed with a fallback key, old
    enough to be refreshed, or carrying flash), reissue (why a re-issue is due:
    \"none due\", \"signed with a fallback key\", \"refresh due\" or both),
    issued_at, expires_at,
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
    --name NAME           Cookie name [default: __Host-session]
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
            Some(c) => print_help(command_help(c).ok_or_else(unknown_command)?),
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
        _ => Err(unknown_command()),
    }
}

/// Not shown: the text could be a secret.
fn unknown_command() -> Failure {
    usage("unknown command; the commands are keygen, encode, decode, inspect (see --help)")
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
