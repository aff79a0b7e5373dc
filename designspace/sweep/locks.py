"""One writer per output folder: ``OUT/.designspace.lock``.

A sweep or study holds an exclusive ``flock`` on the lock file while it writes into ``OUT``;
the file names the holder (host, pid, start time, command) for the message a second writer
gets. The kernel releases the lock when the holder's process ends in any way (SIGKILL too), so
a lock left by a dead process is taken over without asking; the file itself is removed by the
holder on a normal exit. A second writer is refused with the holder's name, or waits for it
(``wait=True``).

The lock file is read through :mod:`designspace.core.reading` (at most :data:`LOCK_LIMIT`
bytes, never blocking). A lock file that names no holder (empty, cut short, not JSON) is stale
and taken over; one that cannot be a lock file designspace wrote (a symbolic link, a FIFO, a
device, a folder, over :data:`LOCK_LIMIT`) is refused in one line and left as it is, so that a
user's file under that name is never truncated.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import stat
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from designspace.core import reading
from designspace.errors import DesignSpaceError

LOCK_NAME = ".designspace.lock"
#: The largest lock file read (bytes); the one designspace writes is one line of about 150.
LOCK_LIMIT = 64 << 10
_WAIT_POLL_S = 0.5


def _holder_info(path: Path) -> dict | None:
    """The holder's record in the lock file; None when there is none to read (no file, empty,
    cut short, not JSON, not a regular file or over :data:`LOCK_LIMIT`)."""
    try:
        text = reading.read_text(path, "lock file", LOCK_LIMIT)
        info = reading.parse_json(text, f"lock file {path}", max_depth=4)
    except DesignSpaceError:
        return None
    return info if isinstance(info, dict) else None


def _holder_text(path: Path) -> str:
    info = _holder_info(path)
    if info is None:
        return "another process"
    return (
        f"pid {info.get('pid')} on host {info.get('host')}, since {info.get('started')}"
        f" ({info.get('command', '?')})"
    )[:300]


def _not_a_lock(path: Path, st: os.stat_result) -> str | None:
    """Why the file at ``path`` (``st``: its lstat) cannot be a lock file designspace wrote;
    None when it may be one."""
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link"
    if not stat.S_ISREG(st.st_mode):
        return reading.describe_mode(st.st_mode)
    if st.st_size > LOCK_LIMIT:
        size, limit = reading.format_size(st.st_size), reading.format_size(LOCK_LIMIT)
        return f"{size}, over the {limit} a lock file may have"
    return None


def _refuse_foreign(path: Path, why: str) -> DesignSpaceError:
    return DesignSpaceError(
        f"{path} is {why}, not a lock file designspace wrote; it is left as it is: move it "
        f"away (or choose another --out) and rerun"
    )


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
            with contextlib.suppress(FileNotFoundError):
                why = _not_a_lock(path, os.lstat(path))
                if why is not None:
                    raise _refuse_foreign(path, why)
            # O_NOFOLLOW and O_NONBLOCK: a link or FIFO put there since the check never
            # opens its target nor hangs; the descriptor is checked again below.
            flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
            fd = os.open(path, flags, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a link put there after the check
                raise _refuse_foreign(path, "a symbolic link") from None
            raise DesignSpaceError(
                f"cannot create the lock file {path}: {exc.strerror or exc}; choose another --out"
            ) from None
        why = _not_a_lock(path, os.fstat(fd))
        if why is not None:
            os.close(fd)
            raise _refuse_foreign(path, why)
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
    info = _holder_info(path)
    if info is None or "pid" not in info:
        return
    host, pid = info.get("host"), info.get("pid")
    if host == socket.gethostname() and isinstance(pid, int) and not _pid_alive(pid):
        say(f"note: taking over the lock of pid {pid} (no longer running) on {path.parent}")
    elif host != socket.gethostname():
        say(f"note: taking over the lock of pid {pid} on host {host}, which no longer holds it")
