#!/usr/bin/env bash
# The system programs the tests and the cluster need, from Debian, installed only when missing:
#   chromium      the browser tests (Playwright drives /usr/bin/chromium)
#   postgresql    the PostgreSQL variants of the tests, and the cluster
#   redis-server  the Redis tests, and the cluster
#   npm           Node.js (18 or newer) and npm: the pages' tests, axe-core
#   haproxy       the cluster's load balancer
#   supervisor    the cluster's process supervisor
#
#   scripts/system_deps.sh                  # all of them (what `make test` runs)
#   scripts/system_deps.sh postgresql ...   # only these
#
# Installing needs root and apt-get; without them it says what is missing and how to get it,
# and fails. Other apt runs on the machine (the dpkg lock) are waited for, not fought.
set -euo pipefail

ALL=(chromium postgresql redis-server npm haproxy supervisor)
LOCK_WAIT_SECONDS=${LOCK_WAIT_SECONDS:-900}

installed() {
  case "$1" in
    chromium) [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 ;;
    # Debian's server binaries live outside PATH; the tests look for them there.
    postgresql) compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null ;;
    redis-server) command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] ;;
    npm) command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 ;;
    haproxy) command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] ;;
    supervisor) command -v supervisord >/dev/null 2>&1 || [ -x /usr/bin/supervisord ] ;;
    *) echo "system_deps: unknown package '$1' (known: ${ALL[*]})" >&2; exit 2 ;;
  esac
}

# Runs apt-get, retrying while another apt or dpkg holds its lock (up to LOCK_WAIT_SECONDS).
apt_get() {
  local log deadline
  log=$(mktemp)
  deadline=$((SECONDS + LOCK_WAIT_SECONDS))
  while true; do
    if DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=60 "$@" >"$log" 2>&1; then
      rm -f "$log"
      return 0
    fi
    if grep -qiE "could not get lock|unable to lock|is another process using it" "$log" && [ "$SECONDS" -lt "$deadline" ]; then
      echo "system_deps: apt is busy (another install on this machine); retrying in 10 s" >&2
      sleep 10
      continue
    fi
    echo "system_deps: apt-get $* failed:" >&2
    tail -n 20 "$log" >&2
    rm -f "$log"
    return 1
  done
}

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=("${ALL[@]}")
missing=()
for package in "${wanted[@]}"; do
  installed "$package" || missing+=("$package")
done
[ ${#missing[@]} -gt 0 ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "system_deps: missing ${missing[*]}; installing needs root. Run one of:" >&2
  echo "    sudo scripts/system_deps.sh" >&2
  echo "    sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system_deps: missing ${missing[*]}, and there is no apt-get here (the project expects Debian)." >&2
  echo "    Install them with this system's package manager; PostgreSQL's initdb and pg_ctl" >&2
  echo "    are looked for in /usr/lib/postgresql/<version>/bin (or set POSTGRES_BIN)." >&2
  exit 1
fi

echo "system_deps: installing ${missing[*]} from Debian"
apt_get update
apt_get install -y "${missing[@]}"
for package in "${missing[@]}"; do
  installed "$package" || { echo "system_deps: $package is still missing after apt-get install" >&2; exit 1; }
done
