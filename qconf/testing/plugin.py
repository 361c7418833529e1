"""The pytest plugin: machines under test as fixtures (loaded by pytest when qconf is
installed, through the ``pytest11`` entry point).

A test asks for ``qconf_dut`` and gets a :class:`~qconf.testing.dut.Dut`, started from
the machine its ``qconf`` mark (or the session's ``--qconf-config``) names::

    @pytest.mark.qconf(config="machines/uboot-riscv/board.yaml", sets=["ram.size=256MiB"])
    def test_prompt(qconf_dut):
        qconf_dut.expect("Hit any key")
        qconf_dut.write("\\n")
        qconf_dut.expect_exact("=> ")

The mark's ``sweep`` takes ``--set`` sweeps in ``qconf sweep``'s grammar
(``sweep=["ram.size=128MiB,256MiB"]``): the test runs once per variant, with the tweaks
as its id (``test_prompt[ram.size=128MiB]``). Its ``checkpoint`` boots each machine once
per session, through the steps it lists (a text to wait for, or a ``(text, what to type)``
pair), saves a checkpoint there, and starts every test from it::

    @pytest.mark.qconf(config="machines/uboot-riscv/board.yaml",
                       checkpoint=[("Hit any key", "\n"), "=> "])
    def test_version(qconf_dut):  # at the prompt already
        qconf_dut.write("version\n")

Options for a whole session: ``--qconf-config FILE``, ``--qconf-set PATH=VALUE`` (applied
after each test's own tweaks), ``-I DIR`` (also ``--qconf-include``), ``--qconf-wall
SECONDS`` (a host-time limit on every wait) and ``--qconf-artifacts DIR``: where each
failing test leaves its machines' console logs, resolved configuration and counts.

The fixture is not called ``dut``, so that pytest-embedded's stays its own when both are
installed; a conftest.py that wants the short name writes ``dut = qconf_dut``'s two-line
alias (docs/testing.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = (
    "pytest_addoption",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_runtest_makereport",
    "qconf_config",
    "qconf_dut",
    "qconf_include_dirs",
    "qconf_sets",
    "qconf_start",
    "qconf_variant",
)


@dataclass
class _Started:
    """The machines a test started, and where its artifacts go if it fails."""

    artifacts: Path
    duts: list[Any] = field(default_factory=list)


_DUTS = pytest.StashKey[_Started]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("qconf", "qconf machines under test")
    group.addoption("--qconf-config", action="append", default=[], metavar="FILE",
                    help="The machine file (or profile) of tests whose qconf mark names none; "
                    "repeatable, later files win.")  # fmt: skip
    group.addoption("--qconf-set", action="append", default=[], metavar="PATH=VALUE",
                    help="A tweak for every machine of the session, after the test's own "
                    "(repeatable).")  # fmt: skip
    group.addoption("-I", "--qconf-include", action="append", default=[], metavar="DIR",
                    dest="qconf_include",
                    help="Search DIR for profiles (as qconf's -I; repeatable).")  # fmt: skip
    group.addoption("--qconf-wall", type=float, default=None, metavar="SECONDS",
                    help="A host-time limit on every wait of every machine (waits are in "
                    "guest time otherwise).")  # fmt: skip
    group.addoption("--qconf-artifacts", default=None, metavar="DIR",
                    help="Where failing tests leave console logs, the resolved configuration "
                    "and counts (default: qconf-artifacts in pytest's temporary "
                    "directory).")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "qconf(config=None, sets=(), include=(), sweep=(), checkpoint=None): the machine "
        "qconf_dut starts (files or a profile, --set tweaks, -I folders), the --set sweeps "
        "the test runs over (one test per variant), and the steps to a checkpoint booted "
        "once per session that every test starts from (texts, or (text, typed) pairs).",
    )


def _mark(node: Any) -> dict[str, Any]:
    """The test's qconf marks merged, the closest last (a class's, then the function's)."""
    merged: dict[str, Any] = {}
    for mark in reversed(list(node.iter_markers("qconf"))):
        if mark.args:
            merged["config"] = mark.args[0]
        merged.update(mark.kwargs)
    return merged


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(value)] if isinstance(value, (str, Path)) else [str(v) for v in value]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per variant of the mark's ``sweep``, with the tweaks as its id."""
    sweep = _listed(_mark(metafunc.definition).get("sweep"))
    if not sweep or "qconf_variant" not in metafunc.fixturenames:
        return
    from qconf.errors import QconfError, report
    from qconf.sweep.grammar import expand

    try:
        variants = expand(sweep)
    except QconfError as exc:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: the qconf mark's sweep: " + "\n".join(report(exc))
        ) from None
    metafunc.parametrize("qconf_variant", variants, ids=[v.label for v in variants],
                         indirect=True)  # fmt: skip


@pytest.fixture
def qconf_variant(request: pytest.FixtureRequest) -> Any:
    """The variant of the mark's ``sweep`` this test runs (a
    :class:`~qconf.sweep.grammar.Variant`), or None."""
    return getattr(request, "param", None)


@pytest.fixture
def qconf_config(request: pytest.FixtureRequest) -> list[str]:
    """The machine's files (or profile): the mark's ``config``, else ``--qconf-config``.
    Override it in a conftest.py to choose them otherwise."""
    files = _listed(_mark(request.node).get("config")) or list(
        request.config.getoption("qconf_config")
    )
    if not files:
        pytest.fail("no machine to start: give the test @pytest.mark.qconf(config=FILE) or "
                    "the session --qconf-config FILE", pytrace=False)  # fmt: skip
    return files


@pytest.fixture
def qconf_sets(request: pytest.FixtureRequest, qconf_variant: Any) -> list[str]:
    """The tweaks, in order: the mark's ``sets``, the variant's, then the session's
    ``--qconf-set``."""
    sets = _listed(_mark(request.node).get("sets"))
    if qconf_variant is not None:
        sets += list(qconf_variant.sets)
    return sets + list(request.config.getoption("qconf_set"))


@pytest.fixture
def qconf_include_dirs(request: pytest.FixtureRequest) -> list[str]:
    """Profile folders: the mark's ``include``, then the session's ``-I``."""
    return _listed(_mark(request.node).get("include")) + list(
        request.config.getoption("qconf_include")
    )


@pytest.fixture
def qconf_start(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """A factory of machines under test, closed at the test's end:
    ``qconf_start(config, sets=(), include_dirs=(), checkpoint=None)`` (``checkpoint``: the
    steps to the session's checkpoint of this machine, as the mark's). A machine that
    cannot be built fails the test with its located error."""
    from qconf.errors import QconfError, report
    from qconf.testing.dut import Dut, start

    root = request.config.getoption("qconf_artifacts")
    if root is None:
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        root = factory.getbasetemp() / "qconf-artifacts"
    started = request.node.stash.setdefault(_DUTS, _Started(Path(root)))
    wall = request.config.getoption("qconf_wall")

    def make(
        config: str | list[str], sets: list[str] | tuple[str, ...] = (),
        include_dirs: list[str] | tuple[str, ...] = (), checkpoint: Any = None,
    ) -> Dut:  # fmt: skip
        files = _listed(config)
        try:
            saved = None
            if checkpoint is not None:
                saved = _checkpoint(request, files, list(sets), list(include_dirs), checkpoint)
            dut = start(files, sets, include_dirs, name=request.node.nodeid, checkpoint=saved)
        except QconfError as exc:
            error = report(exc)
        else:
            error = []
        if error:  # outside the except clause: the report alone, no chained traceback
            pytest.fail("\n".join(error), pytrace=False)
        dut.default_wall = wall
        started.duts.append(dut)
        return dut

    yield make
    for dut in started.duts:
        dut.close()


@pytest.fixture
def qconf_dut(
    request: pytest.FixtureRequest,
    qconf_start: Callable[..., Any],
    qconf_config: list[str],
    qconf_sets: list[str],
    qconf_include_dirs: list[str],
) -> Any:
    """The machine under test (a :class:`~qconf.testing.dut.Dut`), paused at its first
    instruction, or where the mark's ``checkpoint`` steps lead."""
    steps = _mark(request.node).get("checkpoint")
    return qconf_start(qconf_config, qconf_sets, qconf_include_dirs, steps)


# --- checkpoints a session boots once --------------------------------------------------------


_CHECKPOINTS = pytest.StashKey[dict[Any, Path]]()


def _checkpoint(
    request: pytest.FixtureRequest, files: list[str], sets: list[str],
    include_dirs: list[str], steps: Any,
) -> Path:  # fmt: skip
    """The session's checkpoint of this machine after ``steps`` (booted and saved by the
    first test that asks for it).

    :raises QconfError: the machine cannot be built, or a step did not come (ExpectFailed).
    """
    from qconf.testing.dut import start

    plan = [(s, None) if isinstance(s, str) else (str(s[0]), s[1]) for s in _listed_steps(steps)]
    saved = request.config.stash.setdefault(_CHECKPOINTS, {})
    key = (tuple(files), tuple(sets), tuple(include_dirs), tuple(plan))
    path = saved.get(key)
    if path is None:
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        path = factory.mktemp("qconf-checkpoint") / "machine.qcp"
        booted = start(files, sets, include_dirs, name=f"checkpoint {plan[-1][0]!r}")
        try:
            wall = request.config.getoption("qconf_wall")
            for text, typed in plan:
                booted.expect_exact(text, wall=wall)
                if typed is not None:
                    booted.write(typed)
            booted.save(path, plan[-1][0])
        finally:
            booted.close()
        saved[key] = path
    return path


def _listed_steps(steps: Any) -> list[Any]:
    if isinstance(steps, (str, tuple)):
        steps = [steps]
    if not steps:
        raise pytest.UsageError("the qconf mark's checkpoint lists no step")
    return list(steps)


# --- artifacts of failing tests -------------------------------------------------------------


def _folder_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=,+-]+", "_", nodeid).strip("_")[:150]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test's machines leave their consoles, resolved configuration and counts
    in ``--qconf-artifacts``; the report says where."""
    report = yield
    started = item.stash.get(_DUTS, None)
    if report.failed and started is not None and started.duts:
        folder = started.artifacts / _folder_name(item.nodeid)
        duts = started.duts
        for n, dut in enumerate(duts):
            _write_artifacts(dut, folder / f"machine{n}" if len(duts) > 1 else folder)
        report.sections.append(("qconf artifacts", f"{folder}\n"))
    return report


def _write_artifacts(dut: Any, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "console.log").write_bytes(bytes(dut.log))
    for path, console in dut.uarts.items():
        if console.data:
            name = path.removeprefix("/machine/").replace("/", "-")
            (folder / f"uart-{name}.log").write_bytes(bytes(console.data))
    (folder / "resolved.yaml").write_text(dut.resolved(), encoding="utf-8")
    stats = dut.stats
    lines = [f"virtual time {stats.virtual_ns / 1e6:.6f} ms, host time emulating "
             f"{stats.wall_s:.3f} s",
             f"exit status: {stats.exit_code if stats.exit_code is not None else 'running'}"
             + (f" ({stats.reason})" if stats.reason else ""),
             *(f"{cpu}: {n} instructions" for cpu, n in stats.instructions.items())]  # fmt: skip
    (folder / "stats.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
