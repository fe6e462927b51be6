//! `decode` and `inspect`: a cookie value or `Cookie` header in, the verified session (or the reason it was refused) out.

use super::*;

/// One candidate cookie value and where it came from.
pub(super) struct Candidate {
    value: String,
}

/// The message when the header holds no cookie of the name: the name given
/// with --name is not repeated in it, in case it is a secret.
fn no_cookie(o: &Opts) -> String {
    match &o.name {
        Some(n) if n != DEFAULT_NAME => "no cookie of the --name given in the header".to_owned(),
        _ => format!("no cookie named {DEFAULT_NAME} in the header"),
    }
}

/// Said with `BadSignature`: the key was found by its id, so what differs is
/// most likely something else the tag covers.
const BAD_SIGNATURE_HINT: &str = "the cookie's key id matches a configured key, so the key is \
     probably right: check --name and --context, which are signed into the cookie \
     (or the cookie was altered)";

pub(super) fn decode(o: &Opts, inspect: bool) -> Result<u8, Failure> {
    let keyring = load_keyring(o)?;
    let key_ids: Vec<KeyId> = keyring.keys().map(Key::id).collect();
    let text = match o.positional.first() {
        Some(v) => v.clone(),
        None => read_stdin_text(if o.header {
            "the Cookie header"
        } else {
            "the cookie value"
        })?,
    };
    let now = o.now();
    let (codec, candidates) = if o.header {
        let codec = build_codec(o, keyring)?;
        let candidates = cookies_named(&codec, &text);
        (codec, candidates)
    } else {
        // A value is unpadded base64url and never holds `=`: `NAME=value`
        // names its cookie, which then needs no --name.
        // (A padded base64 secret pasted here ends in `=`: no value, so it
        // is not taken for a name, which the output would show.)
        let (name, value) = match text.trim().split_once('=') {
            Some((name, value)) if !value.trim().is_empty() => {
                (name.trim_matches([' ', '\t']), value)
            }
            _ => (o.name(), text.trim()),
        };
        if o.name.as_deref().is_some_and(|n| n != name) {
            return Err(usage(
                "the cookie's NAME= prefix differs from --name; give one or make them agree",
            ));
        }
        let codec = build_codec_named(o, name, keyring)?;
        let candidates = vec![Candidate {
            value: value.trim_matches([' ', '\t']).to_owned(),
        }];
        (codec, candidates)
    };
    if candidates.is_empty() {
        let out = obj([
            ("valid", Out::Bool(false)),
            ("cookie_name", Out::str(codec.name())),
            (
                "error",
                obj([
                    ("variant", Out::str("NoCookie")),
                    ("message", Out::Str(no_cookie(o))),
                ]),
            ),
        ]);
        print_json(&out, o.compact)?;
        return Err(Failure {
            code: EXIT_REFUSED,
            message: no_cookie(o),
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
                Out::str(if v.reissue.fallback_key {
                    "fallback"
                } else {
                    "primary"
                }),
            ));
            out.push(("needs_reissue", Out::Bool(v.needs_reissue)));
            out.push(("reissue", Out::Str(v.reissue.to_string())));
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
            if *e == DecodeError::BadSignature {
                out.push(("hint", Out::str(BAD_SIGNATURE_HINT)));
            }
            if o.header {
                out.push(("cookies_named", Out::Int(candidates.len() as i128)));
            }
            if inspect {
                out.push(("size", size_out(&codec, &candidates[0].value)));
                out.push(("UNVERIFIED", unverified_out(&candidates[0].value, &key_ids)));
            }
            eprintln!("cookie-session: {e}");
            if *e == DecodeError::BadSignature {
                eprintln!("cookie-session: {BAD_SIGNATURE_HINT}");
            }
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

/// The values of the session cookies in one or more `Cookie` header
/// lines (each may start with `Cookie:`), in order, at most 16 in all: the
/// candidates `SessionCodec::read` would try.
pub(super) fn cookies_named(codec: &SessionCodec, text: &str) -> Vec<Candidate> {
    text.lines()
        .flat_map(|line| {
            let line = line.trim();
            let line = match line.get(..7) {
                Some(p) if p.eq_ignore_ascii_case("cookie:") => &line[7..],
                _ => line,
            };
            codec.cookie_values(line)
        })
        .take(16)
        .map(|v| Candidate {
            value: v.to_owned(),
        })
        .collect()
}

/// Seconds left before the first of the signed expiry, `issued_at +
/// max_age` and `created_at + max_lifetime`.
pub(super) fn valid_for(o: &Opts, v: &Verified, now: OffsetDateTime) -> i128 {
    let mut end = i128::from(v.expires_at)
        .min(i128::from(v.issued_at) + i128::from(o.max_age().whole_seconds()));
    if let Some(l) = o.max_lifetime {
        end = end.min(i128::from(v.created_at) + i128::from(l.whole_seconds()));
    }
    end - i128::from(now.unix_timestamp())
}

pub(super) fn unix(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp()).unwrap_or(0)
}

pub(super) fn time_out(secs: u64) -> Out {
    let rfc = i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .map_or(Out::Null, Out::Str);
    obj([("unix", Out::Int(i128::from(secs))), ("rfc3339", rfc)])
}

pub(super) fn error_out(e: &DecodeError) -> Out {
    obj([
        ("variant", Out::Str(format!("{e:?}"))),
        ("message", Out::Str(e.to_string())),
    ])
}

pub(super) fn session_out(s: &Session) -> Out {
    obj([
        ("id", Out::str(s.id())),
        ("values", map_out(&s.data().values)),
        ("flash", map_out(s.incoming_flash())),
    ])
}

pub(super) fn map_out(m: &ValueMap) -> Out {
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

pub(super) fn cbor_out(s: &Session) -> Out {
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

pub(super) fn size_out(codec: &SessionCodec, value: &str) -> Out {
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
pub(super) fn unverified_out(value: &str, key_ids: &[KeyId]) -> Out {
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

pub(super) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub(super) fn print_json(out: &Out, compact: bool) -> Result<(), Failure> {
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
