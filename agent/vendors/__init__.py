"""Vendor knowledge, one module per vendor, registered by discovery.

Every module in this package that defines ``PROFILE`` (a :class:`VendorProfile`) is a vendor;
adding a vendor is adding a file here (and its fixture), nothing else.  ``profile`` holds the
data types and ``engine`` the one generic reader of them.  A frozen build (PyInstaller) must
collect the package's submodules (``collect_submodules("agent.vendors")``) for discovery to see
them.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Final

from agent.vendors.profile import VendorProfile

_NOT_VENDORS: Final = frozenset({"engine", "profile"})


def _discover() -> tuple[VendorProfile, ...]:
    profiles: list[VendorProfile] = []
    for module_info in pkgutil.iter_modules(__path__):
        name = module_info.name
        if name.startswith("_") or name in _NOT_VENDORS:
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        profile = getattr(module, "PROFILE", None)
        if isinstance(profile, VendorProfile):
            profiles.append(profile)
    return tuple(sorted(profiles, key=lambda profile: profile.key))


PROFILES: Final[tuple[VendorProfile, ...]] = _discover()


def by_key(key: str) -> VendorProfile | None:
    """The profile with this key (``"hp"``, ``"brother"``, ...), or None."""
    return next((profile for profile in PROFILES if profile.key == key), None)
