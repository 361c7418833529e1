"""The cache directory: used only when it is the user's own, every entry authenticated.

A cache that other users can write is a way to run their firmware under your name, so
before anything is read or written:

* the directory (``$QCONF_CACHE_DIR``, else ``$XDG_CACHE_HOME/qconf``, else
  ``~/.cache/qconf``) must belong to the user and be writable by nobody else; a symbolic
  link to it must be the user's (or root's) too;
* each folder in it (``machines``, ``runs``) must be a real directory with the same
  rights, never a symbolic link;
* ``key`` in it holds 32 random bytes, readable by the user alone, made once
  (exclusively, then linked into place, so that no run reads half a key).

Otherwise :class:`Refused` says why, and the cache is not used. Every entry starts with an
HMAC-SHA256 of its folder's name and its text under that key: an entry qconf did not
write, or one edited by hand, is a miss. Folders, the key and entries are opened relative
to the directory's descriptor without following links, and listing, pruning and clearing
look only at regular files named as qconf names its entries.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import json
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ("MAX_ENTRIES", "CacheFolder", "Entry", "Refused", "cache_dir", "code_fingerprint", "mac")

MAX_ENTRIES = 32
"""Entries kept in a folder; older ones are removed when a new one is written."""

KEY = "key"
KEY_BYTES = 32
_HEX = frozenset("0123456789abcdef")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO: no wait


class Refused(Exception):
    """The cache directory (or a folder or the key in it) cannot be trusted; the message
    says why, for ``--stats`` and ``qconf cache``."""


def cache_dir() -> Path:
    """``$QCONF_CACHE_DIR``, else ``$XDG_CACHE_HOME/qconf``, else ``~/.cache/qconf``."""
    env = os.environ.get("QCONF_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "qconf"


@cache
def code_fingerprint() -> list[Any]:
    """qconf's own code, as each module's path, size and modification time."""
    package = Path(__file__).resolve().parent.parent
    out: list[Any] = []
    stack = [package]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir() and entry.name != "__pycache__":
                    stack.append(Path(entry.path))
                elif entry.name.endswith(".py"):
                    st = entry.stat()
                    out.append([entry.path, st.st_size, st.st_mtime_ns])
    return out


@cache
def _sha256() -> Callable[[bytes], Any]:
    # the interpreter's own SHA-256: hashlib and hmac load OpenSSL, which costs a run
    # from the cache about 8 ms
    for name in ("_sha2", "_sha256"):
        with contextlib.suppress(ImportError):
            return importlib.import_module(name).sha256  # type: ignore[no-any-return]
    import hashlib  # pragma: no cover

    return hashlib.sha256  # pragma: no cover


def mac(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 of ``data`` under ``key`` (RFC 2104; as ``hmac.digest(key, data,
    "sha256")``)."""
    sha = _sha256()
    if len(key) > 64:
        key = sha(key).digest()
    key = key.ljust(64, b"\0")
    inner = sha(bytes(b ^ 0x36 for b in key))
    inner.update(data)
    outer = sha(bytes(b ^ 0x5C for b in key))
    outer.update(inner.digest())
    return outer.digest()  # type: ignore[no-any-return]


def _same(a: bytes, b: bytes) -> bool:
    # in time independent of where they differ
    return len(a) == len(b) and not sum(x ^ y for x, y in zip(a, b, strict=True))


def _trusted_dir(st: os.stat_result, path: Path) -> None:
    if not stat.S_ISDIR(st.st_mode):
        raise Refused(f"{path} is not a directory")
    if st.st_uid != os.geteuid():
        raise Refused(f"{path} belongs to another user")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise Refused(f"{path} is writable by others")


def _open_root(root: Path, create: bool) -> int:
    if create:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileNotFoundError):
        link = os.lstat(root)
        if stat.S_ISLNK(link.st_mode) and link.st_uid not in (os.geteuid(), 0):
            raise Refused(f"{root} is a symbolic link of another user")
    fd = os.open(root, _DIR_FLAGS)
    try:
        _trusted_dir(os.fstat(fd), root)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_key(root: int, path: Path) -> bytes:
    fd = os.open(KEY, _READ_FLAGS, dir_fd=root)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if (not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid()
                or st.st_mode & 0o077 or st.st_size != KEY_BYTES):  # fmt: skip
            raise Refused(f"{path / KEY} is not a key qconf made (a file of {KEY_BYTES} "
                          "bytes, yours, readable by you alone)")  # fmt: skip
        return f.read()


def _key(root: int, path: Path, create: bool) -> bytes:
    try:
        return _read_key(root, path)
    except FileNotFoundError:
        if not create:
            raise
    except OSError as exc:  # a link (ELOOP), a directory...
        raise Refused(f"{path / KEY} is not a key qconf made ({exc.strerror})") from None
    tmp = f".key-{os.urandom(8).hex()}"
    fd = os.open(tmp, _NEW_FLAGS, 0o600, dir_fd=root)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(KEY_BYTES))
        with contextlib.suppress(FileExistsError):  # another run made one first: use it
            os.link(tmp, KEY, src_dir_fd=root, dst_dir_fd=root)
    finally:
        os.unlink(tmp, dir_fd=root)
    return _read_key(root, path)


def _is_entry(name: str) -> bool:
    """Named as qconf names entries: 16 hex digits and ``.json``."""
    return len(name) == 21 and name.endswith(".json") and _HEX.issuperset(name[:16])


def _is_leftover(name: str) -> bool:
    """A temporary file of an unfinished write."""
    return name.startswith(".tmp-") and _is_entry(name[5:])


@dataclass(frozen=True)
class Entry:
    """One entry: its path, size and modification time."""

    path: Path
    size: int
    mtime_ns: int

    @property
    def name(self) -> str:
        return self.path.name


class CacheFolder:
    """One folder of the cache: entries named by a checksum of their key (an entry holds
    its whole key, so a collision is only a miss), authenticated, written atomically, the
    newest :data:`MAX_ENTRIES` kept.

    Every call opens and checks the directory again (a few system calls):

    :raises Refused: the directory, the folder or the key cannot be trusted.
    :raises OSError: they cannot be made (writing) or do not exist yet (reading).
    """

    def __init__(self, name: str, directory: Path | None = None) -> None:
        self.name = name
        self.root = directory or cache_dir()
        self.path = self.root / name

    @staticmethod
    def entry_name(key: Any) -> str:
        """The file name of the entry for ``key`` (JSON-ready)."""
        text = json.dumps(key).encode()
        return f"{zlib.crc32(text):08x}{zlib.adler32(text):08x}.json"

    @contextlib.contextmanager
    def _opened(self, create: bool, keyed: bool = True) -> Iterator[tuple[int, bytes]]:
        """The folder's descriptor, and the key (empty when not ``keyed``)."""
        root = _open_root(self.root, create)
        try:
            key = _key(root, self.root, create) if keyed else b""
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(self.name, 0o700, dir_fd=root)
            try:
                fd = os.open(self.name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=root)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    kind = os.lstat(self.name, dir_fd=root).st_mode
                    what = "a symbolic link" if stat.S_ISLNK(kind) else "not a directory"
                    raise Refused(f"{self.path} is {what}") from None
                raise
        finally:
            os.close(root)
        try:
            _trusted_dir(os.fstat(fd), self.path)
            yield fd, key
        finally:
            os.close(fd)

    def _sign(self, key: bytes, body: bytes) -> bytes:
        return mac(key, self.name.encode() + b"\0" + body).hex().encode()

    def read(self, key: Any) -> Any:
        """The data of the entry for ``key``; None when there is none, or it is not a
        regular file of the user's, or not authenticated (qconf did not write it)."""
        return self.read_name(self.entry_name(key))

    def read_name(self, name: str) -> Any:
        """The data of the entry called ``name`` (see :meth:`read`)."""
        try:
            with self._opened(create=False) as (folder, key):
                fd = os.open(name, _READ_FLAGS, dir_fd=folder)
                with os.fdopen(fd, "rb") as f:
                    st = os.fstat(fd)
                    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
                        return None
                    text = f.read()
        except OSError:  # none yet
            return None
        sign, _, body = text.partition(b"\n")
        if not _same(sign, self._sign(key, body)):
            return None
        try:
            return json.loads(body)
        except ValueError:  # signed, yet not JSON: a miss like any other
            return None

    def write(self, key: Any, data: Any) -> None:
        """Save ``data`` (JSON-ready) as the entry for ``key``, and remove the oldest
        entries beyond :data:`MAX_ENTRIES`."""
        body = json.dumps(data, separators=(",", ":")).encode()
        name = self.entry_name(key)
        with self._opened(create=True) as (folder, secret):
            tmp = f".tmp-{os.urandom(8).hex()}.json"
            fd = os.open(tmp, _NEW_FLAGS, 0o600, dir_fd=folder)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(self._sign(secret, body) + b"\n" + body)
                os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=folder)
                raise
            for old in self._entries(folder)[:-MAX_ENTRIES]:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(old.name, dir_fd=folder)

    def _entries(self, folder: int, match: Callable[[str], bool] = _is_entry) -> list[Entry]:
        found = []
        with os.scandir(folder) as listing:
            for item in listing:
                if not match(item.name) or not item.is_file(follow_symlinks=False):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    st = item.stat(follow_symlinks=False)
                    if st.st_uid == os.geteuid():
                        found.append(Entry(self.path / item.name, st.st_size, st.st_mtime_ns))
        return sorted(found, key=lambda e: (e.mtime_ns, e.path))

    def entries(self) -> list[Entry]:
        """The entries, oldest first (none when the folder does not exist yet)."""
        try:
            with self._opened(create=False, keyed=False) as (folder, _):
                return self._entries(folder)
        except FileNotFoundError:
            return []

    def clear(self) -> int:
        """Remove every entry (and what unfinished writes left); returns how many entries
        there were. Nothing else is touched, and no link is followed."""
        try:
            with self._opened(create=False, keyed=False) as (folder, _):
                entries = self._entries(folder)
                leftovers = self._entries(folder, _is_leftover)
                for entry in (*entries, *leftovers):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.name, dir_fd=folder)
                return len(entries)
        except FileNotFoundError:
            return 0
