#!/bin/sh
# Install (or upgrade) the SCM agent as a systemd service, enroll it and start it.
#
#   sudo sh install.sh --server https://ingest.example --token scm-enroll-XXXX [--binary ./scm-agent]
#
# Idempotent: re-running upgrades the binary and restarts the service; an agent that is already
# enrolled keeps its key and identity (the token is then not needed and not used).
set -eu

SERVER="" TOKEN="" BINARY="$(dirname "$0")/scm-agent"
while [ $# -gt 0 ]; do
  case "$1" in
    --server) SERVER="$2"; shift 2 ;;
    --token) TOKEN="$2"; shift 2 ;;
    --binary) BINARY="$2"; shift 2 ;;
    *) echo "usage: $0 --server URL --token TOKEN [--binary PATH]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
[ -x "$BINARY" ] || { echo "install.sh: no executable scm-agent at $BINARY" >&2; exit 1; }
HERE="$(cd "$(dirname "$0")" && pwd)"
UNIT_SRC="$HERE/scm-agent.service"; [ -f "$UNIT_SRC" ] || UNIT_SRC="$HERE/linux/scm-agent.service"
TOML_SRC="$HERE/agent.toml"; [ -f "$TOML_SRC" ] || TOML_SRC="$HERE/../agent.toml"

# A dedicated system account: no login shell, no home of its own beyond the state directory.
if ! id scm-agent >/dev/null 2>&1; then
  useradd --system --user-group --home-dir /var/lib/scm-agent --no-create-home \
          --shell /usr/sbin/nologin scm-agent
fi

# The binary lives where the service account may replace it with a signed release
# (self-update); /usr/local/bin/scm-agent points to it for people.
install -d -m 0755 -o scm-agent -g scm-agent /opt/scm-agent
install -m 0755 -o scm-agent -g scm-agent "$BINARY" /opt/scm-agent/scm-agent
ln -sf /opt/scm-agent/scm-agent /usr/local/bin/scm-agent
install -d -m 0750 -o root -g scm-agent /etc/scm-agent
if [ ! -f /etc/scm-agent/agent.toml ] && [ -f "$TOML_SRC" ]; then
  # May come to hold SNMP credentials: root writes it, the service account only reads it.
  install -m 0640 -o root -g scm-agent "$TOML_SRC" /etc/scm-agent/agent.toml
fi
install -d -m 0700 -o scm-agent -g scm-agent /var/lib/scm-agent
install -m 0644 "$UNIT_SRC" /etc/systemd/system/scm-agent.service

if [ ! -f /var/lib/scm-agent/identity.json ]; then
  [ -n "$SERVER" ] && [ -n "$TOKEN" ] || { echo "install.sh: --server and --token are needed to enroll" >&2; exit 2; }
  # Enroll as the service account so the key is born 0600 and owned by it.
  runuser -u scm-agent -- env SCM_AGENT_HOME=/var/lib/scm-agent \
    /usr/local/bin/scm-agent enroll --server "$SERVER" --token "$TOKEN"
fi

systemctl daemon-reload
systemctl enable scm-agent.service
systemctl restart scm-agent.service
echo "scm-agent installed; see: systemctl status scm-agent; scm-agent status"
