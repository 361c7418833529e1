"""The package surface: what `import qconf` exports, and that configuration never loads
the emulator."""

from __future__ import annotations

import subprocess
import sys

import qconf
from tests.helpers import MACHINES

SCRIPT = f"""
import sys
import qconf
from click.testing import CliRunner
from qconf.cli import main
r = CliRunner().invoke(main, ["resolve", "-c", {str(MACHINES / "riscv-demo" / "board.yaml")!r}])
assert r.exit_code == 0, r.output
r = CliRunner().invoke(main, ["explain", "-c", "hetero-soc", "mailbox.irq_b"])
assert r.exit_code == 0, r.output
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("unicorn", "capstone"))
print(",".join(heavy) or "none")
"""


def test_configuration_does_not_import_unicorn():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.strip() == "none"


def test_public_names_are_pinned():
    assert qconf.__all__ == (
        "Machine",
        "Object",
        "Document",
        "TypeInfo",
        "TypeRegistry",
        "build",
        "builtin_registry",
        "resolve",
        "QconfError",
        "Problems",
        "SourceError",
        "LayerError",
        "OverrideError",
        "ValidationError",
        "EditError",
        "BuildError",
        "StateError",
    )
    for name in qconf.__all__:
        assert hasattr(qconf, name)


def test_exceptions_share_one_root():
    """Every public exception, whatever the stage, derives from QconfError (and the list
    is the public one: a new exception class is added here and to ``__all__``)."""
    exceptions = [name for name in qconf.__all__ if isinstance(getattr(qconf, name), type)
                  and issubclass(getattr(qconf, name), BaseException)]  # fmt: skip
    assert exceptions == ["QconfError", "Problems", "SourceError", "LayerError",
                          "OverrideError", "ValidationError", "EditError", "BuildError",
                          "StateError"]  # fmt: skip
    for name in exceptions:
        assert issubclass(getattr(qconf, name), qconf.QconfError), name


def test_registries_are_independent():
    a, b = qconf.builtin_registry(), qconf.builtin_registry()
    assert a is not b and len(a) == len(b) >= 20


def test_every_builtin_property_model_builds():
    # built-in models build when first used (a run pays for the types it uses): each must
    for info in qconf.builtin_registry(plugins=False):
        info.props.model_rebuild(force=True)
        assert info.props.__pydantic_complete__, info.name


def test_resolving_builds_only_the_models_a_machine_uses():
    script = (
        "import qconf\n"
        "qconf.resolve(['riscv-virt'])\n"
        "types = {t.name: t.props for t in qconf.builtin_registry(plugins=False)}\n"
        "print(types['riscv64'].__pydantic_complete__, types['aarch64'].__pydantic_complete__)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.split() == ["True", "False"]
