"""Private data files (the SQLite database, API tokens): owner-only, mode 0600, whatever the umask."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)
PRIVATE = 0o600


def create_private(path: Path) -> bool:
    """Creates ``path`` empty with mode 0600 unless it exists; returns whether it was created. An existing
    file keeps its mode, with a warning if others may read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        warn_if_shared(path)
        return False
    try:
        os.fchmod(fd, PRIVATE)  # the umask may have removed owner bits too
    finally:
        os.close(fd)
    return True


def write_private(path: Path, text: str) -> None:
    """Writes ``text`` to ``path``, leaving it with mode 0600 (an existing file is tightened first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        os.fchmod(fd, PRIVATE)
        stream.write(text)


def warn_if_shared(path: Path) -> None:
    """Logs a warning if group or others have any access to ``path``."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("%s is accessible to other users (mode %04o); restrict it with `chmod 600 %s`", path, mode, path)
