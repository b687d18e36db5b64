"""The output folder of an experiment: one writer at a time, paths kept inside, files replaced atomically.

* :class:`OutputLock` - an exclusive, non-blocking ``flock`` on ``<out>/.rewardkit.lock``,
  held for the whole of ``rewardkit run``.  A second run on the same folder fails at once
  with an :class:`~rewardkit.core.errors.OutputError` naming the folder and the holder's
  pid, instead of training the same runs twice.  The kernel drops the lock when the
  holder exits, however it exits, so a killed run never leaves a stale lock.
* :func:`inside` - the path ``out / part / ...`` after checking that it resolves inside
  ``out`` (a variant name never writes elsewhere; names are also validated by the spec).
* :func:`atomic_write` - write to a temporary file in the same folder, ``fsync``, then
  ``os.replace``: a reader sees the old file or the new one, never a partial one, and a
  full disk leaves the old file in place (and no temporary file behind).

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with OutputLock(out):
    ...     p = atomic_write(inside(out, "summary.md"), "| variant |\\n")
    >>> p.read_text(), sorted(x.name for x in out.iterdir())
    ('| variant |\\n', ['.rewardkit.lock', 'summary.md'])
    >>> inside(out, "..", "elsewhere")
    Traceback (most recent call last):
    ...
    rewardkit.core.errors.OutputError: ../elsewhere: leaves the output folder ...; expected ...
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from rewardkit.core.errors import OutputError

__all__ = ["LOCK_NAME", "OutputLock", "atomic_write", "inside"]

#: the lock file inside the output folder
LOCK_NAME = ".rewardkit.lock"


def inside(out: str | os.PathLike, *parts: str) -> Path:
    """``Path(out, *parts)``, or an :class:`OutputError` when it would resolve outside ``out``."""
    root = Path(out).resolve()
    path = Path(out, *parts)
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise OutputError("/".join(parts), f"leaves the output folder {root}", "a name without '..' or '/'")
    return path


def atomic_write(path: str | os.PathLike, data: str | bytes) -> Path:
    """Replace ``path`` with ``data`` atomically (text is UTF-8); return ``path``.

    On any error (e.g. ``ENOSPC``) the temporary file is removed, ``path`` keeps its old
    content, and the error propagates.
    """
    p = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        try:
            view = memoryview(raw)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are meant to be shared like any written file
        os.replace(tmp, p)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError) and e.filename is None and e.errno is not None:  # name the file we were writing
            raise OSError(e.errno, e.strerror, str(p)) from None
        raise
    return p


class OutputLock:
    """Exclusive lock on an output folder (see the module docstring); a context manager.

    ``acquire`` creates the folder if needed and raises :class:`OutputError` if another
    process holds the lock.  On platforms without ``fcntl`` it uses ``msvcrt.locking``.
    """

    def __init__(self, out: str | os.PathLike):
        self.out = Path(out)
        self.path = self.out / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> OutputLock:
        self.out.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock(fd)
        except OSError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (pid {holder})" if holder else ""
            raise OutputError(str(self.out), f"in use by another rewardkit run{who}",
                              "a different --out, or wait until that run ends") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except (OSError, AttributeError):  # pragma: no cover - no pread
        return None
    return int(text) if text.isdigit() else None
