#!/usr/bin/env bash
# Build the one-file Linux `scm-agent` with PyInstaller into dist/, then test the frozen binary:
# `--version`, `read` against snmpsim, and `enroll` + `run` against a real ingest on loopback
# (pytest -m frozen).  CI runs this after the test suite; measured on the 2-core CI machine:
# ~17 s build, ~15 s frozen tests.
#
#   bash installers/build_linux.sh            # uses .venv (built by `make venv`)
#   SKIP_FROZEN_TESTS=1 bash installers/build_linux.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=".venv/bin/python"
[ -x "$PY" ] || make venv

if ! "$PY" -c 'import PyInstaller' 2>/dev/null; then
  echo "== installing PyInstaller into .venv"
  "$PY" -m pip install --quiet "pyinstaller>=6.10,<7"
fi

echo "== building dist/scm-agent"
start=$(date +%s)
"$PY" -m PyInstaller --clean --noconfirm --log-level WARN \
  --distpath dist --workpath build/pyinstaller installers/pyinstaller/scm-agent.spec
echo "built dist/scm-agent: $(du -m dist/scm-agent | cut -f1) MB in $(( $(date +%s) - start )) s"
dist/scm-agent --version

if [ -z "${SKIP_FROZEN_TESTS:-}" ]; then
  echo "== testing the frozen binary"
  SCM_FROZEN_AGENT="$PWD/dist/scm-agent" "$PY" -m pytest -m frozen -p no:cacheprovider tests/e2e/test_frozen_agent.py
fi
