"""Files the ledger keeps under its home are private: mode 0600 (directories 0700) whatever the umask.

They hold keys (accounts file, API tokens), the chain itself (its state snapshot), the SQLite database, where
the node listens and what it logged; nothing there is for other local users. Writes of whole files are atomic
(temp file, fsync, rename, fsync of the directory), so a crash leaves the old content or the new, never part
of it. Standard library only: the chain keeper process imports this.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)
PRIVATE = 0o600


def write_private(path: Path, data: bytes | str) -> None:
    """Replaces ``path`` with ``data`` (text is written as UTF-8) atomically, mode 0600."""
    raw = data.encode() if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)  # the umask may have removed owner bits too
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def open_private_append(path: Path) -> IO[bytes]:
    """Opens a log file for appending; it is created (or made) mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE)
    os.fchmod(fd, PRIVATE)
    return os.fdopen(fd, "ab")


def create_private(path: Path) -> bool:
    """Creates ``path`` empty with mode 0600 unless it exists (for files a library creates, e.g. SQLite's);
    returns whether it was created. An existing file keeps its mode, with a warning if others may read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        warn_if_shared(path)
        return False
    try:
        os.fchmod(fd, PRIVATE)
    finally:
        os.close(fd)
    return True


def make_private_dir(path: Path) -> None:
    """Creates ``path`` (and parents) and makes it 0700."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def warn_if_shared(path: Path) -> None:
    """Logs a warning if group or others have any access to ``path``."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("%s is accessible to other users (mode %04o); restrict it with `chmod 600 %s`", path, mode, path)
