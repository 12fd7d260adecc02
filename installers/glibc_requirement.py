"""The highest GLIBC_ symbol version an executable needs from the host's C library.

    python installers/glibc_requirement.py dist/scm-agent [--max 2.17]

What decides whether a Linux binary starts on an older distribution (RHEL/CentOS 7 has glibc
2.17) is the newest ``GLIBC_x.y`` version its ELF version-needs table asks of the host.  The
shipped one-file agent is a staticx executable: statically linked, carrying its own loader and
C library, so it asks the host for none (printed ``glibc_max=none``); a dynamically linked input
reports the newest version it names.  A bare PyInstaller one-file is not a fair input: only its
bootloader is read, not the libpython it unpacks and links against the host's glibc at run
time.  With ``--max`` the exit status says whether the binary keeps the baseline (CI runs it
on every build).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from elftools.elf.elffile import ELFFile


def glibc_versions(path: Path) -> list[tuple[int, ...]]:
    """Every GLIBC_ version the ELF file needs from a shared C library, newest last."""
    with path.open("rb") as handle:
        elf = ELFFile(handle)
        section = elf.get_section_by_name(".gnu.version_r")
        if section is None:  # statically linked: nothing is asked of the host
            return []
        names = {aux.name for _need, auxes in section.iter_versions() for aux in auxes}
    return sorted(_parse(name) for name in names if name.startswith("GLIBC_") and _parse(name))


def glibc_max(path: Path) -> str:
    """``2.17``-style text of the newest version needed, or ``none``."""
    versions = glibc_versions(path)
    return ".".join(map(str, versions[-1])) if versions else "none"


def _parse(name: str) -> tuple[int, ...]:
    parts = name.removeprefix("GLIBC_").split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else ()


def main() -> int:
    """Print ``glibc_max=...``; with ``--max``, fail when the binary needs anything newer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", type=Path)
    parser.add_argument("--max", help="the newest version allowed, e.g. 2.17")
    args = parser.parse_args()
    found = glibc_max(args.binary)
    print(f"glibc_max={found}")
    if args.max and found != "none" and _parse(f"GLIBC_{found}") > _parse(f"GLIBC_{args.max}"):
        print(f"{args.binary} needs glibc {found} from the host: over the {args.max} baseline")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
