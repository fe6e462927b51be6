#!/usr/bin/env bash
# Runs the criterion benches and prints one table: the medians of every
# group, the target ratios, and which targets hold.
#
#   scripts/bench-report.sh            full run (criterion's default times)
#   scripts/bench-report.sh --quick    short warm-up and measurement, to iterate
#   scripts/bench-report.sh --report   print the table from the last run only
#   scripts/bench-report.sh [--quick] FILTER...   only benches matching FILTER
#                                      (criterion's regex), table from all results
#
# Reads target/criterion/<group>/<bench>/<input>/new/estimates.json (the
# median's point estimate). A full run without a filter first deletes the
# previous results, so the table is from one run. Needs python3.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
filters=()
for arg in "$@"; do
    case "$arg" in
        --quick) mode=quick ;;
        --report) mode=report ;;
        -h | --help)
            sed -n '2,13p' "$0"
            exit 0
            ;;
        *) filters+=("$arg") ;;
    esac
done

target_dir="${CARGO_TARGET_DIR:-target}"
crit="$target_dir/criterion"

if [[ $mode != report ]]; then
    args=(--noplot)
    if [[ $mode == quick ]]; then
        args+=(--warm-up-time 0.5 --measurement-time 1.5)
    fi
    if [[ ${#filters[@]} -eq 0 ]]; then
        rm -rf "$crit"/{floor,codec,peers,scaling,typed}
    fi
    cargo bench --features encrypt --bench codec -- "${args[@]}" "${filters[@]}" >&2
fi

# Allocations per operation (a counting global allocator; not a timing).
allocs="$(cargo bench -q --bench profile -- count 2>/dev/null || true)"

model="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
stamp="$crit/floor/encode/typical/new/estimates.json"
when="$(date -u -r "$stamp" '+%Y-%m-%d %H:%M UTC' 2>/dev/null || echo 'no run yet')"
echo "Machine: ${model:-unknown CPU}, $(nproc) cores; $(rustc --version); results of $when"
echo "Command: scripts/bench-report.sh${*:+ $*}"
echo

CRIT="$crit" ALLOCS="$allocs" MODE="$mode" python3 - <<'EOF'
import json, os, re

crit = os.environ["CRIT"]

def median(path):
    try:
        with open(os.path.join(crit, path, "new", "estimates.json")) as f:
            return json.load(f)["median"]["point_estimate"]
    except FileNotFoundError:
        return None

def fmt(ns):
    if ns is None:
        return "n/a"
    if ns >= 1000:
        return f"{ns / 1000:.2f} µs"
    return f"{ns:.0f} ns"

def ratio(a, b):
    return None if a is None or b is None else a / b

def fr(r):
    return "n/a" if r is None else f"{r:.2f}x"

results = []  # (target, measured ratio, holds)

def target(name, r, ok):
    holds = None if r is None else ok(r)
    results.append((name, r, holds))
    return "n/a" if holds is None else ("yes" if holds else "**NO**")

print("### floor: the codec against HMAC-SHA256 + base64url of the same bytes\n")
print("| session | operation | floor | codec | codec / floor | target | holds |")
print("|---|---|---:|---:|---:|---:|:---:|")
limits = {("typical", "encode"): 1.25, ("typical", "decode"): 1.5,
          ("large", "encode"): 1.25, ("large", "decode"): 1.25}
for s in ["typical", "large"]:
    for op in ["encode", "decode", "encode_into"]:
        f = median(f"floor/{op}/{s}")
        c = median(f"floor/codec_{op}/{s}")
        r = ratio(c, f)
        lim = limits.get((s, op))
        if lim:
            h = target(f"{s} {op} <= {lim}x floor", r, lambda r, l=lim: r <= l)
            t = f"<= {lim}x"
        else:
            h, t = "", "(reused buffer)"
        print(f"| {s} | {op} | {fmt(f)} | {fmt(c)} | {fr(r)} | {t} | {h} |")

alt = []
for s in ["typical", "large"]:
    for op in ["encode", "decode"]:
        r = ratio(median(f"codec/{op}/{s}"), median(f"floor/{op}/{s}"))
        alt.append(f"{s} {op} {fr(r)}")
print("\nThe same ratios with the `codec` group's medians (measured a few minutes"
      " later; targets are judged on the neighbours above): " + ", ".join(alt) + ".")

print("\n### codec\n")
print("| operation | typical | large |")
print("|---|---:|---:|")
for op in ["encode", "encode_into", "decode", "read", "save"]:
    print(f"| {op} | {fmt(median(f'codec/{op}/typical'))} | {fmt(median(f'codec/{op}/large'))} |")

print("\n### peers (same data; ratio = peer / cookie-session, higher is better for us)\n")
print("| session | operation | cookie-session | SignedJar + serde_json | ratio | saysion SignedCookieStore | ratio |")
print("|---|---|---:|---:|---:|---:|---:|")
for s in ["typical", "large"]:
    for op in ["encode", "decode"]:
        ours = median(f"peers/cookie_session_{op}/{s}")
        jar = median(f"peers/signed_jar_json_{op}/{s}")
        say = median(f"peers/saysion_{op}/{s}")
        rj, rs = ratio(jar, ours), ratio(say, ours)
        if op == "decode":
            target(f"{s} decode >= 2x faster than SignedJar+serde_json", rj, lambda r: r >= 2)
        target(f"{s} {op} ahead of saysion", rs, lambda r: r > 1)
        print(f"| {s} | {op} | {fmt(ours)} | {fmt(jar)} | {fr(rj)} | {fmt(say)} | {fr(rs)} |")

print("\n### scaling: encode + decode by payload size\n")
print("| CBOR payload | median | ns per payload byte |")
print("|---:|---:|---:|")
sizes = sorted(int(d) for d in os.listdir(os.path.join(crit, "scaling", "roundtrip"))
               if d.isdigit()) if os.path.isdir(os.path.join(crit, "scaling", "roundtrip")) else []
for n in sizes:
    m = median(f"scaling/roundtrip/{n}")
    print(f"| {n} B | {fmt(m)} | {'n/a' if m is None else f'{m / n:.2f}'} |")

print("\n### scaling: decode by keyring size (cookie signed by the oldest key)\n")
print("| keys | median | / 1 key |")
print("|---:|---:|---:|")
one = median("scaling/keyring/1")
for n in [1, 8, 64]:
    m = median(f"scaling/keyring/{n}")
    print(f"| {n} | {fmt(m)} | {fr(ratio(m, one))} |")
target("64-key ring within 5% of 1-key ring", ratio(median("scaling/keyring/64"), one),
       lambda r: r <= 1.05)

print("\n### typed values interface\n")
print("| operation | median |")
print("|---|---:|")
for op, what in [("get", "prefs"), ("get", "u64"), ("set", "prefs"), ("set", "u64")]:
    print(f"| `{op}` {what} | {fmt(median(f'typed/{op}/{what}'))} |")

allocs = os.environ.get("ALLOCS", "")
counts = dict(re.findall(r"^\s+(\S+)\s+(\d+)$", allocs, re.M))
if counts:
    print("\n### heap allocations per operation\n")
    print("| operation | typical | large |")
    print("|---|---:|---:|")
    for op in ["decode", "read", "encode", "encode_into"]:
        print(f"| {op} | {counts.get(op + '-typical', 'n/a')} | {counts.get(op + '-large', 'n/a')} |")

print("\n### targets\n")
print("| target | measured | holds |")
print("|---|---:|:---:|")
for name, r, h in results:
    print(f"| {name} | {fr(r)} | {'n/a' if h is None else ('yes' if h else '**NO**')} |")
held = sum(1 for _, _, h in results if h)
print(f"\n{held} of {len(results)} targets hold"
      + (" (quick mode: short measurements)" if os.environ["MODE"] == "quick" else "") + ".")
EOF
