//! Command-line options: parsing and the codec settings they name.

use super::*;

/// The options of every command; [`Opts::parse`] accepts only those of the
/// command at hand.
#[derive(Default)]
pub(super) struct Opts {
    pub(super) help: bool,
    pub(super) name: Option<String>,
    pub(super) max_age: Option<Duration>,
    pub(super) max_lifetime: Option<Duration>,
    pub(super) context: Option<String>,
    pub(super) now: Option<OffsetDateTime>,
    pub(super) key_file: Option<PathBuf>,
    pub(super) secret_env: Option<String>,
    pub(super) fallback_env: Option<String>,
    pub(super) input: Option<String>,
    pub(super) header: bool,
    pub(super) set_cookie: bool,
    pub(super) path: Option<String>,
    pub(super) domain: Option<String>,
    pub(super) same_site: Option<Option<SameSite>>,
    pub(super) insecure: bool,
    pub(super) compact: bool,
    pub(super) positional: Vec<String>,
}

pub(super) const KEY_OPTS: &[&str] = &["--key-file", "--secret-env", "--fallback-env"];
pub(super) const CODEC_OPTS: &[&str] = &[
    "--name",
    "--max-age",
    "--max-lifetime",
    "--context",
    "--now",
];
/// The options only `encode` takes.
const ENCODE_OPTS: &[&str] = &[
    "--input",
    "--set-cookie",
    "--path",
    "--domain",
    "--same-site",
    "--insecure",
];
/// The options only `decode` and `inspect` take.
const DECODE_OPTS: &[&str] = &["--header", "--compact"];

impl Opts {
    pub(super) fn parse(command: &str, args: &[String]) -> Result<Opts, Failure> {
        let specific: &[&str] = match command {
            "keygen" => &[],
            "encode" => ENCODE_OPTS,
            _ => DECODE_OPTS,
        };
        let allowed = |o: &str| {
            o == "--help"
                || specific.contains(&o)
                || (command != "keygen" && (KEY_OPTS.contains(&o) || CODEC_OPTS.contains(&o)))
        };
        let mut o = Opts::default();
        // Arguments are never echoed, not even in part: any of them could be
        // a secret pasted by mistake. Errors name the option (one of the
        // fixed names above) or the argument's position.
        let mut it = args.iter().enumerate();
        let mut only_positional = false;
        while let Some((i, arg)) = it.next() {
            // Counted as the user sees it: the command is argument 1.
            let position = i + 2;
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
                return Err(usage(unknown_option(command, name, position)));
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
                    .map(|(_, v)| v.clone())
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

    pub(super) fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(DEFAULT_NAME)
    }

    pub(super) fn now(&self) -> OffsetDateTime {
        self.now.unwrap_or_else(OffsetDateTime::now_utc)
    }

    pub(super) fn max_age(&self) -> Duration {
        self.max_age.unwrap_or(DEFAULT_MAX_AGE)
    }
}

/// The error for an option `command` does not take. Names the option only
/// when it is one the tool knows (a fixed string); otherwise only its
/// position, since the text could be a secret.
fn unknown_option(command: &str, name: &str, position: usize) -> String {
    let known = ["--help"]
        .iter()
        .chain(KEY_OPTS)
        .chain(CODEC_OPTS)
        .chain(ENCODE_OPTS)
        .chain(DECODE_OPTS)
        .find(|&&o| o == name);
    match known {
        Some(o) => format!(
            "{o} (argument {position}) is not an option of {command} \
             (see cookie-session {command} --help)"
        ),
        None => format!(
            "argument {position} is not an option of {command}; it is not shown, in case it is \
             a secret (see cookie-session {command} --help; put -- before a value that starts \
             with -)"
        ),
    }
}

/// `3600`, `90s`, `15m`, `12h`, `14d`, `2w`.
pub(super) fn parse_duration(option: &str, text: &str) -> Result<Duration, Failure> {
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
pub(super) fn parse_time(text: &str) -> Result<OffsetDateTime, Failure> {
    let bad = || usage("--now takes Unix seconds or an RFC 3339 time (2023-11-14T22:13:20Z)");
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = text.parse().map_err(|_| bad())?;
        return OffsetDateTime::from_unix_timestamp(secs).map_err(|_| bad());
    }
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| bad())
}
