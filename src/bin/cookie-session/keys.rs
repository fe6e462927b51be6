//! Loading the keyring from the environment or a key file; secrets never reach the output.

use super::*;
use std::fmt;

/// The keyring, from `--key-file` or the environment. Error messages name
/// the source and the line or position, never the secret.
pub(super) fn load_keyring(o: &Opts) -> Result<Keyring, Failure> {
    let (secrets, source) = match &o.key_file {
        Some(path) => (read_key_file(path)?, KeySource::File),
        None => {
            let primary_var = EnvVar::new(o.secret_env.as_deref(), SECRET_ENV, "--secret-env");
            let fallback_var =
                EnvVar::new(o.fallback_env.as_deref(), FALLBACK_ENV, "--fallback-env");
            let primary = env_secret(&primary_var)?.ok_or_else(|| {
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
            if let Some(fallbacks) = env_secret(&fallback_var)? {
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

/// An environment variable to read a secret from, and how messages call it.
pub(super) struct EnvVar<'a> {
    name: &'a str,
    /// The default's name, or the option that named the variable: the name
    /// given on the command line is never shown, in case it is a secret.
    shown: &'static str,
    named_by_option: bool,
}

impl<'a> EnvVar<'a> {
    fn new(given: Option<&'a str>, default: &'static str, option: &'static str) -> EnvVar<'a> {
        match given {
            Some(name) if name != default => EnvVar {
                name,
                shown: option,
                named_by_option: true,
            },
            _ => EnvVar {
                name: default,
                shown: default,
                named_by_option: false,
            },
        }
    }
}

impl fmt::Display for EnvVar<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.named_by_option {
            write!(f, "the variable named by {}", self.shown)
        } else {
            f.write_str(self.shown)
        }
    }
}

pub(super) enum KeySource<'a> {
    File,
    /// Primary and fallback variables.
    Env(EnvVar<'a>, EnvVar<'a>),
}

impl KeySource<'_> {
    /// Where secret number `i` (0 = primary) came from.
    fn describe(&self, i: usize) -> String {
        match self {
            KeySource::File => format!("{KEY_FILE}, secret {}", i + 1),
            KeySource::Env(primary, _) if i == 0 => primary.to_string(),
            KeySource::Env(_, fallback) => format!("{fallback}, secret {i}"),
        }
    }
}

/// How messages call the key file: its path is never shown, in case a
/// secret was given instead of a path.
const KEY_FILE: &str = "the key file (--key-file)";

pub(super) fn env_secret(var: &EnvVar<'_>) -> Result<Option<String>, Failure> {
    match std::env::var(var.name) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(keys_error(format!("{var} is not valid UTF-8")))
        }
    }
}

pub(super) fn read_key_file(path: &Path) -> Result<Vec<String>, Failure> {
    let unreadable = |e: io::Error| keys_error(format!("cannot open {KEY_FILE}: {e}"));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    warn_if_shared(&file);
    let text = read_bounded(file, KEY_FILE).map_err(|f| keys_error(f.message))?;
    let text = String::from_utf8(text)
        .map_err(|_| keys_error(format!("{KEY_FILE} is not valid UTF-8")))?;
    let secrets: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    if secrets.is_empty() {
        return Err(keys_error(format!(
            "{KEY_FILE} holds no secret (one per line, first = primary)"
        )));
    }
    Ok(secrets)
}

#[cfg(unix)]
pub(super) fn warn_if_shared(file: &std::fs::File) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = file.metadata() {
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            eprintln!(
                "cookie-session: warning: {KEY_FILE} is accessible to other users (mode {:o}); \
                 chmod 600 it",
                mode & 0o777
            );
        }
    }
}

#[cfg(not(unix))]
pub(super) fn warn_if_shared(_: &std::fs::File) {}

pub(super) fn build_codec(o: &Opts, keyring: Keyring) -> Result<SessionCodec, Failure> {
    build_codec_named(o, o.name(), keyring)
}

/// [`build_codec`] for the cookie `name` (which `--name` may not give: a
/// `NAME=value` argument names its cookie).
pub(super) fn build_codec_named(
    o: &Opts,
    name: &str,
    keyring: Keyring,
) -> Result<SessionCodec, Failure> {
    let mut b = SessionCodec::builder(name, keyring).max_age(o.max_age());
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
