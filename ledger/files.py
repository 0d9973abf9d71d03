"""Files the ledger keeps under its home are private: mode 0600 (directories 0700) whatever the umask.

They hold keys (accounts file), the chain itself (its state snapshot), where the node listens and what it
logged; nothing there is for other local users. Writes of whole files are atomic (temp file, fsync,
rename, fsync of the directory), so a crash leaves the old content or the new, never part of it.
Standard library only: the chain keeper process imports this.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO


def write_private(path: Path, data: bytes) -> None:
    """Replaces ``path`` with ``data`` atomically, mode 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
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
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab")


def touch_private(path: Path) -> None:
    """Creates ``path`` empty, mode 0600, unless it exists (for files a library creates, e.g. SQLite's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    os.chmod(path, 0o600)


def make_private_dir(path: Path) -> None:
    """Creates ``path`` (and parents) and makes it 0700."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
