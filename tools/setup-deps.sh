#!/usr/bin/env bash
# tools/setup-deps.sh: installs the Debian 12 packages msock needs to build, test and benchmark,
# then the browser test's npm packages (tests/browser, `npm ci` from its committed lockfile).
# Idempotent: when every package is already installed it returns at once without touching apt
# or npm. Runs as root (CI) or through sudo when available.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PACKAGES=(
  build-essential cmake ninja-build pkg-config g++ clang clang-format libclang-rt-14-dev llvm
  libuv1-dev libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  protobuf-compiler libprotobuf-dev libwebsockets-dev libwebsockets-evlib-uv libssl-dev openssl libsqlite3-dev
  nanomsg-utils nng-utils libnng-dev libzmq3-dev libnanomsg-dev valgrind python3
  chromium redis-server mosquitto libhiredis-dev libmosquitto-dev
)
# The browser test (tests/browser) needs node >= 20 with npm. The machine image ships them
# (not from Debian); Debian's own nodejs/npm are installed only when there is no npm at all.
if ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

# npm ci in tests/browser unless the locked playwright-core is already there.
install_browser_test_packages() {
  local dir="$ROOT/tests/browser"
  [[ -f "$dir/package-lock.json" ]] || return 0
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if [[ "$major" -lt 20 ]]; then
    echo "setup-deps: node $(node --version) is too old for playwright-core; need >= 20" >&2
    exit 1
  fi
  local want have
  want="$(cd "$dir" && node -p \
    'require("./package-lock.json").packages["node_modules/playwright-core"].version')"
  have="$(cd "$dir" && node -p 'require("./node_modules/playwright-core/package.json").version' \
    2>/dev/null || true)"
  if [[ "$want" == "$have" ]]; then
    echo "setup-deps: playwright-core $have already installed in tests/browser"
    return 0
  fi
  echo "setup-deps: npm ci in tests/browser (playwright-core $want)"
  (cd "$dir" && npm ci --no-audit --no-fund)
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup-deps: all ${#PACKAGES[@]} packages already installed"
  install_browser_test_packages
  exit 0
fi

echo "setup-deps: installing ${missing[*]}"
SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "setup-deps: not root and no sudo; install these packages by hand: ${missing[*]}" >&2
    exit 1
  fi
fi
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
install_browser_test_packages
echo "setup-deps: done"
