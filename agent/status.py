"""``status.json``: what the running service last did, for ``scm-agent status`` and support.

The service rewrites it (atomically) after every job; ``scm-agent status`` only reads it, so
asking for the status never touches the spool or waits for a job.  It holds no secret: counts,
times, the last error and when each job runs next.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from shared.reading import format_timestamp

STATUS_FILE: Final = "status.json"


class StatusFile:
    """The status file in the agent's home."""

    def __init__(self, home: Path) -> None:
        self.path = home / STATUS_FILE

    def write(self, data: dict[str, Any]) -> None:
        """Replace the file in one step (readers see the old status or the new one)."""
        tmp = self.path.with_name(f".{STATUS_FILE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n", "utf-8")
        tmp.replace(self.path)

    def read(self) -> dict[str, Any] | None:
        """The last status written, or None if the service never ran here."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def format_status(data: dict[str, Any] | None, *, running: bool) -> str:
    """The human summary ``scm-agent status`` prints."""
    if data is None:
        return "scm-agent has not run here yet (no status file)"
    backlog = data.get("backlog", {})
    lines = [
        f"service:      {'running' if running else 'not running'}"
        f" (pid {data.get('pid')}, started {data.get('started_at')}, state {data.get('state')})",
        f"server:       {data.get('server')}  agent {data.get('agent_id')}",
        f"last read:    {_job_line(data.get('read'))}",
        f"last upload:  {_job_line(data.get('upload'))}",
        f"last heartbeat: {_job_line(data.get('heartbeat'))}",
        f"discovery:    {_job_line(data.get('discovery'))}",
        f"backlog:      {backlog.get('readings', 0)} readings in the spool"
        f" ({backlog.get('batches', 0)} batches cut, {backlog.get('bytes', 0)} bytes),"
        f" {backlog.get('dropped', 0)} dropped in all, {backlog.get('dead_letters', 0)} rejected",
        f"devices:      {data.get('devices_known', 0)} known,"
        f" {data.get('devices_read', 0)} read in the last cycle",
        f"config:       remote version {data.get('config_version', 0)}",
        f"last error:   {data.get('last_error') or 'none'}",
    ]
    refused = data.get("refused")
    if isinstance(refused, dict):
        lines.insert(
            2,
            f"REFUSED:      the server refuses this agent since {refused.get('since')}"
            f" ({refused.get('reason')}); every reading is kept and uploads resume on their own"
            " once the dealer re-enables it",
        )
    if data.get("retry_at"):
        lines.append(f"upload retry: not before {data['retry_at']}")
    next_runs = data.get("next_runs") or {}
    if running and next_runs:
        lines.append("next jobs:    " + ", ".join(f"{k} {v}" for k, v in sorted(next_runs.items())))
    lines.append(f"(as of {data.get('updated_at')})")
    return "\n".join(lines)


def pid_alive(pid: Any) -> bool:
    """True if a process with this id exists (a stale status file names a dead one)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill there terminates the process: trust the state field
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _job_line(job: Any) -> str:
    if not isinstance(job, dict) or not job.get("at"):
        return "never"
    outcome = "ok" if job.get("ok") else "FAILED"
    return f"{job['at']} {outcome}" + (f", {job['detail']}" if job.get("detail") else "")


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return format_timestamp(value.astimezone(UTC))
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
