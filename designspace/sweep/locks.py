"""One writer per output folder: ``OUT/.designspace.lock``.

A sweep or study holds an exclusive ``flock`` on the lock file while it writes into ``OUT``;
the file names the holder (host, pid, start time, command) for the message a second writer
gets. The kernel releases the lock when the holder's process ends in any way (SIGKILL too), so
a lock left by a dead process is taken over without asking; the file itself is removed by the
holder on a normal exit. A second writer is refused with the holder's name, or waits for it
(``wait=True``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from designspace.errors import DesignSpaceError

LOCK_NAME = ".designspace.lock"
_WAIT_POLL_S = 0.5


def _holder_text(path: Path) -> str:
    try:
        info = json.loads(path.read_text())
        return (
            f"pid {info.get('pid')} on host {info.get('host')}, since {info.get('started')}"
            f" ({info.get('command', '?')})"
        )
    except (OSError, ValueError, AttributeError):
        return "another process"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def out_lock(
    out: str | Path,
    *,
    wait: bool = False,
    command: str = "designspace",
    say: Callable[[str], None] | None = None,
) -> Iterator[Path]:
    """Hold the writer's lock of folder ``out`` (created if missing) for the block.

    Refuses (DesignSpaceError naming the holder) when another live process holds it, or with
    ``wait`` waits until it is free. ``command`` is recorded for other writers' messages;
    ``say`` receives one-line notices (waiting, a stale lock taken over; default: stderr).
    A folder created here is removed again if it is empty when the block ends.
    """
    say = say or (lambda m: print(m, file=sys.stderr, flush=True))
    out = Path(out)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DesignSpaceError(
            f"cannot create the output folder {out}: {exc.strerror or exc}; choose another --out"
        ) from None
    path = out / LOCK_NAME
    fd = _acquire(path, wait, say)
    try:
        info = {"host": socket.gethostname(), "pid": os.getpid(), "command": command,
                "started": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only when empty: nothing was written


def _acquire(path: Path, wait: bool, say: Callable[[str], None]) -> int:
    """An open descriptor of ``path`` holding its exclusive flock."""
    announced = False
    while True:
        try:
            # Again each time: a holder we waited for removes the folder it created if empty.
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DesignSpaceError(
                f"cannot create the lock file {path}: {exc.strerror or exc}; choose another --out"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise DesignSpaceError(f"cannot lock {path}: {exc.strerror or exc}") from None
            holder = _holder_text(path)
            if not wait:
                raise DesignSpaceError(
                    f"{path.parent} is in use by {holder}; wait for it to finish, or pass "
                    f"--wait to wait for it"
                ) from None
            if not announced:
                say(f"waiting for {holder} to release {path.parent} ...")
                announced = True
            time.sleep(_WAIT_POLL_S)
            continue
        # The holder we waited for may have removed the file after we opened it: lock the
        # file that is at the path now, not an unlinked one.
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            continue
        _note_stale(path, say)
        return fd


def _note_stale(path: Path, say: Callable[[str], None]) -> None:
    """Say so when the lock file names a holder that is gone (its process ended without
    removing the file: killed, or its machine went down)."""
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return
    if not isinstance(info, dict) or "pid" not in info:
        return
    host, pid = info.get("host"), info.get("pid")
    if host == socket.gethostname() and isinstance(pid, int) and not _pid_alive(pid):
        say(f"note: taking over the lock of pid {pid} (no longer running) on {path.parent}")
    elif host != socket.gethostname():
        say(f"note: taking over the lock of pid {pid} on host {host}, which no longer holds it")
