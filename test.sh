#!/usr/bin/env bash
# The one command that runs every test of the solution, on a fresh Debian machine as on a developer's:
# it installs the prerequisites that are missing, then runs `dotnet test`. Extra arguments go to dotnet test,
# e.g. ./test.sh --filter "FullyQualifiedName~Postgres".
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

die() {
  echo "test.sh: error: $*" >&2
  exit 1
}

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root or sudo to run: $*"
  fi
}

apt_updated=false
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install these packages by hand: $*"
  if [[ $apt_updated == false ]]; then
    as_root apt-get update || die "apt-get update failed"
    apt_updated=true
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" || die "apt-get install $* failed"
}

# Prints the path of initdb (PATH first, else the highest /usr/lib/postgresql/*/bin), or nothing.
# tests/TestSupport/Postgres/PostgresBinaries.cs looks in the same places.
find_initdb() {
  if command -v initdb 2>/dev/null; then
    return 0
  fi
  local candidate found=""
  for candidate in /usr/lib/postgresql/*/bin/initdb; do
    [[ -x $candidate ]] && found+="$candidate"$'\n'
  done
  if [[ -n $found ]]; then
    printf '%s' "$found" | sort -V | tail -n 1
  fi
}

# ---------------------------------------------------------------------------------------------------------
# Prerequisites. Each ensure_<tool> returns at once when the tool is present, installs it otherwise, and
# stops the script with a clear message when it cannot. A later prerequisite (ensure_litecoind for the
# Litecoin regtest node, ensure_node, ensure_chromium for browser tests, ...) is one more such function
# here, plus one call in main below.
# ---------------------------------------------------------------------------------------------------------

ensure_dotnet() {
  command -v dotnet >/dev/null 2>&1 \
    || die "the .NET 10 SDK (dotnet) is not on PATH; install it, then run ./test.sh again"
}

# A real PostgreSQL server for tests/TestSupport (PostgresServer runs it from a temp dir, as the
# 'postgres' OS user when run as root; the postgresql package creates that user).
ensure_postgres() {
  if [[ -n $(find_initdb) ]]; then
    return 0
  fi
  echo "test.sh: PostgreSQL (initdb) not found; installing the postgresql package"
  apt_install postgresql
  [[ -n $(find_initdb) ]] || die "the postgresql package is installed but initdb is still not found"
  if [[ $(id -u) -eq 0 ]]; then
    id -u postgres >/dev/null 2>&1 || die "PostgreSQL is installed but the 'postgres' OS user is missing"
  fi
}

# Adds up dotnet test's per-assembly summaries ("Passed!  - Failed: 0, Passed: 51, Skipped: 0, ...")
# into one closing line, and fails when no test ran at all.
summarize() {
  awk '
    /^(Passed|Failed)! +- +Failed:/ {
      line = $0; gsub(/,/, "", line); n = split(line, f, " ")
      for (i = 1; i < n; i++) {
        if (f[i] == "Failed:") failed += f[i + 1]
        if (f[i] == "Passed:") passed += f[i + 1]
        if (f[i] == "Skipped:") skipped += f[i + 1]
      }
      assemblies++
    }
    END {
      printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped
      if (assemblies == 0 || passed + failed == 0) { print "test.sh: error: no test ran" > "/dev/stderr"; exit 1 }
    }' "$1"
}

main() {
  ensure_dotnet
  ensure_postgres

  local log status
  log=$(mktemp)
  set +e
  dotnet test CryptoPay.Orleans.sln -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  summarize "$log" || status=1
  rm -f "$log"
  return "$status"
}

main "$@"
