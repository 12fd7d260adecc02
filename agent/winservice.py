"""The agent as a Windows service (pywin32), run by the one-file ``scm-agent.exe``.

``scm-agent service install`` registers the service ``SCMAgent`` (automatic start, LocalSystem)
with the command line ``"scm-agent.exe" service run``; the service manager then starts that
command, which hands control to pywin32's dispatcher.  ``SvcDoRun`` runs the same scheduler as
``scm-agent run`` and ``SvcStop`` sets its stop event, so a service stop is the same clean
shutdown as SIGTERM on Linux.  Logs go to ``%ProgramData%\\SCM Agent\\logs\\agent.log``
(rotated), since a service has no console.

pywin32 exists only on Windows: this module imports cleanly everywhere (the tests import it on
Linux) and only :func:`control` needs it.  ``installers/windows/install.ps1`` drives the install.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Final

SERVICE_NAME: Final = "SCMAgent"
DISPLAY_NAME: Final = "SCM printer-fleet agent"
DESCRIPTION: Final = "Reads the printers on this network and sends their counters to SCM."

try:  # pragma: no cover - Windows only
    import servicemanager  # type: ignore[import-not-found]
    import win32event  # type: ignore[import-not-found]
    import win32service  # type: ignore[import-not-found]
    import win32serviceutil  # type: ignore[import-not-found]

    HAVE_PYWIN32 = True
except ImportError:
    HAVE_PYWIN32 = False


def run_service_body(stop: threading.Event) -> None:
    """What the service does between start and stop (shared with tests on any platform)."""
    from agent.config import load_local
    from agent.scheduler import run_until_stopped
    from agent.service import Service
    from agent.service_cli import setup_logging
    from agent.state import AgentHome, default_home

    home = AgentHome(default_home())
    local = load_local()
    setup_logging(local.log_level, home.path / "logs" / "agent.log")
    run_until_stopped(Service(home, local), stop, handle_signals=False)


def control(action: str) -> int:
    """``install``, ``remove``, ``start``, ``stop`` or ``run`` (the service manager's entry)."""
    if not HAVE_PYWIN32:
        sys.stderr.write("scm-agent: error: pywin32 is not available in this build\n")
        return 1
    service_class = _service_class()
    if action == "run":
        servicemanager.Initialize()
        servicemanager.PrepareToHostSingle(service_class)
        servicemanager.StartServiceCtrlDispatcher()
        return 0
    if action == "install":
        win32serviceutil.InstallService(
            None,
            SERVICE_NAME,
            DISPLAY_NAME,
            startType=win32service.SERVICE_AUTO_START,
            exeName=sys.executable,
            exeArgs="service run",
            description=DESCRIPTION,
        )
        return 0
    operations = {
        "remove": win32serviceutil.RemoveService,
        "start": win32serviceutil.StartService,
        "stop": win32serviceutil.StopService,
    }
    operations[action](SERVICE_NAME)
    return 0


def _service_class() -> type[Any]:  # pragma: no cover - Windows only
    """The pywin32 service class, defined only where pywin32 exists."""

    class ScmAgentService(win32serviceutil.ServiceFramework):  # type: ignore[misc]
        _svc_name_ = SERVICE_NAME
        _svc_display_name_ = DISPLAY_NAME
        _svc_description_ = DESCRIPTION

        def __init__(self, args: Any) -> None:
            super().__init__(args)
            self.stop_event = threading.Event()
            self.wake = win32event.CreateEvent(None, 0, 0, None)

        def SvcStop(self) -> None:  # noqa: N802 - pywin32's name
            self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING)
            self.stop_event.set()
            win32event.SetEvent(self.wake)

        def SvcDoRun(self) -> None:  # noqa: N802 - pywin32's name
            servicemanager.LogInfoMsg(f"{SERVICE_NAME} starting")
            run_service_body(self.stop_event)
            servicemanager.LogInfoMsg(f"{SERVICE_NAME} stopped")

    return ScmAgentService
