#!/usr/bin/env bash
# Builds every fuzz target and runs each for a fixed time with the CBOR
# dictionary and a copy of its seed corpus and regression inputs. Exits
# non-zero if any target crashes (or fails to build).
#
# Usage: scripts/fuzz-smoke.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET defaults to $FUZZ_SECONDS, else 30.
#   TARGETs default to all targets listed by `cargo fuzz list`.
# Environment:
#   FUZZ_SECONDS   seconds per target (when no argument is given)
#   FUZZ_TOOLCHAIN toolchain for cargo-fuzz (default: nightly)
#   FUZZ_KEEP      directory to copy crash inputs to (default: fuzz/artifacts,
#                  which git ignores)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

seconds="${1:-${FUZZ_SECONDS:-30}}"
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "fuzz-smoke: seconds per target must be a positive integer, got '$seconds'" >&2
    exit 2
fi
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
keep="${FUZZ_KEEP:-$root/fuzz/artifacts}"

if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
    echo "fuzz-smoke: installing the $toolchain toolchain" >&2
    rustup toolchain install "$toolchain" --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz-smoke: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

echo "fuzz-smoke: building all targets" >&2
cargo "+$toolchain" fuzz build

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo "+$toolchain" fuzz list)
fi
if [ "${#targets[@]}" -eq 0 ]; then
    echo "fuzz-smoke: no fuzz targets found" >&2
    exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/fuzz-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT

failed=()
for target in "${targets[@]}"; do
    corpus="$work/corpus/$target"
    artifacts="$work/artifacts/$target"
    mkdir -p "$corpus" "$artifacts"
    # Seeds and regressions, copied: the run must not grow the committed
    # corpus. README files are not inputs.
    for dir in "fuzz/corpus/$target" "fuzz/regressions/$target"; do
        if [ -d "$dir" ]; then
            find "$dir" -maxdepth 1 -type f ! -name 'README*' -exec cp {} "$corpus/" \;
        fi
    done
    log="$work/$target.log"
    echo "fuzz-smoke: $target for ${seconds}s ($(find "$corpus" -type f | wc -l) inputs)" >&2
    set +e
    cargo "+$toolchain" fuzz run "$target" "$corpus" -- \
        -max_total_time="$seconds" \
        -dict=fuzz/cbor.dict \
        -artifact_prefix="$artifacts/" \
        -print_final_stats=1 >"$log" 2>&1
    status=$?
    set -e
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec)' "$log" >&2 || true
    grep -E '(INITED|DONE) +cov' "$log" | tail -n 1 >&2 || true
    crashes="$(find "$artifacts" -type f | wc -l)"
    if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        echo "fuzz-smoke: $target FAILED (exit $status, $crashes artifact(s))" >&2
        grep -E -A4 'panicked at|ERROR: (libFuzzer|AddressSanitizer)' "$log" | head -n 40 >&2 || true
        echo "--- last lines of the log ---" >&2
        tail -n 15 "$log" >&2
        mkdir -p "$keep/$target"
        find "$artifacts" -type f -exec cp {} "$keep/$target/" \;
        echo "fuzz-smoke: crash input(s) copied to $keep/$target/" >&2
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz-smoke: crashes in: ${failed[*]}" >&2
    echo "fuzz-smoke: see fuzz/README.md to minimize and keep a crash" >&2
    exit 1
fi
echo "fuzz-smoke: ${#targets[@]} target(s) ran ${seconds}s each without a crash" >&2
