"""A whole local rig for the benches: snmpsim serving a capture, ``scm-ingest serve`` on a fresh
SQLite database, and an agent enrolled with it (by the given ``scm-agent`` binary)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from support.database import build_schema
from support.processes import IngestServer
from support.snmpsim import Snmpsim, start_snmpsim

PRINTERS = Path(__file__).parents[1] / "fixtures" / "printers"
CUSTOMER = "Bench srl"


@dataclass(frozen=True)
class Rig:
    """What is running, and the enrolled agent's home and ``agent.toml``."""

    server: IngestServer
    snmpsim: Snmpsim
    home: Path
    config: Path

    @property
    def env(self) -> dict[str, str]:
        """The environment the agent runs with."""
        return {**os.environ, "SCM_AGENT_HOME": str(self.home)}


@contextmanager
def local_fleet(scratch: Path, agent: str, case: str, extra_toml: str = "") -> Iterator[Rig]:
    """Start everything under ``scratch``, enroll ``agent``, stop it all afterwards."""
    url = f"sqlite:///{scratch / 'ingest.sqlite'}"
    build_schema(url)
    server = IngestServer(database_url=url, instance=scratch / "instance")
    server.cli("customer", "create", CUSTOMER)
    snmpsim = start_snmpsim([PRINTERS], probe_community=case)
    server.start()
    try:
        home = scratch / "agent"
        token = server.cli("token", "create", "--customer", CUSTOMER).strip()
        rig = Rig(server, snmpsim, home, scratch / "agent.toml")
        subprocess.run(
            [agent, "enroll", "--server", server.url, "--token", token],
            env=rig.env,
            check=True,
            capture_output=True,
        )
        rig.config.write_text(
            f'[network]\ntargets = ["{snmpsim.endpoint}"]\n'
            f'[[credentials]]\nversion = "2c"\ncommunity = "{case}"\n{extra_toml}',
            encoding="utf-8",
        )
        yield rig
    finally:
        snmpsim.stop()
        server.stop()
