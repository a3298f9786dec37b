#!/usr/bin/env bash
# Coverage-guided fuzzing of Vantage's parsers (cargo-fuzz / libFuzzer; the targets are in
# fuzz/fuzz_targets, one per parser, see fuzz/Cargo.toml).
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]    default: all 60
#   scripts/fuzz.sh --ci                      = all 5 (what CI runs)
#   scripts/fuzz.sh --list                    the targets
#
# Builds with RUSTC_BOOTSTRAP=1 (cargo-fuzz passes nightly-only flags; the stable toolchain
# accepts them so), AddressSanitizer by default (FUZZ_SANITIZER=none to build without; the
# build falls back to none by itself when ASan does not build), release + debug assertions
# and overflow checks (cargo-fuzz's default; FUZZ_PROFILE=dev builds without optimisation).
# --ci defaults to FUZZ_SANITIZER=none FUZZ_PROFILE=dev: seconds of fuzzing, a cheap build.
# Each target's corpus (fuzz/corpus/TARGET, ignored by git) is seeded from the hand seeds in fuzz/seeds/TARGET and from the shared data
# sets ("$(dirname "$0")/../../shared/data"; missing data only means fewer seeds). Prints one
# line per target: target, seconds, executions, corpus files, result (ok or the crash file).
# Exits 1 when any target crashed (or timed out, ran out of memory, failed to start).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
fuzz="$root/fuzz"
data="$here/../../shared/data"
triple="x86_64-unknown-linux-gnu"

targets_all() { sed -n 's/^name = "\(.*\)"$/\1/p' "$fuzz/Cargo.toml" | grep -v '^vantage-fuzz$'; }

target="${1:-all}"
seconds="${2:-60}"
case "$target" in
  --ci) target=all; seconds="${2:-5}"
        # seconds per target: a build without optimisation or sanitizer compiles in half the time
        : "${FUZZ_SANITIZER:=none}" "${FUZZ_PROFILE:=dev}" ;;
  --list) targets_all; exit 0 ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
esac
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2; }
if [[ "$target" == all ]]; then
  mapfile -t targets < <(targets_all)
else
  targets_all | grep -qx "$target" || { echo "fuzz.sh: unknown target '$target'; one of: $(targets_all | tr '\n' ' ')" >&2; exit 2; }
  targets=("$target")
fi

export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi

# ---------------------------------------------------------------- build
sanitizer="${FUZZ_SANITIZER:-address}"
profile="${FUZZ_PROFILE:-release}"
[[ "$profile" == release || "$profile" == dev ]] || { echo "fuzz.sh: FUZZ_PROFILE is release or dev, not '$profile'" >&2; exit 2; }
build() {
  (cd "$root" && cargo fuzz build --fuzz-dir "$fuzz" --sanitizer "$1" $([[ $profile == dev ]] && echo --dev) $([[ ${#targets[@]} -eq 1 ]] && echo "${targets[0]}"))
}
started=$(date +%s)
if ! build "$sanitizer"; then
  if [[ "$sanitizer" != none ]]; then
    echo "fuzz.sh: the $sanitizer build failed; building without a sanitizer" >&2
    sanitizer=none
    build none
  else
    exit 1
  fi
fi
echo "fuzz.sh: build (sanitizer $sanitizer) took $(( $(date +%s) - started )) s" >&2
bin="$fuzz/target/$triple/$([[ $profile == dev ]] && echo debug || echo release)"

# ---------------------------------------------------------------- seeds
# copy FILE into DIR under its content hash (seeding twice adds nothing)
seed() {
  local dir="$1" file="$2"
  [[ -s "$file" ]] || return 0
  cp "$file" "$dir/seed-$(sha1sum "$file" | cut -c1-16)"
}
# the first N lines of FILE, then chunks of K lines of it, as seeds
seed_lines() {
  local dir="$1" file="$2" chunk="$3" chunks="$4" tmp
  [[ -r "$file" ]] || return 0
  tmp="$(mktemp -d)"
  head -n $((chunk * chunks)) "$file" | split -l "$chunk" - "$tmp/part-"
  for f in "$tmp"/part-*; do seed "$dir" "$f"; done
  rm -rf "$tmp"
}
seed_corpus() {
  local t="$1" dir="$fuzz/corpus/$1" tmp f
  mkdir -p "$dir"
  if [[ -d "$fuzz/seeds/$t" ]]; then
    for f in "$fuzz/seeds/$t"/*; do seed "$dir" "$f"; done
  fi
  [[ -d "$data" ]] || return 0
  tmp="$(mktemp -d)"
  case "$t" in
    passwords_list)
      seed_lines "$dir" "$data/passwords/zxcvbn-passwords.txt" 40 10
      if [[ -r "$data/passwords/django-common-passwords.txt.gz" ]]; then
        zcat "$data/passwords/django-common-passwords.txt.gz" | head -n 400 > "$tmp/django" || true
        seed_lines "$dir" "$tmp/django" 40 10
      fi ;;
    intelmq_jsonl)
      # one event per seed, the events of at most 8 KiB (-max_len)
      if [[ -r "$data/intelmq/intelmq-events.jsonl" ]]; then
        split -l 1 "$data/intelmq/intelmq-events.jsonl" "$tmp/event-"
        for f in "$tmp"/event-*; do [[ $(stat -c %s "$f") -le 8192 ]] && seed "$dir" "$f"; done
      fi ;;
    flows_records)
      for f in "$data"/flows/*-nfdump.csv; do
        [[ -r "$f" ]] || continue
        head -n 12 "$f" > "$tmp/head"; seed "$dir" "$tmp/head"
        { head -n 1 "$f"; tail -n 6 "$f"; } > "$tmp/tail"; seed "$dir" "$tmp/tail"
      done
      [[ -r "$data/flows/zeek-conn.log" ]] && { head -n 14 "$data/flows/zeek-conn.log" > "$tmp/zeek"; seed "$dir" "$tmp/zeek"; }
      [[ -r "$data/flows/zeek-conn.json.log" ]] && seed_lines "$dir" "$data/flows/zeek-conn.json.log" 5 4 ;;
    pcap_reader)
      # the first 2, 8 and 32 KiB of every capture (pcap and pcapng; a cut one is a seed too)
      for f in "$data"/pcaps/*.pcap; do
        [[ -r "$f" ]] || continue
        for n in 2048 8192 32768; do head -c "$n" "$f" > "$tmp/cap"; seed "$dir" "$tmp/cap"; done
      done ;;
    http_bodies)
      # IntelMQ and zeek JSON lines are JSON objects too
      [[ -r "$data/intelmq/intelmq-events.jsonl" ]] && { head -n 3 "$data/intelmq/intelmq-events.jsonl" | split -l 1 - "$tmp/obj-"; for f in "$tmp"/obj-*; do seed "$dir" "$f"; done; } ;;
    config_toml|durations_instants|steno_query|docket_uri|sentinel_jsonl|sentinel_csv|dynfw_msgpack) ;; # hand seeds only
  esac
  rm -rf "$tmp"
}

max_len() {
  case "$1" in
    pcap_reader) echo 65536 ;;
    intelmq_jsonl|flows_records|passwords_list|config_toml) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

# ---------------------------------------------------------------- run
# the bundled SQLite (sqlx-sqlite, linked in through vantage-core) defines two file-static
# arrays of one name (`aiOff`): ASan's ODR check reports them at start-up; they are not shared
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0"
mkdir -p "$fuzz/artifacts"
failed=0
summary=()
for t in "${targets[@]}"; do
  seed_corpus "$t"
  mkdir -p "$fuzz/artifacts/$t"
  log="$fuzz/artifacts/$t.log"
  scratch="$(mktemp -d)" # the scratch files of the targets that read paths (TMPDIR)
  set +e
  TMPDIR="$scratch" "$bin/$t" "$fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
    -print_final_stats=1 -artifact_prefix="$fuzz/artifacts/$t/" > "$log" 2>&1
  rc=$?
  set -e
  rm -rf "$scratch"
  execs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
  [[ -n "$execs" ]] || execs="$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$log" | tail -n 1)"
  corpus="$(find "$fuzz/corpus/$t" -type f | wc -l)"
  crash="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
  if [[ $rc -eq 0 && -z "$crash" ]]; then
    result=ok
  else
    result="${crash:-failed (exit $rc, see $log)}"
    failed=1
  fi
  summary+=("$(printf '%-20s %6ss %12s execs %6s corpus  %s' "$t" "$seconds" "${execs:-?}" "$corpus" "$result")")
  echo "${summary[-1]}"
done

echo
echo "fuzz.sh: sanitizer $sanitizer, profile $profile, logs in fuzz/artifacts/TARGET.log"
printf '%s\n' "${summary[@]}"
exit "$failed"
