#!/usr/bin/env bash
# The one command that runs every test of the solution, on a fresh Debian machine as on a developer's:
# it installs the prerequisites that are missing, builds the solution, then runs `dotnet test` on each test project (two
# lanes side by side, below). Extra arguments go to dotnet test, e.g. ./test.sh --filter "FullyQualifiedName~Postgres".
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
# stops the script with a clear message when it cannot. A later prerequisite (ensure_chromium for browser
# tests, ...) is one more such function here, plus one call in main below.
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

# litecoind for tests/TestSupport/Litecoin/LitecoinRegtestNode (Debian's litecoind package; the node looks on
# PATH, then in /usr/bin).
ensure_litecoind() {
  if command -v litecoind >/dev/null 2>&1 || [[ -x /usr/bin/litecoind ]]; then
    return 0
  fi
  echo "test.sh: litecoind not found; installing the litecoind package"
  apt_install litecoind
  command -v litecoind >/dev/null 2>&1 || [[ -x /usr/bin/litecoind ]] \
    || die "the litecoind package is installed but litecoind is still not found"
}

# python3 for tests/TestSupport/python/verify_payout_proof.py, the payout proof checker (standard library only), and
# python3-requests for the CryptoPayment document's Python sample, run unmodified against the gateway.
ensure_python3() {
  if ! command -v python3 >/dev/null 2>&1; then
    echo "test.sh: python3 not found; installing the python3 package"
    apt_install python3
    command -v python3 >/dev/null 2>&1 || die "the python3 package is installed but python3 is still not found"
  fi
  if ! python3 -c 'import requests' >/dev/null 2>&1; then
    echo "test.sh: the python3 requests module not found; installing the python3-requests package"
    apt_install python3-requests
    python3 -c 'import requests' >/dev/null 2>&1 || die "the python3-requests package is installed but 'import requests' still fails"
  fi
}

# Node.js and npm, for the pinned npm tools below.
ensure_node() {
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    return 0
  fi
  echo "test.sh: node or npm not found; installing the nodejs and npm packages"
  apt_install nodejs npm
  command -v node >/dev/null 2>&1 || die "the nodejs package is installed but node is still not found"
  command -v npm >/dev/null 2>&1 || die "the npm package is installed but npm is still not found"
}

# The EVM dev node (ganache) and solc-js that tests/TestSupport/Evm runs, jsQR for the browser tests,
# standardwebhooks, the reference library the webhook tests verify deliveries with, and the OpenAPI validator,
# exactly as pinned by
# tests/TestSupport/node/package-lock.json. npm ci runs again whenever the lockfile is newer than the install.
ensure_node_modules() {
  ensure_node
  local dir=tests/TestSupport/node
  local stamp=$dir/node_modules/.package-lock.json
  if [[ -f $stamp && $stamp -nt $dir/package-lock.json \
        && -f $dir/node_modules/ganache/dist/node/cli.js && -f $dir/node_modules/solc/package.json \
        && -f $dir/node_modules/jsqr/dist/jsQR.js && -f $dir/node_modules/standardwebhooks/package.json \
        && -f $dir/node_modules/@seriousme/openapi-schema-validator/package.json ]]; then
    return 0
  fi
  echo "test.sh: installing the pinned npm tools in $dir (npm ci)"
  (cd "$dir" && npm ci --no-audit --no-fund) || die "npm ci in $dir failed"
  [[ -f $dir/node_modules/ganache/dist/node/cli.js ]] || die "npm ci ran but ganache is missing from $dir/node_modules"
  [[ -f $dir/node_modules/solc/package.json ]] || die "npm ci ran but solc is missing from $dir/node_modules"
  [[ -f $dir/node_modules/jsqr/dist/jsQR.js ]] || die "npm ci ran but jsqr is missing from $dir/node_modules"
  [[ -f $dir/node_modules/standardwebhooks/package.json ]] || die "npm ci ran but standardwebhooks is missing from $dir/node_modules"
  [[ -f $dir/node_modules/@seriousme/openapi-schema-validator/package.json ]] \
    || die "npm ci ran but @seriousme/openapi-schema-validator is missing from $dir/node_modules"
}

# Debian's chromium for tests/Checkout.BrowserTests (Playwright drives /usr/bin/chromium; no browser download).
ensure_chromium() {
  if [[ -x /usr/bin/chromium ]]; then
    return 0
  fi
  echo "test.sh: chromium not found; installing the chromium package"
  apt_install chromium
  [[ -x /usr/bin/chromium ]] || die "the chromium package is installed but /usr/bin/chromium is still not found"
}

# One line with the versions the node and checker tests will run, for CI logs.
print_node_tool_versions() {
  local dir=tests/TestSupport/node
  echo "test.sh: $(litecoind -version | head -n 1); $(python3 --version); node $(node --version);" \
    "$(node "$dir/node_modules/ganache/dist/node/cli.js" --version | head -n 1);" \
    "solc $(node -p "require('./$dir/node_modules/solc/package.json').version");" \
    "standardwebhooks $(node -p "require('./$dir/node_modules/standardwebhooks/package.json').version")"
}

# Adds up dotnet test's per-assembly summaries into one closing line, and fails when no test ran.
# Understands both the normal-verbosity block ("Total tests: 61" / "Passed: 61" / "Failed: 0" ...)
# and the minimal one-liner ("Passed!  - Failed: 0, Passed: 61, Skipped: 0, ...").
summarize() {
  awk '
    /^(Passed|Failed)! +- +Failed:/ {
      line = $0; gsub(/,/, "", line); n = split(line, f, " ")
      for (i = 1; i < n; i++) {
        if (f[i] == "Failed:") failed += f[i + 1]
        if (f[i] == "Passed:") passed += f[i + 1]
        if (f[i] == "Skipped:") skipped += f[i + 1]
      }
      assemblies++; next
    }
    /^Total tests: +[0-9]+/ { block = 1; assemblies++; next }
    block && /^ +Passed: +[0-9]+$/ { passed += $2; next }
    block && /^ +Failed: +[0-9]+$/ { failed += $2; next }
    block && /^ +Skipped: +[0-9]+$/ { skipped += $2; next }
    block && /Total time:/ { block = 0 }
    END {
      printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped
      if (assemblies == 0 || passed + failed == 0) { print "test.sh: error: no test ran" > "/dev/stderr"; exit 1 }
    }' "$1"
}

# The test projects run in two lanes side by side, each lane one project after another. The two longest, Integration.Tests
# (live chains and silo processes, much of it waiting) and Api.Tests (busy on both cores), lead different lanes: left
# to `dotnet test` on the solution, they ran side by side in one full run (11 min) and one after the other in the next
# (13.5 min). Every test project of the solution must be in one lane; the script stops if one is not.
# Measured side by side: Api.Tests 524 s; Integration.Tests 328 s, then the others 33-64 s each (Chains and TestSupport
# a few seconds).
LANE_A=(tests/Integration.Tests tests/Silo.Tests tests/Grains.Tests tests/Checkout.BrowserTests tests/Orleans.Tests tests/Chains.Tests tests/TestSupport.Tests)
LANE_B=(tests/Api.Tests)

# Stops unless the lanes hold exactly the solution's test projects (<IsTestProject>true</IsTestProject>).
check_lanes() {
  local project in_lanes listed
  in_lanes=$(printf '%s\n' "${LANE_A[@]}" "${LANE_B[@]}" | sort)
  listed=$(dotnet sln CryptoPay.Orleans.sln list | grep -E '\.csproj$' | while read -r project; do
    if grep -q '<IsTestProject>true</IsTestProject>' "$project"; then dirname "$project"; fi
  done | sort)
  [[ $in_lanes == "$listed" ]] \
    || die "the test lanes in test.sh do not match the solution's test projects; lanes:"$'\n'"$in_lanes"$'\n'"solution:"$'\n'"$listed"
}

# Runs the given test projects one after another into $lane_dir, one log each; prints a line as each ends. Fails when one failed.
run_lane() {
  local project name started status=0
  for project in "$@"; do
    name=$(basename "$project")
    started=$SECONDS
    if dotnet test "$project" -c Release --no-build --no-restore --logger "console;verbosity=normal" "${test_args[@]}" \
        > "$lane_dir/$name.log" 2>&1; then
      echo "test.sh: $name passed ($((SECONDS - started)) s)"
    else
      echo "test.sh: $name FAILED ($((SECONDS - started)) s)"
      status=1
    fi
  done
  return "$status"
}

main() {
  ensure_dotnet
  ensure_postgres
  ensure_litecoind
  ensure_python3
  ensure_node_modules
  ensure_chromium
  print_node_tool_versions
  echo "test.sh: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
  check_lanes

  dotnet build CryptoPay.Orleans.sln -c Release || die "the build failed"

  test_args=("$@")
  lane_dir=$(mktemp -d)
  local status=0 lane_a lane_b project
  run_lane "${LANE_A[@]}" &
  lane_a=$!
  run_lane "${LANE_B[@]}" &
  lane_b=$!
  wait "$lane_a" || status=1
  wait "$lane_b" || status=1

  # Each project's full output, in lane order, then the totals.
  for project in "${LANE_A[@]}" "${LANE_B[@]}"; do
    cat "$lane_dir/$(basename "$project").log"
  done | tee "$lane_dir/all.log"
  summarize "$lane_dir/all.log" || status=1
  rm -rf "$lane_dir"
  return "$status"
}

main "$@"
