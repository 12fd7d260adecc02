"""Fixtures shared across the suite.

``snmpsim`` is one snmpsim process per test session (it takes ~3 s to start) serving the real
printer captures in ``tests/fixtures/printers`` and the hostile ones in
``tests/fixtures/garbage``; the SNMP community picks the file (``librenms__sharp``,
``ident/librenms__kyocera``, ``garbage__huge``).

The repository root goes on ``sys.path`` first thing: pytest puts ``tests/`` there, and
``tests/agent`` / ``tests/shared`` (no ``__init__.py``) would otherwise shadow the real
``agent`` and ``shared`` packages as empty namespace packages, since the editable install's
finder only runs after the path finder.  A regular package found anywhere on the path wins.
"""

import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

import pytest  # noqa: E402
from support.database import (  # noqa: E402
    build_schema,
    drop_worker_database,
    empty_tables,
    test_database_url,
)
from support.snmpsim import Snmpsim, start_snmpsim  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
PRINTER_FIXTURES = FIXTURES / "printers"
GARBAGE_FIXTURES = FIXTURES / "garbage"
SIMULATED_FIXTURES = FIXTURES / "simulated"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-only",
        action="store_true",
        help="only the tests whose outcome can depend on the database backend: those that use "
        "the test database, but for the agent_side ones (CI's PostgreSQL pass)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--database-only``: CI runs the whole suite on SQLite, then again on PostgreSQL only
    what the database can change; a test that never opens it, or that tests the agent against
    a server, would pass or fail the same way twice."""
    if not config.getoption("--database-only"):
        return
    kept, skipped = [], []
    for item in items:
        uses_database = "migrated_url" in getattr(item, "fixturenames", ())
        agent_side = item.get_closest_marker("agent_side") is not None
        (kept if uses_database and not agent_side else skipped).append(item)
    config.hook.pytest_deselected(items=skipped)
    items[:] = kept


@pytest.fixture(scope="session")
def snmpsim() -> Iterator[Snmpsim]:
    server = start_snmpsim(
        [PRINTER_FIXTURES, GARBAGE_FIXTURES, SIMULATED_FIXTURES], probe_community="librenms__epson"
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test database (SQLite, or PostgreSQL from SCM_TEST_DATABASE_URL), migrated once."""
    url = test_database_url(tmp_path_factory.mktemp("db"))
    build_schema(url)
    yield url
    drop_worker_database(url)


@pytest.fixture
def database_url(migrated_url: str) -> str:
    """The test database with every table emptied for this test."""
    empty_tables(migrated_url)
    return migrated_url
