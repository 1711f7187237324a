#!/usr/bin/env bash
# Installs the reference programs the tests and benchmarks run (Debian packages), and the C
# compiler the native UDP addon builds with, only those missing, and says what it installed.
# Run by `npm test` first.
set -u
declare -A pkg_of=(
  [mktorrent]=mktorrent
  [transmission-show]=transmission-cli
  [transmission-create]=transmission-cli
  [transmission-daemon]=transmission-daemon
  [transmission-remote]=transmission-cli
  [aria2c]=aria2
  [redis-server]=redis-server
  [opentracker]=opentracker
  [wrk]=wrk
)
missing=()
for bin in "${!pkg_of[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("${pkg_of[$bin]}")
done
# The tracker's batched UDP addon (scripts/build-native.mjs) needs a C compiler and libc's
# headers; Node's own headers come with Debian's nodejs package.
command -v cc >/dev/null 2>&1 || { echo "install-deps: no C compiler: adding gcc (the native I/O addons)"; missing+=(gcc); }
[ -e /usr/include/stdio.h ] || { echo "install-deps: no libc headers: adding libc6-dev (the native I/O addons)"; missing+=(libc6-dev); }
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all reference programs present"
  exit 0
fi
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing ${pkgs[*]} and cannot apt-get here (not root or not Debian); interop tests will be skipped"
  exit 0
fi
echo "install-deps: installing ${pkgs[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
if apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/tmp/sta-install-deps.log 2>&1; then
  echo "install-deps: installed ${pkgs[*]}"
else
  echo "install-deps: apt-get failed (see /tmp/sta-install-deps.log):"; tail -5 /tmp/sta-install-deps.log
  exit 1
fi
# Debian starts the services on install; the tests start their own instances.
for svc in redis-server transmission-daemon; do
  (command -v systemctl >/dev/null && systemctl stop "$svc") >/dev/null 2>&1 || service "$svc" stop >/dev/null 2>&1 || true
done
exit 0
