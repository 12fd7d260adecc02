#!/usr/bin/env bash
# scm-agent scan vs FusionInventory 2.6 on the same simulated /24 (see peer_fusioninventory.py).
# Needs root (UDP 161 inside a network namespace of its own). Installs Debian's
# fusioninventory-agent and fusioninventory-agent-task-network when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v fusioninventory-netdiscovery >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    fusioninventory-agent fusioninventory-agent-task-network >/dev/null
fi
exec .venv/bin/python bench/peer_fusioninventory.py "$@"
