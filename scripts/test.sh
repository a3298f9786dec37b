#!/usr/bin/env bash
# Runs Vantage's whole test suite against real services on loopback.
#
# Makes sure PostgreSQL, Redis, mergecap (wireshark-common), nfdump, libzmq3-dev, Xvfb and Mesa are installed and the services running
# (apt-get install + start when missing; running ones are reused), creates what the tests
# need, then runs every test of the workspace and a seconds-long run of every fuzz target.
# Usage: scripts/test.sh [extra nextest/cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[test.sh]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
    log "installing $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- PostgreSQL -----------------------------------------------------------------------
export VANTAGE_TEST_PG_URL="${VANTAGE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    apt_install postgresql postgresql-client
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    [ -d "/etc/postgresql/$version/main" ] || as_root pg_createcluster "$version" main
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
fi
if ! psql "$VANTAGE_TEST_PG_URL" -qAtc 'select 1' >/dev/null 2>&1; then
    # a fresh Debian cluster wants a password on TCP: give the postgres role one
    log "setting a password for the postgres role (TCP login for tests)"
    as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'vantage-test'\"" >/dev/null
    export VANTAGE_TEST_PG_URL="postgres://postgres:vantage-test@127.0.0.1:5432/postgres"
    psql "$VANTAGE_TEST_PG_URL" -qAtc 'select 1' >/dev/null
fi
# drop databases left behind by interrupted test runs
for db in $(psql "$VANTAGE_TEST_PG_URL" -qAtc "select datname from pg_database where datname like 'vantage_t_%'"); do
    psql "$VANTAGE_TEST_PG_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
done
log "PostgreSQL ready: $(psql "$VANTAGE_TEST_PG_URL" -qAtc 'show server_version')"

# --- Redis ------------------------------------------------------------------------------
export VANTAGE_TEST_REDIS_URL="${VANTAGE_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
command -v redis-server >/dev/null || apt_install redis-server
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting Redis"
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 60); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
log "Redis ready: $(redis-cli -h 127.0.0.1 -p 6379 info server | grep -m1 redis_version | tr -d '\r')"

# --- mergecap (packet-capture merge is checked against it) ------------------------------
command -v mergecap >/dev/null || apt_install wireshark-common
command -v tmux >/dev/null || apt_install tmux
command -v openssl >/dev/null || apt_install openssl   # the Stenographer tests make certificates with it
command -v nfpcapd >/dev/null || apt_install nfdump     # flows built from captures are checked against nfpcapd
# the DynFW subscriber links the system libzmq (with CURVE, via libsodium); pkg-config finds it
command -v pkg-config >/dev/null || apt_install pkg-config
pkg-config --exists libzmq 2>/dev/null || apt_install libzmq3-dev
log "mergecap: $(mergecap --version 2>&1 | head -n 1); nfdump: $(nfdump -V 2>&1 | head -n 1)"

# --- the desktop app's end-to-end test: an X server, and what eframe loads at run time ----
# (winit: Xlib, Xlib-xcb, Xcursor, XInput, xcb, xkbcommon; glutin: EGL/GLX; Mesa's llvmpipe)
command -v Xvfb >/dev/null || apt_install xvfb
gui_missing=()
for pkg in libgl1 libgl1-mesa-dri libegl1 libx11-6 libx11-xcb1 libxcursor1 libxi6 libxkbcommon-x11-0; do
    dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || gui_missing+=("$pkg")
done
[ "${#gui_missing[@]}" -eq 0 ] || apt_install "${gui_missing[@]}"

# --- a real Have I Been Pwned client library (the range API is tested against it) ---------
command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 || apt_install python3 python3-pip
if ! python3 -c "import pwned_passwords_django" >/dev/null 2>&1; then
    log "installing pwned-passwords-django (PyPI)"
    pip_install() { python3 -m pip install --quiet --disable-pip-version-check "$@" "pwned-passwords-django==5.2.0"; }
    # Debian's own python3 is "externally managed": allow the test dependency there
    pip_install 2>/dev/null || pip_install --break-system-packages
fi

# --- lints, then the tests ----------------------------------------------------------------
log "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
    cargo test --workspace --doc --quiet
else
    cargo test --workspace --no-fail-fast "$@"
fi

# --- a CI-sized fuzz run: every cargo-fuzz target for seconds (the long runs: docs/reliability.md)
# VANTAGE_TEST_FUZZ=0 skips it (e.g. when only some tests were asked for).
if [ "${VANTAGE_TEST_FUZZ:-1}" != 0 ]; then
    log "fuzzing every parser for 5 s (scripts/fuzz.sh --ci)"
    scripts/fuzz.sh --ci
fi
