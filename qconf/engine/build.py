"""``qconf engine build``: Unicorn with its slow store path fixed and qconf's inline
instruction counter, as a wheel.

The steps, each named as it starts (the compile shows its percentage):

1. check the tools: cmake, make, a C compiler, patch (:class:`~qconf.errors.ToolError`
   E810 names every one missing, with its Debian package);
2. download Unicorn's source distribution of :data:`UNICORN_VERSION` from the package
   index (``pip download``, E811) and check its SHA-256 (E812);
3. unpack it and apply :data:`PATCHES` in order (E813);
4. compile the library for :data:`ARCHS` only, with cmake (E814; the log is kept);
5. make the wheel with pip, the library just built in place of Unicorn's own build of
   every architecture, versioned ``2.1.4+qconf.N`` (:func:`version`, E814);
6. with ``install``, install it into this environment with pip (E815).

A wheel built before from the same source, patch and architectures is reused (its
``.json`` record says what went into it) unless ``rebuild`` is set.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from qconf.engine import LABEL
from qconf.errors import ToolError

__all__ = ("ARCHS", "PATCHES", "REVISION", "UNICORN_VERSION", "Progress", "build", "version")

UNICORN_VERSION = "2.1.4"
"""The Unicorn release the patch is written for (``unicorn>=2.1.4,<2.2`` in qconf's
requirements admits ``2.1.4+qconf.N``)."""

SDIST_SHA256 = "00567a70e323f749b419cd86bee4f9115beab7ebba32194581c090cbb7c59cff"
"""``unicorn-2.1.4.tar.gz`` as published on PyPI."""

PATCHES = (
    Path(__file__).with_name("store-fastpath.patch"),
    Path(__file__).with_name("inline-counting.patch"),
)
"""The patches, applied in this order (``git format-patch`` files, see NOTE.md):
stores to RAM without code take the fast path (offered upstream as is); the inline
instruction counter and lean memory accesses qconf asks for (``uc_qconf_counter``,
``uc_qconf_lean_memory``; off unless asked)."""

REVISION = 2
"""The patches' revision, the ``N`` of ``2.1.4+qconf.N``: raised whenever a patch
changes (a test pins the patches' checksums to remind)."""

ARCHS = ("riscv", "arm", "aarch64")
"""The architectures qconf runs (Unicorn's ``UNICORN_ARCH`` cmake setting)."""

LIBRARY = "libunicorn.so.2"

TOOLS = (
    # (what, programs that will do, Debian package)
    ("cmake", ("cmake",), "cmake"),
    ("make", ("make",), "make"),
    ("a C compiler", ("cc", "gcc", "clang"), "gcc"),
    ("patch", ("patch",), "patch"),
)


def version() -> str:
    """The version of the wheels this qconf builds: ``2.1.4+qconf.2``."""
    return f"{UNICORN_VERSION}+{LABEL}.{REVISION}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Progress:
    """What the build tells the user on ``stream`` (stderr): one line per step and, while
    compiling, the percentage, rewritten in place on a terminal (``live``), else a line
    every tenth."""

    def __init__(self, stream: IO[str], live: bool) -> None:
        self.stream = stream
        self.live = live
        self.started = time.monotonic()
        self.shown = -1
        self.steps = 6

    def step(self, number: int, text: str) -> None:
        self._end_live()
        self._write(f"qconf engine: [{number}/{self.steps}] {text}\n")

    def percent(self, value: int) -> None:
        if self.live:
            if value != self.shown:
                self._write(f"\r\x1b[K  compiling: {value}%")
                self.shown = value
        elif value // 10 > self.shown // 10:
            self._write(f"  compiling: {value}%\n")
            self.shown = value

    def note(self, text: str) -> None:
        self._end_live()
        self._write(f"qconf engine: {text}\n")

    def elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"

    def _end_live(self) -> None:
        if self.live and self.shown >= 0:
            self._write("\r\x1b[K")
        self.shown = -1

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def missing_tools(environ: dict[str, str] | None = None) -> list[str]:
    """What the build needs and this machine lacks, each with its Debian package
    (``$CC`` counts as the C compiler when set)."""
    env = os.environ if environ is None else environ
    missing = []
    for what, programs, package in TOOLS:
        if what == "a C compiler" and env.get("CC") and shutil.which(env["CC"].split()[0]):
            continue
        if not any(shutil.which(p) for p in programs):
            missing.append(f"{what} (apt-get install {package})")
    return missing


def build(
    output: Path | None = None,
    *,
    install: bool = False,
    sdist: Path | None = None,
    rebuild: bool = False,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> Path:
    """Build the store-fix wheel into ``output`` (a folder, made if needed; by default
    ``engine`` in qconf's cache folder), or reuse the one built there before; with
    ``install``, install it into this Python environment. Returns the wheel's path.

    :param sdist: Unicorn's source distribution to use instead of downloading it.
    :param jobs: parallel compile jobs (default: the number of CPUs).
    :raises ToolError: a tool is missing (E810), the download fails (E811), the source
        is not the one the patch is for (E812), the patch does not apply (E813), the
        compile or the wheel fails (E814), or pip cannot install the wheel (E815).
    """
    say = progress or Progress(sys.stderr, live=False)
    say.steps = 6 if install else 5
    if output is None:
        from qconf.cache.folder import cache_dir

        output = cache_dir() / "engine"
    output.mkdir(parents=True, exist_ok=True)
    record = {"unicorn": UNICORN_VERSION, "version": version(), "sdist_sha256": SDIST_SHA256,
              "patch_sha256": [_sha256(p) for p in PATCHES], "archs": list(ARCHS)}  # fmt: skip
    wheel = _reusable(output, record) if not rebuild else None
    if wheel is not None:
        say.note(f"reusing {wheel} (built before from the same source and patch; "
                 "--rebuild builds it again)")  # fmt: skip
    else:
        wheel = _build(output, record, sdist, jobs or os.cpu_count() or 1, say)
    if install:
        say.step(6, f"installing {wheel.name} into {sys.prefix}")
        say.note(f"installed; this environment's engine: {_install(wheel)}")
    return wheel


def _reusable(output: Path, record: dict[str, Any]) -> Path | None:
    for meta in sorted(output.glob(f"unicorn-{version()}-*.json")):
        try:
            if json.loads(meta.read_text()) == record and meta.with_suffix(".whl").exists():
                return meta.with_suffix(".whl")
        except (OSError, ValueError):
            continue
    return None


def _build(output: Path, record: dict[str, Any], sdist: Path | None, jobs: int,
           say: Progress) -> Path:  # fmt: skip
    say.step(1, "checking the tools: cmake, make, a C compiler, patch")
    missing = missing_tools()
    if missing:
        raise ToolError(
            f"building the engine needs {', '.join(missing)}", code="E810",
            hint="install them, then run qconf engine build again",
        )  # fmt: skip
    log = output / "build.log"
    with tempfile.TemporaryDirectory(prefix="qconf-engine-") as tmp, log.open("w") as logf:
        work = Path(tmp)
        if sdist is None:
            say.step(2, f"downloading Unicorn {UNICORN_VERSION}'s source (pip download)")
            sdist = _download(work, logf, log)
        else:
            say.step(2, f"using Unicorn's source from {sdist}")
        if _sha256(sdist) != SDIST_SHA256:
            raise ToolError(
                f"{sdist} is not Unicorn {UNICORN_VERSION}'s source distribution as "
                "published on PyPI (its SHA-256 differs)", code="E812",
                hint=f"the patch is written for unicorn-{UNICORN_VERSION}.tar.gz, SHA-256 "
                f"{SDIST_SHA256}",
            )  # fmt: skip
        say.step(3, f"unpacking and applying {', '.join(p.name for p in PATCHES)}")
        top = _unpack(sdist, work)
        for each in PATCHES:
            apply = ["patch", "-p1", "--forward", "--batch", "-d", str(top / "src"), "-i",
                     str(each)]  # fmt: skip
            _run(apply, logf, log, "E813", f"{each.name} does not apply to Unicorn "
                 f"{UNICORN_VERSION}")  # fmt: skip
        say.step(4, f"compiling Unicorn for {', '.join(ARCHS)} with cmake ({jobs} jobs); "
                    "this takes minutes")  # fmt: skip
        cmake = work / "cmake"
        configure = ["cmake", "-S", str(top / "src"), "-B", str(cmake),
                     "-DCMAKE_BUILD_TYPE=Release", f"-DUNICORN_ARCH={';'.join(ARCHS)}",
                     "-DUNICORN_BUILD_TESTS=OFF", "-DUNICORN_INSTALL=OFF"]  # fmt: skip
        _run(configure, logf, log, "E814", "cmake cannot configure Unicorn")
        _run(["cmake", "--build", str(cmake), "-j", str(jobs)], logf, log, "E814",
             "compiling Unicorn failed", say)  # fmt: skip
        prebuilt = top / "prebuilt"
        prebuilt.mkdir(exist_ok=True)
        for name in (LIBRARY, "libunicorn.a"):
            if (cmake / name).exists():
                shutil.copy2(cmake / name, prebuilt / name)
        say.step(5, f"making the wheel unicorn {version()} (pip wheel)")
        env = {k: v for k, v in os.environ.items() if k != "LIBUNICORN_PATH"}
        env["SETUPTOOLS_SCM_PRETEND_VERSION"] = version()
        wheels = work / "wheels"
        _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(wheels), str(top)],
             logf, log, "E814", "pip cannot make the wheel", env=env)  # fmt: skip
        made = sorted(wheels.glob(f"unicorn-{version()}-*.whl"))
        if len(made) != 1:
            raise ToolError(f"pip made no wheel unicorn-{version()}-*.whl in {wheels}",
                            code="E814", hint=f"see {log}")  # fmt: skip
        wheel = output / made[0].name
        partial = output / (made[0].name + ".part")
        shutil.copy2(made[0], partial)
        os.replace(partial, wheel)
        wheel.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    say.note(f"built {wheel} in {say.elapsed()}")
    return wheel


def _download(work: Path, logf: IO[str], log: Path) -> Path:
    _run([sys.executable, "-m", "pip", "download", f"unicorn=={UNICORN_VERSION}",
          "--no-binary", ":all:", "--no-deps", "-d", str(work)], logf, log, "E811",
         f"pip cannot download Unicorn {UNICORN_VERSION}'s source")  # fmt: skip
    found = sorted(work.glob(f"unicorn-{UNICORN_VERSION}.tar.gz"))
    if not found:
        raise ToolError(f"pip downloaded no unicorn-{UNICORN_VERSION}.tar.gz", code="E811",
                        hint=f"see {log}")  # fmt: skip
    return found[0]


def _unpack(sdist: Path, work: Path) -> Path:
    # the "data" filter refuses links out of the tree and does not keep the owner
    options: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    with tarfile.open(sdist) as archive:
        archive.extractall(work / "source", **options)
    top = work / "source" / f"unicorn-{UNICORN_VERSION}"
    if not (top / "src" / "CMakeLists.txt").exists():
        raise ToolError(f"{sdist} has no unicorn-{UNICORN_VERSION}/src/CMakeLists.txt",
                        code="E812")  # fmt: skip
    return top


PERCENT = re.compile(r"^\[\s*(\d+)%\]")


def _run(
    command: Sequence[str],
    logf: IO[str],
    log: Path,
    code: str,
    failure: str,
    say: Progress | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Run ``command`` with its output in the log (and its ``[ NN%]`` lines shown as
    progress); a failure raises ``ToolError(code)`` with the log's last lines."""
    logf.write(f"$ {' '.join(command)}\n")
    logf.flush()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace", env=env) as proc:  # fmt: skip
        assert proc.stdout is not None
        tail: list[str] = []
        for line in proc.stdout:
            logf.write(line)
            tail = [*tail[-19:], line.rstrip()]
            match = PERCENT.match(line)
            if say is not None and match:
                say.percent(int(match.group(1)))
        status = proc.wait()
    logf.flush()
    if status != 0:
        last = "\n    ".join(tail[-8:])
        raise ToolError(f"{failure} (status {status}):\n    {last}", code=code,
                        hint=f"the whole output is in {log}")  # fmt: skip


CHECK = """\
import unicorn
from qconf.engine import installed
unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV64)
print(installed())
"""


def _install(wheel: Path) -> str:
    """Install ``wheel`` with pip, then load it in a new interpreter; returns how that
    interpreter names its engine."""
    command = [sys.executable, "-m", "pip", "install", "--force-reinstall", "--no-deps",
               str(wheel)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                              check=False)  # fmt: skip
    if done.returncode != 0:
        raise ToolError(
            f"{wheel.name} did not install (status {done.returncode}): "
            f"{done.stderr.strip()[-500:]}", code="E815",
            hint=f"install it yourself: {' '.join(command)}",
        )  # fmt: skip
    return done.stdout.strip()
