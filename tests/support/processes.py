"""Real processes for end-to-end tests: the ingest server and the agent's command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def console_script(name: str) -> str:
    """A console script of this virtual environment."""
    return str(BIN / name)


@dataclass
class IngestServer:
    """``scm-ingest serve`` on a loopback port, against the given database."""

    database_url: str
    instance: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SCM_DATABASE_URL": self.database_url,
            "SCM_INSTANCE_PATH": str(self.instance),
            "SCM_SECRET_KEY": "e2e-" * 8,
        }

    def start(self, timeout: float = 30.0, attempts: int = 3) -> None:
        """Start (or restart on the same port) and wait until it answers; a server that dies at
        once (its port not yet released by the one before it, on a loaded machine) is started
        again, a few times."""
        for attempt in range(attempts):
            try:
                self._start_once(timeout)
                return
            except RuntimeError:
                died = self.process is not None and self.process.poll() is not None
                if not died or attempt == attempts - 1:
                    raise
                time.sleep(1.0)

    def _start_once(self, timeout: float) -> None:
        self.port = self.port or free_tcp_port()
        self.instance.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [console_script("scm-ingest"), "serve", "--host", HOST, "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/login", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"ingest did not start: {self.output()}")

    def stop(self) -> None:
        """Stop the server; the port stays reserved in ``self.port`` for a restart."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    @property
    def log_path(self) -> Path:
        return self.instance / "server.log"

    def output(self) -> str:
        """The end of the server's log."""
        return self.log_path.read_text(errors="replace")[-3000:]

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run ``scm-ingest ARGS`` against the same database; returns stdout."""
        result = subprocess.run(
            [console_script("scm-ingest"), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


def run_agent(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``scm-agent ARGS`` with its state in ``home``."""
    env = {**os.environ, "SCM_AGENT_HOME": str(home)}
    return subprocess.run(
        [console_script("scm-agent"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, parents first (a one-file binary is several processes)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop(0)
        found.append(current)
        children = Path(f"/proc/{current}/task/{current}/children")
        if children.exists():
            pending.extend(int(child) for child in children.read_text().split())
    return found


def agent_toml(directory: Path, endpoint: str, community: str, extra: str = "") -> Path:
    """``DIRECTORY/agent.toml`` reading one simulated printer, plus ``extra`` TOML."""
    path = directory / "agent.toml"
    path.write_text(
        f'[network]\ntargets = ["{endpoint}"]\n[[credentials]]\nversion = "2c"\n'
        f'community = "{community}"\n{extra}',
        encoding="utf-8",
    )
    return path


def start_agent_run(
    home: Path, config: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``scm-agent run --config CONFIG`` with its state in ``home`` (output discarded)."""
    return subprocess.Popen(
        [console_script("scm-agent"), "run", "--config", str(config)],
        env={**os.environ, "SCM_AGENT_HOME": str(home), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
