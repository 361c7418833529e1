"""Rewriting a user's file safely: locked (``flock``) from the read to the rename, the
new text in a fresh temporary file beside the target (``O_EXCL``) with the file's mode
and owner, renamed over it; a failure leaves the file as it was and no temporary file."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from qconf.config.origin import Origin
from qconf.errors import EditError

__all__ = ("locked", "replace")


@contextlib.contextmanager
def locked(fd: int, target: Path, origin: Origin, exclusive: bool) -> Iterator[os.stat_result]:
    """Hold an advisory lock on the file open at ``fd``; its status once locked.

    The lock is on the file (the inode): a writer that renames a new file over it
    releases waiters onto a file that is no longer there, so each checks that the path
    still names the file it locked, and locks the new one if not."""
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
    except OSError as exc:
        raise _write_error(exc, target, origin, "cannot lock") from None
    while True:  # each turn, another edit was written: the queue moves on
        st = os.fstat(fd)
        try:
            now = os.stat(target)
        except FileNotFoundError:
            now = None
        if now is not None and (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
            yield st
            return
        # another qconf set renamed its edit over the file while this one waited: lock
        # the new file instead (the caller's descriptor is swapped for it)
        try:
            new_fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise EditError(
                f"the file went away while waiting for another edit: {exc.strerror or exc}",
                code="E506",
                origin=origin,
                hint="nothing was written",
            ) from None
        os.dup2(new_fd, fd)
        os.close(new_fd)
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)


def replace(target: Path, text: str, st: os.stat_result, origin: Origin) -> None:
    """Write ``text`` to a new file beside ``target`` and rename it over ``target``,
    keeping the mode and owner of ``st``; on failure nothing is left behind."""
    data = text.encode("utf-8")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".qconf-tmp",
                                   dir=target.parent)  # fmt: skip
    except OSError as exc:
        raise _write_error(exc, target, origin) from None
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            os.fchmod(fd, st.st_mode & 0o7777)
            if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                os.fchown(fd, st.st_uid, st.st_gid)
        finally:
            os.close(fd)
        now = os.stat(target)
        if (now.st_ino, now.st_size, now.st_mtime_ns) != (st.st_ino, st.st_size, st.st_mtime_ns):
            raise EditError(
                "the file was changed by another program while qconf set edited it",
                code="E506",
                origin=origin,
                hint="nothing was written; run qconf set again to edit the new contents",
            )
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _write_error(exc, target, origin) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself, on disk
        dfd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _write_error(
    exc: OSError, target: Path, origin: Origin, what: str = "cannot write"
) -> EditError:
    """E505 for a failed write: why, and how to fix it; the file is untouched."""
    directory = target.parent
    hints = {
        errno.EACCES: f"qconf set writes a new file in {directory} and renames it over the "
        "old one: make the directory writable, or edit a copy",
        errno.EPERM: "qconf set keeps the file's owner and mode: run it as the file's owner, "
        "or edit a copy",
        errno.EROFS: f"{directory} is on a read-only file system: edit a copy elsewhere",
        errno.ENOSPC: f"the disk holding {directory} is full: free some space",
        errno.EDQUOT: f"your disk quota for {directory} is used up: free some space",
        errno.EFBIG: "the edited file is larger than the file size limit (ulimit -f)",
    }
    return EditError(
        f"{what} the edited file: {exc.strerror or exc}; the file is unchanged",
        code="E505",
        origin=origin,
        hint=hints.get(exc.errno or 0),
    )
