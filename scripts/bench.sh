#!/usr/bin/env bash
# Vantage benchmarks. Prints a Markdown table of figures (copy the latest into
# docs/benchmarks.md). Needs the services scripts/test.sh sets up (PostgreSQL on loopback).
#
#   scripts/bench.sh [ingest|aggregate|resources|refresh|passwords|pcap|tui|events|flows|gui|dynfw|dossier|compare|all]
#
# `compare` runs the sections whose figures stand beside the anchors' own tools in the same
# run — ingest (psql `\copy`), pcap (mergecap), events (stats-portal's SQL) and refresh
# (count scans, sview's resource SQL with psql) — and ends with their ratios in one table.
#
# Each figure quality.md sets a target for is also printed in a closing "Targets" table,
# beside its target, with "met" or "missed".
#
# Environment: BENCH_INGEST_ROWS (default 2000000), BENCH_AGG_ROWS (default 10000000),
# BENCH_DEMO_SCALE (PostgreSQL year for the resources benchmark, default 17 ≈ 21M raw rows),
# BENCH_SQLITE_SCALE (SQLite year, default 3), BENCH_PASSWORD_HASHES (default 10000000), BENCH_TUI_SCALE (demo year of the render
# benchmark, default 1), BENCH_PCAP_PACKETS (packets in each of the 8 pcap merge inputs, default 170000 ≈ 1.1 GB in all),
# BENCH_EVENTS (IntelMQ events of the events benchmark, default 2000000), BENCH_FLOWS (flows of the flows benchmark, default 1000000), BENCH_FLOWS_DAY (the big day of its OA speed target, default 10000000), BENCH_GUI_SCALE (demo year of the desktop
# app benchmark, default 1), BENCH_GUI_FRAMES (frames timed on its Overview, default 300),
# BENCH_DYNFW_LIST (addresses in the DynFW list, default 1000000), BENCH_DYNFW_DELTAS (deltas applied in process, default
# 2000000), BENCH_DYNFW_ZMQ_DELTAS (deltas sent over ZeroMQ CURVE on loopback, default 1000000),
# BENCH_REFRESH_SCALE (demo year of the refresh and scale-out benchmark, default 2), BENCH_DOSSIER_SCALE (demo year of the IP dossier benchmark, default 1), BENCH_DOSSIER_IPS (random attackers, default 1000),
# BENCH_DIR (scratch space, default ./bench-out), VANTAGE_TEST_PG_URL (maintenance DB URL),
# BENCH_PROFILE (cargo profile of the binaries, default release; dev: the test build, dependencies optimised).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
INGEST_ROWS="${BENCH_INGEST_ROWS:-2000000}"
AGG_ROWS="${BENCH_AGG_ROWS:-10000000}"
DIR="${BENCH_DIR:-$PWD/bench-out}"
ADMIN="${VANTAGE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PGBASE="${ADMIN%/*}"
mkdir -p "$DIR"

PROFILE="${BENCH_PROFILE:-release}"
cargo build --profile "$PROFILE" --quiet -p vantage-tui -p vantage-tests --bins
REL="${CARGO_TARGET_DIR:-$PWD/target}/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")"
V="$REL/vantage"
GEN="$REL/vantage-bench"

fresh_pg() { # name → prints URL of an empty database
    psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
    psql "$ADMIN" -qc "CREATE DATABASE $1" >/dev/null
    echo "$PGBASE/$1"
}
fresh_sqlite() { rm -rf "$DIR/$1"; mkdir -p "$DIR/$1"; echo "$DIR/$1"; }

# run LABEL -- command…  → sets SECS and RSS_MB (peak resident set of the command)
run() {
    local label=$1; shift 2
    /usr/bin/time -f '%e %M' -o "$DIR/time.txt" "$@" >"$DIR/out.json" 2>"$DIR/err.txt" || {
        echo "$label failed:" >&2; cat "$DIR/err.txt" >&2; exit 1; }
    read -r SECS RSS_KB <"$DIR/time.txt"
    RSS_MB=$((RSS_KB / 1024))
}
rate() { python3 -c "print(f'{$1/$2:,.0f}')"; }

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }
# target WORKLOAD TODAY TARGET MET → a line of the closing table of quality.md's targets
targets=()
target() { targets+=("| $1 | $2 | $3 | $4 |"); }
# met A OP B → "met" or "missed" (A ≤ B or A ≥ B, decimals)
met() { python3 -c "import sys; a, b = float('$1'), float('$3'); print('met' if (a <= b if '$2' == '<=' else a >= b) else 'missed')"; }
# section NAME → whether this run includes it (`all` includes every one, `compare` those with
# an anchor's own tool beside Vantage)
section() { [ "$what" = "$1" ] || [ "$what" = all ] || { [ "$what" = compare ] && [[ " ingest pcap events refresh " == *" $1 "* ]]; }; }

if section ingest; then
    for fmt in csv jsonl; do
        f="$DIR/incidents-$INGEST_ROWS.$fmt"
        [ -s "$f" ] || "$GEN" gen-incidents "$INGEST_ROWS" 2024-06-14 "$f"
        if [ "$fmt" = csv ]; then
            # baseline in the same run: PostgreSQL's own COPY of the same rows (identities
            # pre-resolved) into the same schema — the server-side limit Vantage works within
            url=$(fresh_pg vantage_bench_ingest)
            "$V" --database-url "$url" migrate-period daily --days 1 >/dev/null
            psql "$url" -qc "INSERT INTO identity (sn, device_token) SELECT lpad(upper(to_hex(i)), 16, '0'), lpad(to_hex(i), 64, '0') FROM generate_series(0, 39) i" >/dev/null
            python3 - "$f" "$DIR/baseline.tsv" <<'PY'
import csv, sys
ids = {}
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as out:
    r = csv.reader(src); next(r)
    for t, c, sn, tok, trap, action, ip, cc in r:
        out.write(f"{t}\t{c}\t{int(sn, 16) + 1}\t{trap}\t{action}\t{ip}\t{cc}\n")
PY
            run "baseline copy" -- psql "$url" -qc "\\copy incidents (time, raw_count, identity_id, trap, action, ip, country) from '$DIR/baseline.tsv'"
            row "baseline: psql \\copy of the same rows" postgres "$INGEST_ROWS" "$SECS" "$(rate "$INGEST_ROWS" "$SECS")" "-"
            copy_rate=$(python3 -c "print($INGEST_ROWS / $SECS)")
        fi
        url=$(fresh_pg vantage_bench_ingest)
        run "ingest pg $fmt" -- "$V" --database-url "$url" ingest sentinel --json "$f"
        s=$(python3 -c "import json;print(json.load(open('$DIR/out.json'))['seconds'])")
        row "ingest $fmt (COPY)" postgres "$INGEST_ROWS" "$(printf %.2f "$s")" "$(rate "$INGEST_ROWS" "$s")" "$RSS_MB"
        share=$(python3 -c "print(f'{100 * $INGEST_ROWS / $s / $copy_rate:.0f}')")
        target "ingest into PostgreSQL, $fmt, against psql \\copy in the same run" "$(rate "$INGEST_ROWS" "$s") rows/s = $share % of \\copy ($(rate "$copy_rate" 1))" "≥ 90 % of \\copy" "$(met "$share" '>=' 90)"
        d=$(fresh_sqlite sqlite-ingest)
        run "ingest sqlite $fmt" -- "$V" --data-dir "$d" ingest sentinel --json "$f"
        s=$(python3 -c "import json;print(json.load(open('$DIR/out.json'))['seconds'])")
        row "ingest $fmt (batched tx)" sqlite "$INGEST_ROWS" "$(printf %.2f "$s")" "$(rate "$INGEST_ROWS" "$s")" "$RSS_MB"
        target "ingest into SQLite, $fmt" "$(rate "$INGEST_ROWS" "$s") rows/s" "≥ 200,000 rows/s" "$(met "$(python3 -c "print($INGEST_ROWS / $s)")" '>=' 200000)"
    done
fi

if [ "$what" = aggregate ] || [ "$what" = all ]; then
    f="$DIR/incidents-$AGG_ROWS.csv"
    [ -s "$f" ] || "$GEN" gen-incidents "$AGG_ROWS" 2024-06-14 "$f"
    now=2024-06-15T00:10:00Z
    for backend in postgres sqlite; do
        if [ "$backend" = postgres ]; then
            target=(--database-url "$(fresh_pg vantage_bench_agg)")
        else
            target=(--data-dir "$(fresh_sqlite sqlite-agg)")
        fi
        run "load $backend" -- "$V" "${target[@]}" ingest sentinel --json "$f"
        [ "$backend" = postgres ] && psql "${target[1]}" -qc "VACUUM ANALYZE" >/dev/null
        src=$AGG_ROWS
        for p in quarterly hourly daily; do
            run "$p $backend" -- "$V" "${target[@]}" --now "$now" migrate-period "$p" --days 1 --json
            written=$(python3 -c "import json;print(json.load(open('$DIR/out.json'))['rows_written'])")
            row "aggregate one day $p (source rows → written $written)" "$backend" "$src" "$SECS" "$(rate "$src" "$SECS")" "$RSS_MB"
            [ "$backend/$p" = postgres/quarterly ] && target "one day of $AGG_ROWS raw incidents → quarterly, PostgreSQL" "$SECS s" "≤ 10 s" "$(met "$SECS" '<=' 10)"
            src=$(python3 -c "import json;print(json.load(open('$DIR/out.json'))['rows_written'])")
        done
        run "rerun $backend" -- "$V" "${target[@]}" --now "$now" migrate-period quarterly --days 1 --json
        row "re-run quarterly, already done (exactly-once check)" "$backend" "$AGG_ROWS" "$SECS" "-" "$RSS_MB"
    done
fi

extra=""
if [ "$what" = resources ] || [ "$what" = all ]; then
    now=2024-06-15T12:40:00Z
    url=$(fresh_pg vantage_bench_res)
    run "demo pg" -- "$V" --database-url "$url" --now "$now" demo --no-tui --scale "${BENCH_DEMO_SCALE:-17}"
    raw=$(psql "$url" -qAtc "select (select count(*) from incidents) + (select count(*) from passwords) + (select count(*) from ports)")
    row "load a demo year (ingest + back-fill of all three precisions)" postgres "$raw" "$SECS" "$(rate "$raw" "$SECS")" "$RSS_MB"
    extra+=$'\n'"### Full refresh (23 resources × 7 periods) and cached reads — PostgreSQL, $raw raw rows, Redis"$'\n\n'
    out=$("$GEN" resources "$url" "${VANTAGE_TEST_REDIS_URL:-redis://127.0.0.1:6379}" "$now")
    extra+="$out"$'\n'
    all=$(awk -F'|' '$2 ~ /^ all / {gsub(/ /, "", $4); print $4}' <<<"$out")
    target "full refresh, 23 resources × 7 periods, $raw raw rows, PostgreSQL" "$all s" "≤ 60 s" "$(met "$all" '<=' 60)"
    d=$(fresh_sqlite sqlite-res)
    run "demo sqlite" -- "$V" --data-dir "$d" --now "$now" demo --no-tui --scale "${BENCH_SQLITE_SCALE:-3}"
    raw=$(python3 -c "import sqlite3;c=sqlite3.connect('$d/vantage.db');print(sum(c.execute(f'select count(*) from {t}').fetchone()[0] for t in ['incidents','passwords','ports']))")
    row "load a demo year (ingest + back-fill of all three precisions)" sqlite "$raw" "$SECS" "$(rate "$raw" "$SECS")" "$RSS_MB"
    extra+=$'\n'"### Full refresh — SQLite, $raw raw rows, in-process cache"$'\n\n'
    extra+=$("$GEN" resources "sqlite://$d/vantage.db" - "$now")$'\n'
fi

if [ "$what" = passwords ] || [ "$what" = all ]; then
    command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
    n="${BENCH_PASSWORD_HASHES:-10000000}"
    f="$DIR/hibp-$n.txt"
    [ -s "$f" ] || "$GEN" gen-hibp "$n" "$f"
    url=$(fresh_pg vantage_bench_pw)
    run "passwords import" -- "$V" --database-url "$url" passwords import "$f" --json
    s=$(python3 -c "import json;print(json.load(open('$DIR/out.json'))['seconds'])")
    row "passwords import (HIBP file, merge by hash)" postgres "$n" "$(printf %.2f "$s")" "$(rate "$n" "$s")" "$RSS_MB"
    cat >"$DIR/range.lua" <<'LUA'
math.randomseed(42)
request = function()
  return wrk.format("GET", string.format("/range/%05X", math.random(0, 0xFFFFF)))
end
LUA
    port=18089
    RUST_LOG=vantage_core::passwords::index=info "$V" --database-url "$url" serve --listen "127.0.0.1:$port" --password-rate 0 2>"$DIR/serve.log" &
    server=$!
    started=$(date +%s.%N)
    for _ in $(seq 1 600); do grep -q "password index loaded" "$DIR/serve.log" && break; sleep 0.2; done
    loaded=$(python3 -c "print(f'{$(date +%s.%N) - $started:.1f}')")
    extra+=$'\n'"### Leaked-password range API: wrk on loopback, random prefixes, $n hashes (PostgreSQL store, in-memory index loaded in ${loaded} s)"$'\n\n'
    extra+="| wrk | requests/s | p50 ms | p99 ms | server peak RSS MB |"$'\n'"|---|---:|---:|---:|---:|"$'\n'
    for conf in "-t1 -c16" "-t2 -c32" "-t2 -c64"; do
        # shellcheck disable=SC2086
        wrk $conf -d15s --latency -s "$DIR/range.lua" "http://127.0.0.1:$port" >"$DIR/wrk.txt"
        rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$DIR/wrk.txt")
        ms() { awk -v q="$1" '$1 == q { v=$2; if (v ~ /us$/) { sub(/us/, "", v); v/=1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v*=1000 } printf "%.2f", v }' "$DIR/wrk.txt"; }
        rss=$(awk '/VmHWM/ {printf "%d", $2/1024}' "/proc/$server/status")
        extra+="| $conf | $rps | $(ms 50%) | $(ms 99%) | $rss |"$'\n'
    done
    kill "$server"; wait "$server" 2>/dev/null || true
fi

if section pcap; then
    # the native merge against Wireshark's mergecap on the same 8 inputs, page cache warm:
    # 5 alternating runs each (median), every run after removing its previous output and a
    # sync; both must write the same bytes
    command -v mergecap >/dev/null || { echo "mergecap is needed: scripts/test.sh installs wireshark-common" >&2; exit 1; }
    n="${BENCH_PCAP_PACKETS:-170000}"
    inputs=()
    for seed in 1 2 3 4 5 6 7 8; do
        f="$DIR/synthetic-$n-$seed.pcap"
        [ -s "$f" ] || "$GEN" gen-pcap "$n" "$f" "$seed"
        inputs+=("$f")
    done
    bytes=$(cat "${inputs[@]}" | wc -c)
    declare -A pcap_secs=() pcap_rss=()
    for _ in 1 2 3 4 5; do
        for tool in native mergecap; do
            out="$DIR/merged-$tool.pcap"
            rm -f "$out"; sync
            if [ "$tool" = native ]; then
                run "pcap merge native" -- "$V" pcap merge "${inputs[@]}" -o "$out"
            else
                run "pcap merge mergecap" -- mergecap -F pcap -w "$out" "${inputs[@]}"
            fi
            pcap_secs[$tool]+="$SECS "
            if [ "$RSS_MB" -gt "${pcap_rss[$tool]:-0}" ]; then pcap_rss[$tool]=$RSS_MB; fi
        done
    done
    cmp -s "$DIR/merged-native.pcap" "$DIR/merged-mergecap.pcap" || { echo "pcap merge: the native and mergecap outputs differ" >&2; exit 1; }
    rm -f "$DIR/merged-native.pcap" "$DIR/merged-mergecap.pcap"
    median() { printf '%s\n' $1 | sort -n | sed -n 3p; }
    extra+=$'\n'"### pcap merge: 8 synthetic Ethernet captures, $((8 * n)) packets, $(rate "$bytes" 1e6) MB (median of 5 runs)"$'\n\n'
    extra+="| merge | runs, s | median s | MB/s | peak RSS MB |"$'\n'"|---|---|---:|---:|---:|"$'\n'
    for tool in native mergecap; do
        label="vantage pcap merge"; [ "$tool" = mergecap ] && label="mergecap -F pcap -w"
        m=$(median "${pcap_secs[$tool]}")
        extra+="| $label | ${pcap_secs[$tool]}| $m | $(rate "$bytes/1e6" "$m") | ${pcap_rss[$tool]} |"$'\n'
    done
    extra+=$'\n'"Native throughput: $(python3 -c "print(f'{$(median "${pcap_secs[mergecap]}") / $(median "${pcap_secs[native]}"):.2f}')")× mergecap's; the outputs are identical."$'\n'
    native=$(median "${pcap_secs[native]}") merge=$(median "${pcap_secs[mergecap]}")
    target "pcap merge of 8 files, $(rate "$bytes" 1e6) MB, against mergecap -F pcap in the same run" "$native s vs $merge s ($(python3 -c "print(f'{$native / $merge:.2f}')")×)" "faster" "$(met "$native" '<=' "$merge")"

    # fetch: 8 stand-in sensors (mutual TLS, v1 certificates) stream one capture each to the
    # spool at once; rate = bytes received / time from "Requesting" to "Request Complete";
    # the peak RSS of the whole `vantage pcap query` (fetch + merge) shows nothing is buffered
    fetch="$DIR/fetch"; rm -rf "$fetch"; mkdir -p "$fetch"
    "$REL/pcap-standins" 8 "${inputs[0]}" "$fetch" >"$fetch/ready" 2>"$fetch/standins.log" &
    standins=$!
    until grep -q ready "$fetch/ready" 2>/dev/null; do kill -0 "$standins" || { cat "$fetch/standins.log" >&2; exit 1; }; sleep 0.2; done
    fetch_rows=""
    for i in 1 2 3; do
        rm -rf "$fetch/data"
        run "pcap fetch" -- "$V" --config "$fetch/vantage.toml" --data-dir "$fetch/data" pcap query host 10.0.0.1 --json
        fetch_rows+=$(python3 - "$DIR/out.json" "$RSS_MB" <<'PY'
import json, sys
from datetime import datetime
s = json.load(open(sys.argv[1]))
def parse(text):  # RFC 3339 with 0-9 fraction digits, always UTC ("Z")
    whole, _, frac = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{whole}.{(frac + '000000')[:6]}")
t = lambda m: next(parse(e["time"]) for e in s["events"] if e["message"] == m)
secs = (t("state: Request Complete") - t("state: Requesting")).total_seconds()
got = sum(r["bytes"] for r in s["requests"].values())
assert s["state"] == "Completed" and len(s["requests"]) == 8, s["state"]
print(f"| {got / 1e6:,.0f} | {secs:.2f} | {got / 1e6 / secs:,.0f} | {sys.argv[2]} |")
PY
)$'\n'
    done
    kill "$standins"; wait "$standins" 2>/dev/null || true
    extra+=$'\n'"### pcap fetch: 8 stand-in sensors streaming concurrently over mutual TLS into the spool (3 runs)"$'\n\n'
    extra+="| MB received | fetch s | MB/s into the spool | peak RSS MB (fetch + merge) |"$'\n'"|---:|---:|---:|---:|"$'\n'"$fetch_rows"
fi

if [ "$what" = tui ] || [ "$what" = all ]; then
    # frame render time: the Overview drawn into ratatui's TestBackend (tui/benches/render.rs)
    extra+=$'\n'"### Dashboard: Overview frame render time (demo year, SQLite)"$'\n\n'
    extra+=$(cargo bench --quiet -p vantage-tui --bench render 2>/dev/null | grep '^|')$'\n'
    # time to first frame and idle CPU: the real binary in a real terminal (tmux, 200×60)
    command -v tmux >/dev/null || { echo "tmux is needed for the dashboard benchmark (scripts/test.sh installs it)" >&2; exit 1; }
    now=2024-06-15T12:40:00Z
    d=$(fresh_sqlite tui)
    "$V" --data-dir "$d" --now "$now" demo --no-tui >/dev/null
    firsts=()
    for i in 1 2 3 4 5 6; do
        rm -f "$d/vantage.log"
        tmux new-session -d -s vantage-bench -x 200 -y 60 "RUST_LOG=vantage_tui=info $V --data-dir $d --now $now"
        for _ in $(seq 1 300); do grep -q first_frame_ms "$d/vantage.log" 2>/dev/null && break; sleep 0.1; done
        ms=$(grep -o 'first_frame_ms=[0-9.]*' "$d/vantage.log" | head -n 1 | cut -d= -f2 | xargs printf '%.1f')
        [ "$i" -gt 1 ] && firsts+=("$ms") # the first start also warms the page cache
        if [ "$i" -eq 6 ]; then
            # idle: after the start-up work (in-process workers run the planner's first
            # refresh), CPU time of the whole process over 20 s of nobody touching a key
            pid=$(pgrep -n -f "$V --data-dir $d") || true
            sleep 60
            t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
            sleep 20
            t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
            idle=$(python3 -c "print(f'{($t1 - $t0) / $(getconf CLK_TCK) / 20 * 100:.2f}')")
        fi
        tmux send-keys -t vantage-bench q
        for _ in $(seq 1 100); do tmux has-session -t vantage-bench 2>/dev/null || break; sleep 0.1; done
        tmux kill-session -t vantage-bench 2>/dev/null || true
    done
    extra+=$'\n'"### Dashboard: time to first frame (process start → first frame drawn, 5 warm starts) and idle CPU"$'\n\n'
    extra+="| measure | values | result |"$'\n'"|---|---|---:|"$'\n'
    extra+="| first frame, ms | ${firsts[*]} | median $(printf '%s\n' "${firsts[@]}" | sort -n | sed -n 3p) |"$'\n'
    extra+="| idle CPU over 20 s, % of one core | - | $idle |"$'\n'
fi

if [ "$what" = gui ] || [ "$what" = all ]; then
    # the desktop app under Xvfb at 1920×1080 with software OpenGL (Mesa llvmpipe) on the demo
    # year, beside a bare eframe window with the same renderer (gui/examples/blank.rs)
    for tool in Xvfb xdotool; do
        command -v "$tool" >/dev/null || { echo "$tool is needed for the desktop app benchmark (apt-get install xvfb xdotool)" >&2; exit 1; }
    done
    cargo build --profile "$PROFILE" --quiet -p vantage-gui --bin vantage-gui --example blank --example table_frames
    G="$REL/vantage-gui"
    # the table panel headless (egui_kittest): 100,000 rows beside 100 (gui/examples/table_frames.rs)
    table_rows=""
    while read -r _ rows first p50 p99 sort; do
        table_rows+="| ${rows#rows=} | ${first#first_ms=} | ${p50#scroll_p50_ms=} · ${p99#scroll_p99_ms=} | ${sort#sort_ms=} |"$'\n'
    done < <("$REL/examples/table_frames")
    now=2024-06-15T12:40:00Z
    frames="${BENCH_GUI_FRAMES:-300}"
    Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp 3>"$DIR/xvfb.display" 2>"$DIR/xvfb.log" &
    xvfb=$!
    for _ in $(seq 1 100); do [ -s "$DIR/xvfb.display" ] && break; sleep 0.1; done
    export DISPLAY=":$(cat "$DIR/xvfb.display")" LIBGL_ALWAYS_SOFTWARE=1 NO_COLOR=1
    unset WAYLAND_DISPLAY
    # gui_wait TEXT: until the app's log has TEXT (at most 10 min)
    gui_wait() {
        for _ in $(seq 1 6000); do grep -q -- "$1" "$DIR/gui.log" && return; kill -0 "$app" 2>/dev/null || break; sleep 0.1; done
        echo "the desktop app did not log \"$1\":" >&2; tail -n 20 "$DIR/gui.log" >&2; exit 1
    }
    # gui_start TITLE COMMAND…: starts a window on the display with its log in gui.log, then
    # places it full screen and focuses it (there is no window manager); sets app
    gui_start() {
        local title=$1; shift
        VANTAGE_GUI_BENCH_FRAMES=$frames RUST_LOG=warn,vantage_gui=debug,blank=info "$@" 2>"$DIR/gui.log" &
        app=$!
        local win
        win=$(timeout 120 xdotool search --sync --onlyvisible --name "^$title\$" | head -n 1)
        xdotool windowmove "$win" 0 0 windowsize "$win" 1920 1080 windowfocus --sync "$win"
    }
    field() { grep -m1 -- "$1" "$DIR/gui.log" | grep -o "$2=[^ ]*" | cut -d= -f2 | tr -d '"'; }
    hwm() { awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$app/status"; }
    ticks() { awk '{print $14 + $15}' "/proc/$app/stat"; }
    bench_frames() { # → "work p50 · p99 ms" "interval p50 · p99 ms", checking the size
        gui_wait "frame bench"
        [ "$(field "frame bench" size)" = 1920x1080 ] || { echo "frames timed at $(field "frame bench" size), not 1920x1080" >&2; exit 1; }
        work="$(field "frame bench" work_p50_ms) · $(field "frame bench" work_p99_ms)"
        interval="$(field "frame bench" interval_p50_ms) · $(field "frame bench" interval_p99_ms)"
    }

    gui_start "Vantage baseline" "$REL/examples/blank"
    gui_wait "first frame drawn"
    base_first=$(field "first frame drawn" first_frame_ms | xargs printf '%.0f')
    bench_frames
    base_work=$work base_interval=$interval base_rss=$(hwm)
    kill "$app"; wait "$app" 2>/dev/null || true

    gui_rows=""
    for backend in sqlite postgres; do
        if [ "$backend" = postgres ]; then
            target=(--database-url "$(fresh_pg vantage_bench_gui)" --data-dir "$(fresh_sqlite gui-pg)")
        else
            target=(--data-dir "$(fresh_sqlite gui)")
        fi
        "$V" "${target[@]}" --now "$now" demo --no-tui --scale "${BENCH_GUI_SCALE:-1}" >/dev/null
        gui_start Vantage "$G" "${target[@]}" --now "$now"
        gui_wait "first frame drawn"
        first=$(python3 -c "print(f'{$(field "window open" setup_ms) + $(field "first frame drawn" first_frame_ms):.0f}')")
        gui_wait "view ready tab=Overview "
        bench_frames
        # idle: settled after the timed frames, nobody touching a key for 10 s
        sleep 5
        f0=$(grep -c "frame drawn" "$DIR/gui.log"); t0=$(ticks)
        sleep 10
        f1=$(grep -c "frame drawn" "$DIR/gui.log"); t1=$(ticks)
        idle_cpu=$(python3 -c "print(f'{($t1 - $t0) / $(getconf CLK_TCK) / 10 * 100:.2f}')")
        # every view (the dashboard's keys), each until its data is on screen
        for step in "2:tab=Attackers detail=-" "l Return:tab=Attackers detail=attacker" "Escape 3:tab=Passwords" "4:tab=Ports" \
            "5:tab=Devices" "6:tab=Events" "7:tab=Pcap" "8:tab=Flows" "0:tab=Operations"; do
            # shellcheck disable=SC2086
            xdotool key ${step%%:*}
            gui_wait "view ready ${step#*:}"
        done
        rss=$(hwm)
        xdotool key q
        for _ in $(seq 1 300); do kill -0 "$app" 2>/dev/null || break; sleep 0.1; done
        wait "$app" || { echo "vantage-gui did not exit cleanly on q" >&2; exit 1; }
        gui_rows+="| $backend | $rss | $((f1 - f0)) | $idle_cpu | $first | $work | $interval |"$'\n'
    done
    kill "$xvfb"; wait "$xvfb" 2>/dev/null || true
    extra+=$'\n'"### Desktop app: vantage-gui under Xvfb, 1920×1080, Mesa llvmpipe, demo year (scale ${BENCH_GUI_SCALE:-1})"$'\n\n'
    extra+="| run | peak RSS after every view, MB (target ≤ 300) | frames in 10 s idle (target 0) | idle CPU, % of a core | start → first frame, ms | Overview frame work p50 · p99 ms | frame interval p50 · p99 ms |"$'\n'
    extra+="|---|---:|---:|---:|---:|---:|---:|"$'\n'"$gui_rows"
    extra+="| baseline: bare eframe window, one label | $base_rss | - | - | $base_first | $base_work | $base_interval |"$'\n'
    extra+=$'\n'"### Desktop app: a table panel of 100,000 rows beside one of 100 (headless, one core; egui layout and tessellation)"$'\n\n'
    extra+="| rows | first frame (rows built, filtered, laid out), ms | scrolling frame p50 · p99, ms | click on a header: sort every row + frame, ms |"$'\n'
    extra+="|---:|---:|---:|---:|"$'\n'"$table_rows"
fi

if [ "$what" = flows ] || [ "$what" = all ]; then
    # flows: import into both stores, the built-in scorer, the OA run (edges, chords and the
    # ingest summary over the day's raw flows), and in-process enrichment and scoring rates
    n="${BENCH_FLOWS:-1000000}"
    f="$DIR/flows-$n.csv"
    [ -s "$f" ] || "$GEN" gen-flows "$n" 2024-06-14 "$f"
    seconds() { python3 -c "import json;print(f\"{json.load(open('$DIR/out.json'))['seconds']:.2f}\")"; }
    pg=$(fresh_pg vantage_bench_flows)
    sq=$(fresh_sqlite flows)
    for backend in postgres sqlite; do
        if [ "$backend" = postgres ]; then target=(--database-url "$pg" --data-dir "$sq-pg"); else target=(--data-dir "$sq"); fi
        run "flows import $backend" -- "$V" "${target[@]}" flows import --json "$f"
        s=$(seconds)
        row "flows import (one transaction)" "$backend" "$n" "$s" "$(rate "$n" "$s")" "$RSS_MB"
        run "flows score $backend" -- "$V" "${target[@]}" flows score --date 2024-06-14 --limit 1 --json
        row "flows score (built-in scorer, process wall time)" "$backend" "$n" "$SECS" "$(rate "$n" "$SECS")" "$RSS_MB"
        run "flows oa $backend" -- "$V" "${target[@]}" flows oa --date 2024-06-14 --limit 3000 --json
        row "flows oa --limit 3000 (scorer + steps 1–8 over the day's raw flows)" "$backend" "$n" "$SECS" "$(rate "$n" "$SECS")" "$RSS_MB"
    done
    # the speed target: edges + chords + ingest summary for a day of 10M raw flows (OA steps
    # 1–8 over spot-ml's 3,000 rows, no scorer), both backends; the 1M day above is its baseline
    big="${BENCH_FLOWS_DAY:-10000000}"
    fb="$DIR/flows-$big.csv"
    [ -s "$fb" ] || "$GEN" gen-flows "$big" 2024-06-14 "$fb"
    for size in "$n" "$big"; do
        file="$DIR/flows-$size.csv"
        pgd=$(fresh_pg vantage_bench_flows_day)
        sqd=$(fresh_sqlite flows-day)
        for backend in postgres sqlite; do
            if [ "$backend" = postgres ]; then target=(--database-url "$pgd" --data-dir "$sqd-pg"); else target=(--data-dir "$sqd"); fi
            run "flows import $size $backend" -- "$V" "${target[@]}" flows import --json "$file"
            s=$(seconds)
            row "flows import (one transaction)" "$backend" "$size" "$s" "$(rate "$size" "$s")" "$RSS_MB"
            run "flows oa --results $size $backend" -- "$V" "${target[@]}" flows oa --date 2024-06-14 --limit 3000 --results "$file.results" --json
            s=$(seconds)
            row "edges + chords + ingest summary (flows oa --results, 3000 rows, steps 1–8)" "$backend" "$size" "$s" "$(rate "$size" "$s")" "$RSS_MB"
        done
        psql "$ADMIN" -qc "DROP DATABASE IF EXISTS vantage_bench_flows_day WITH (FORCE)" >/dev/null
        rm -rf "$sqd" "$sqd-pg"
    done
    extra+=$'\n'"### Flows: enrichment and scorer in process ($n rows, one core)"$'\n\n'
    extra+="| measure | rows | rate | baseline in the same run |"$'\n'"|---|---:|---:|---|"$'\n'
    extra+="$("$GEN" flows-enrich "$n")"$'\n'
fi

if section events; then
    # IntelMQ events: import into both stores, full rebuild against stats-portal's own SQL on the
    # same events table (3 alternating runs, median), re-aggregation of one day, question latency
    n="${BENCH_EVENTS:-2000000}"
    f="$DIR/events-$n.jsonl"
    [ -s "$f" ] || "$GEN" gen-events "$n" "$f"
    seconds() { python3 -c "import json;print(f\"{json.load(open('$DIR/out.json'))['seconds']:.2f}\")"; }
    url=$(fresh_pg vantage_bench_events)
    run "events import pg" -- "$V" --database-url "$url" events import --no-aggregate --json "$f"
    s=$(seconds)
    row "events import (COPY; days marked, not aggregated)" postgres "$n" "$s" "$(rate "$n" "$s")" "$RSS_MB"
    psql "$url" -qc "VACUUM ANALYZE events" >/dev/null
    d=$(fresh_sqlite sqlite-events)
    run "events import sqlite" -- "$V" --data-dir "$d" events import --no-aggregate --json "$f"
    s=$(seconds)
    row "events import (batched INSERTs; days marked)" sqlite "$n" "$s" "$(rate "$n" "$s")" "$RSS_MB"
    # stats-portal's make_agg_tables.sql, verbatim but for the schema it writes into
    {
        echo "DROP SCHEMA IF EXISTS baseline CASCADE; CREATE SCHEMA baseline; SET search_path = baseline, public;"
        for t in all_tags netobject_tags feed_tags; do
            dims='"classification.taxonomy", "classification.type", "classification.identifier", "protocol.application", "protocol.transport", "malware.name"'
            case $t in
                all_tags) count='count(*)'; dims+=', "feed.code", "feed.name", "feed.provider", "source.geolocation.cc", "source.port", "source.asn", "source.network", "source.domain_suffix"'; order='"date" desc, "source.asn"' ;;
                netobject_tags) count='count(distinct "source.ip")'; dims+=', "source.geolocation.cc", "source.port", "source.asn", "source.network", "source.domain_suffix"'; order='"date" desc, "source.asn"' ;;
                feed_tags) count='count(*)'; dims+=', "feed.code", "feed.name", "feed.provider", "source.geolocation.cc"'; order='"date" desc' ;;
            esac
            echo "create table \"agg_ndim_day_$t\" as (select date_trunc('day', \"time.source\" at time zone 'UTC') as \"date\", $count as \"count\", $dims from events group by \"date\", $dims order by $order);"
        done
    } >"$DIR/stats-portal.sql"
    base=() full=()
    for _ in 1 2 3; do
        run "stats-portal SQL" -- psql "$url" -qf "$DIR/stats-portal.sql"
        base+=("$SECS")
        run "events aggregate --full pg" -- "$V" --database-url "$url" events aggregate --full --json
        full+=("$SECS")
    done
    median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
    b=$(median3 "${base[@]}"); a=$(median3 "${full[@]}")
    row "baseline: stats-portal make_agg_tables.sql, 3 × CREATE TABLE AS (runs ${base[*]})" postgres "$n" "$b" "$(rate "$n" "$b")" "-"
    row "events aggregate --full (runs ${full[*]})" postgres "$n" "$a" "$(rate "$n" "$a")" "$RSS_MB"
    target "events full rebuild, $n events, PostgreSQL, against stats-portal's SQL in the same run" "$a s vs $b s ($(python3 -c "print(f'{$a / $b:.2f}')")×)" "not slower (≤ 1.00×)" "$(met "$a" '<=' "$b")"
    run "events aggregate --full sqlite" -- "$V" --data-dir "$d" events aggregate --full --json
    sf=$SECS
    row "events aggregate --full" sqlite "$n" "$sf" "$(rate "$n" "$sf")" "$RSS_MB"
    day=2024-06-01
    dayrows=$(psql "$url" -qAtc "SELECT count(*) FROM events WHERE \"time.source\" >= '$day' AND \"time.source\" < date '$day' + 1")
    run "one day pg" -- "$V" --database-url "$url" events aggregate --from "$day" --to "$day" --json
    row "re-aggregate one changed day ($day; $(python3 -c "print(f'{100 * $SECS / $a:.1f}')") % of the full rebuild)" postgres "$dayrows" "$SECS" "$(rate "$dayrows" "$SECS")" "$RSS_MB"
    run "one day sqlite" -- "$V" --data-dir "$d" events aggregate --from "$day" --to "$day" --json
    row "re-aggregate one changed day ($day; $(python3 -c "print(f'{100 * $SECS / $sf:.1f}')") % of the full rebuild)" sqlite "$dayrows" "$SECS" "$(rate "$dayrows" "$SECS")" "$RSS_MB"
    extra+=$'\n'"### Events questions: wall time of \`vantage events … --json\` (process start included), $n events, --now 2024-06-15, 30-day range"$'\n\n'
    extra+="| question | postgres s | sqlite s |"$'\n'"|---|---:|---:|"$'\n'
    while read -r label; do
        # shellcheck disable=SC2086
        run "$label pg" -- "$V" --database-url "$url" --now 2024-06-15T00:00:00Z events $label --json
        p=$SECS
        # shellcheck disable=SC2086
        run "$label sqlite" -- "$V" --data-dir "$d" --now 2024-06-15T00:00:00Z events $label --json
        extra+="| $label | $p | $SECS |"$'\n'
        [ "$label" = distinct-ips ] && target "events distinct IPs over a 30-day range, $n events, SQLite" "$SECS s" "≤ 2 s" "$(met "$SECS" '<=' 2)"
    done <<'Q'
per-day
per-day --by taxonomy
distinct-ips
asn-feeds
top-asns --by type --limit 10
rising-asns
top-problems --country AT
feed-health --flagged
operator --asn 64512,64600 --by malware
values taxonomy
Q
fi

if [ "$what" = dynfw ] || [ "$what" = all ]; then
    # DynFW (issue 16): deltas applied per second after a big list, in process beside a plain
    # HashSet<IpAddr> and msgpack decoding alone (same run, one thread); end to end over ZeroMQ
    # CURVE on loopback with the tests' XPUB publisher; memory and state file of the set
    list="${BENCH_DYNFW_LIST:-1000000}"
    deltas="${BENCH_DYNFW_DELTAS:-2000000}"
    zdeltas="${BENCH_DYNFW_ZMQ_DELTAS:-1000000}"
    extra+=$'\n'"### DynFW: deltas applied after a $list-address list ($deltas deltas, adds and removes, valid serials; one thread)"$'\n\n'
    extra+="$("$GEN" dynfw-deltas "$list" "$deltas")"$'\n'
    extra+=$'\n'"### DynFW: end to end over ZeroMQ CURVE on loopback ($list-address list, then $zdeltas deltas sent as fast as the publisher can)"$'\n\n'
    extra+="| publisher send HWM | list addresses | list sent → applied, s | deltas sent | sent/s | deltas applied | first delta sent → last applied, s | applied/s | lost in the queue | re-syncs | dropped while re-syncing |"$'\n'
    extra+="|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"$'\n'
    for hwm in 0 ""; do
        # shellcheck disable=SC2086
        extra+="$("$GEN" dynfw-zmq "$list" "$zdeltas" $hwm)"$'\n'
    done
    extra+=$'\n'"### DynFW: memory of a $list-address blocked set, and its state file"$'\n\n'
    extra+="$("$GEN" dynfw-memory "$list" "$DIR")"$'\n'
fi

if section refresh; then
    # issue 19: a cold full refresh of a demo year at --scale 2 on PostgreSQL beside one plain
    # count scan per (table, period window) it reads (in process, `vantage-bench resources`),
    # then the same refresh by 1, 2 and 4 `vantage worker` processes (one job each at a time)
    # on a Redis database of its own: `vantage refresh` until a round queues nothing, timed
    # until the queue is empty. This machine has $(nproc) cores: PostgreSQL, the workers and
    # the planner share them.
    now=2024-06-15T12:40:00Z
    scale="${BENCH_REFRESH_SCALE:-2}"
    url=$(fresh_pg vantage_bench_refresh)
    run "demo pg" -- "$V" --database-url "$url" --now "$now" demo --no-tui --scale "$scale"
    raw=$(psql "$url" -qAtc "select (select count(*) from incidents) + (select count(*) from passwords) + (select count(*) from ports)")
    psql "$url" -qc "VACUUM ANALYZE" >/dev/null
    extra+=$'\n'"### Cold full refresh against count scans — PostgreSQL, demo year at scale $scale ($raw raw rows), in process"$'\n\n'
    out=$("$GEN" resources "$url" - "$now")
    extra+="$out"$'\n'
    ratio=$(awk -F'|' '$2 ~ /baseline/ {gsub(/ /, "", $5); print $5}' <<<"$out")
    scans=$(awk -F'|' '$2 ~ /baseline/ {gsub(/ /, "", $4); print $4}' <<<"$out")
    : "${scans:?vantage-bench printed no count-scan baseline (it needs a postgres:// URL)}"
    target "cold full refresh (in process) at --scale $scale against one count scan per (table, period window), PostgreSQL" "${ratio}× (scans ${scans} s)" "≤ 3×" "$(met "$ratio" '<=' 3)"
    # side by side: Sentinel View's own resource SQL of the same full refresh (written from
    # statistics.md, one statement per resource), run with psql on the same database
    shared=$(awk -F'|' '$2 ~ /^ all / {gsub(/ /, "", $4); print $4}' <<<"$out")
    "$GEN" sview-sql "$now" >"$DIR/sview-refresh.sql"
    sview=$(python3 - "$url" "$DIR/sview-refresh.sql" <<'PY'
import subprocess, sys, time
runs = []
for _ in range(3):
    t = time.monotonic()
    subprocess.run(["psql", sys.argv[1], "-qAt", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f", sys.argv[2]], check=True)
    runs.append(time.monotonic() - t)
print(f"{sorted(runs)[1]:.2f}")
PY
)
    statements=$(grep -c '^-- .*:' "$DIR/sview-refresh.sql")
    extra+=$'\n'"Side by side in the same run: Sentinel View's resource SQL of the same refresh ($statements statements, \`vantage-bench sview-sql\`), psql, median of 3: **$sview s**; Vantage from shared scans: **$shared s** ($(python3 -c "print(f'{$shared / $sview:.2f}')")× sview's time)."$'\n'
    target "cold full refresh (in process) against sview's resource SQL run with psql, PostgreSQL" "${shared} s vs ${sview} s ($(python3 -c "print(f'{$shared / $sview:.2f}')")×)" "not slower" "$(met "$shared" '<=' "$sview")"
    redis="${VANTAGE_TEST_REDIS_URL:-redis://127.0.0.1:6379}/9"
    with=(--database-url "$url" --redis-url "$redis" --now "$now")
    extra+=$'\n'"### Scale-out: the same cold full refresh by N \`vantage worker\` processes on one Redis ($(nproc) cores)"$'\n\n'
    extra+="| workers | keys | jobs | seconds | speed-up |"$'\n'"|---|---:|---:|---:|---:|"$'\n'
    one=""
    for n in 1 2 4; do
        "$V" "${with[@]}" clear-cache --all >/dev/null
        pids=()
        trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
        for _ in $(seq 1 "$n"); do
            "$V" "${with[@]}" worker --concurrency 1 --no-schedule 2>>"$DIR/workers.log" &
            pids+=($!)
        done
        for _ in $(seq 1 300); do [ "$(grep -c serving "$DIR/workers.log" 2>/dev/null)" -ge "$n" ] && break; sleep 0.1; done
        [ "$(grep -c serving "$DIR/workers.log")" -ge "$n" ] || { echo "the $n workers did not start:" >&2; cat "$DIR/workers.log" >&2; exit 1; }
        start=$(date +%s.%N) keys=0 jobs=0
        while :; do
            # "N queued in M jobs": the keys of one data type and level share a job
            read -r queued in_jobs < <("$V" "${with[@]}" refresh | awk '/ queued in / {print $1, $4}' | tail -1)
            keys=$((keys + queued)) jobs=$((jobs + in_jobs))
            # until the queue is empty and nothing runs
            deadline=$(($(date +%s) + 1800))
            until "$V" "${with[@]}" view-jobs --json | python3 -c "import json,sys; s=json.load(sys.stdin); sys.exit(0 if not s['running'] and not any(jobs for _, jobs in s['queued']) else 1)"; do
                [ "$(date +%s)" -lt "$deadline" ] || { echo "the refresh by $n workers did not finish in 30 min" >&2; exit 1; }
                sleep 0.2
            done
            [ "$queued" -eq 0 ] && break
        done
        secs=$(python3 -c "print(f'{$(date +%s.%N) - $start:.2f}')")
        kill "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
        trap - EXIT
        rm -f "$DIR/workers.log"
        [ -n "$one" ] || one=$secs
        extra+="| $n | $keys | $jobs | $secs | $(python3 -c "print(f'{$one / $secs:.2f}')")× |"$'\n'
    done
    "$V" "${with[@]}" clear-cache --all >/dev/null
    ratio=$(python3 -c "print(f'{$one / $scans:.1f}')")
    target "cold full \`vantage refresh\` by one worker at --scale $scale against the same count scans, PostgreSQL" "${ratio}× ($one s)" "≤ 3×" "$(met "$ratio" '<=' 3)"
fi

if [ "$what" = dossier ] || [ "$what" = all ]; then
    # IP dossier (issue 17): the dossiers of random attackers of a demo year (its events and
    # flows included), in process through the engine, beside one uncached statistics resource
    # for the same address measured in the same run on the same addresses
    now=2024-06-15T12:40:00Z
    scale="${BENCH_DOSSIER_SCALE:-1}"
    ips="${BENCH_DOSSIER_IPS:-1000}"
    extra+=$'\n'"### IP dossier: $ips random attackers of a demo year (scale $scale), in process (ms per address)"$'\n\n'
    extra+="| measurement | backend | addresses | p50 ms | p99 ms | max ms | dossier / baseline (p50 / p99) |"$'\n'"|---|---|---:|---:|---:|---:|---:|"$'\n'
    url=$(fresh_pg vantage_bench_dossier)
    run "demo pg" -- "$V" --database-url "$url" --now "$now" demo --no-tui --scale "$scale"
    extra+="$("$GEN" dossier "$url" "$now" "$ips")"$'\n'
    d=$(fresh_sqlite sqlite-dossier)
    run "demo sqlite" -- "$V" --data-dir "$d" --now "$now" demo --no-tui --scale "$scale"
    extra+="$("$GEN" dossier "$d" "$now" "$ips")"$'\n'
fi

echo
echo "Vantage benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $PROFILE build"
echo
echo "| benchmark | backend | rows | seconds | rows/s | peak RSS MB |"
echo "|---|---|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
printf '%s\n' "$extra"
if [ "${#targets[@]}" -gt 0 ]; then
    echo
    echo "### Targets (quality.md; issue 19's table), today's figure beside each"
    echo
    echo "| workload | today | target | |"
    echo "|---|---|---|---|"
    printf '%s\n' "${targets[@]}"
fi
