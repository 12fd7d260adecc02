"""The one-command demo: a simulated printer fleet, the ingest on SQLite, an enrolled agent.

It drives only the public command lines (``scm-ingest``, ``scm-agent``, ``snmpsim``), exactly
as a technician would, so the demo is also a smoke test of the real entry points:

1. serve every printer capture in ``tests/fixtures/printers`` with snmpsim on 127.0.0.1;
2. create the ingest database, a customer, a portal user and a one-time enrollment token;
3. start the ingest web service on 127.0.0.1;
4. enroll an agent with the token and push one read cycle of the whole fleet;
5. print the URL of the device page and the login, then keep serving until Ctrl-C.

``--once`` stops after checking that the devices arrived (used by the test suite).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "printers"
BIN = Path(sys.executable).parent
CUSTOMER = "Demo Ufficio srl"
EMAIL = "referente@demo.example"
STAFF_EMAIL = "ops@scm.example"
#: How many of the simulated printers the demo puts under contract (the rest wait in the queue).
MACHINES_UNDER_CONTRACT = 6


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="ingest web port (default 8000)")
    parser.add_argument("--workdir", type=Path, default=ROOT / ".demo", help="state folder")
    parser.add_argument("--once", action="store_true", help="stop after one verified cycle")
    args = parser.parse_args(argv)
    _stop_on_signals()

    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    env = {
        **os.environ,
        "SCM_DATABASE_URL": f"sqlite:///{args.workdir / 'ingest.sqlite'}",
        "SCM_AGENT_HOME": str(args.workdir / "agent"),
        "SCM_INSTANCE_PATH": str(args.workdir / "instance"),
        "SNMPSIM_ALLOW_ROOT": "true",
    }
    with ExitStack() as stack:
        snmp_port = _free_udp_port()
        stack.enter_context(_Background(_snmpsim_command(snmp_port, args.workdir), env, "snmpsim"))
        _run(["scm-ingest", "db", "upgrade"], env)
        password = secrets.token_urlsafe(12)
        created = _run(
            [
                "scm-ingest",
                "customer",
                "create",
                CUSTOMER,
                "--referent-name",
                "Referente MFP",
                "--referent-email",
                EMAIL,
                "--country",
                "IT",
            ],
            env,
        )
        code = created.rsplit("(code ", 1)[-1].rstrip(")\n ")
        for email, owner in ((EMAIL, ["--customer", CUSTOMER]), (STAFF_EMAIL, ["--staff"])):
            _run(
                ["scm-ingest", "user", "create", "--email", email, *owner, "--password-stdin"],
                env,
                stdin=password + "\n",
            )
        token = _run(["scm-ingest", "token", "create", "--customer", CUSTOMER], env).strip()
        server = f"http://127.0.0.1:{args.port}"
        stack.enter_context(
            _Background(
                [_bin("scm-ingest"), "serve", "--host", "127.0.0.1", "--port", str(args.port)],
                env,
                "ingest",
            )
        )
        _wait_http(server + "/login")
        _run(["scm-agent", "enroll", "--server", server, "--token", token], env)
        cases = sorted(
            p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json")
        )
        _wait_snmp(f"127.0.0.1:{snmp_port}", cases[0], env)
        targets = [arg for case in cases for arg in ("--target", f"127.0.0.1:{snmp_port}/{case}")]
        print(_run(["scm-agent", "push", *targets], env).strip())
        _register_fleet(f"127.0.0.1:{snmp_port}", cases, env)
        print(
            f"\nCustomer portal: {server}/machines  (also /devices, /invoices, /orders)"
            f"\n  login: {EMAIL} (or the customer code {code})\n  password: {password}"
            f"\nDealer ops:      {server}/ops/\n  login: {STAFF_EMAIL}\n  password: {password}\n"
        )
        if args.once:
            return 0
        print("Serving; press Ctrl-C to stop.", flush=True)
        try:
            signal.pause()
        except (KeyboardInterrupt, _StopRequestedError):
            print("\nstopping", flush=True)
    return 0


class _StopRequestedError(Exception):
    """SIGTERM or SIGHUP: leave the ``with`` blocks so every child is stopped."""


def _stop_on_signals() -> None:
    """Turn a supervisor's SIGTERM (or a closed terminal's SIGHUP) into an orderly stop."""

    def stop(_signum: int, _frame: object) -> None:
        raise _StopRequestedError

    for name in ("SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), stop)


def _die_with_parent() -> None:
    """In each child: the kernel sends SIGTERM if the demo dies without cleaning up (kill -9)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _register_fleet(address: str, cases: list[str], env: dict[str, str]) -> None:
    """Put a few of the simulated printers under contract, with a toner in the catalogue, so
    the portal shows machines, counters, forecasts and orders from the first minute."""
    registered, serials = 0, set()
    for case in cases:
        reading = json.loads(
            _run(["scm-agent", "read", address, "--community", case, "--json"], env)
        )
        device = reading["device"]
        serial = (device.get("serial") or "").strip()
        if not serial or serial.lower() in serials or "serial" in serial.lower():
            continue  # anonymised captures share placeholder serials
        serials.add(serial.lower())
        registered += 1
        scm_id = f"SCM-{1000 + registered}"
        _run(
            [
                "scm-ingest",
                "machine",
                "add",
                "--customer",
                CUSTOMER,
                "--scm-id",
                scm_id,
                "--serial",
                device["serial"],
                "--manufacturer",
                device.get("manufacturer") or "",
                "--model",
                device["model"],
                "--location",
                f"Ufficio {registered}, primo piano",
                "--site-address",
                "Via Roma 1, 20100 Milano",
            ],
            env,
        )
        _run(
            [
                "scm-ingest",
                "contract",
                "add",
                "--machine",
                scm_id,
                "--mono-rate",
                "0.009",
                "--colour-rate",
                "0.075",
                "--start",
                "2026-01-01",
                "--included-mono",
                "1000",
                "--fixed-fee",
                "25",
            ],
            env,
        )
        _run(
            [
                "scm-ingest",
                "consumable",
                "add",
                "--code",
                f"TN-{scm_id}-K",
                "--description",
                f"Toner nero per {device['model']}",
                "--models",
                device["model"],
                "--colour",
                "black",
                "--price",
                "95",
            ],
            env,
        )
        if registered == MACHINES_UNDER_CONTRACT:
            break
    print(f"{registered} machines under contract; the other devices wait in the ops queue")


def _snmpsim_command(port: int, workdir: Path) -> list[str]:
    cache = workdir / "snmpsim-cache"
    cache.mkdir()
    return [
        _bin("snmpsim-command-responder"),
        f"--data-dir={FIXTURES}",
        f"--agent-udpv4-endpoint=127.0.0.1:{port}",
        f"--cache-dir={cache}",
    ]


def _bin(name: str) -> str:
    """A console script of this virtual environment (falling back to PATH)."""
    candidate = BIN / name
    return str(candidate) if candidate.exists() else name


def _run(command: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    result = subprocess.run(
        [_bin(command[0]), *command[1:]],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        sys.exit(
            f"demo: {' '.join(command[:3])} failed ({result.returncode}): "
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
    return result.stdout


class _Background:
    """A child process for the duration of a ``with`` block; its output goes to a log file."""

    def __init__(self, command: list[str], env: dict[str, str], name: str) -> None:
        self.command, self.env, self.name = command, env, name

    def __enter__(self) -> subprocess.Popen[bytes]:
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
            preexec_fn=_die_with_parent,  # only a prctl call: safe between fork and exec
        )
        time.sleep(0.2)
        if self.proc.poll() is not None:
            self.log.seek(0)
            sys.exit(f"demo: {self.name} did not start: {self.log.read().decode()[-500:]}")
        return self.proc

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _wait_snmp(address: str, community: str, env: dict[str, str], timeout_s: float = 30) -> None:
    """snmpsim indexes its data files before it answers; wait for its first answer."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        probe = subprocess.run(
            [_bin("scm-agent"), "read", address, "--community", community, "--json"],
            env=env,
            capture_output=True,
            check=False,
            timeout=60,
        )
        if probe.returncode == 0:
            return
    sys.exit(f"demo: the simulated printers at {address} did not answer within {timeout_s:.0f} s")


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback URL we built
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"demo: {url} did not answer within {timeout_s:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
