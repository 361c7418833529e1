"""The pytest plugin seen from a test session (``pytester``, in a subprocess: an
in-process session would import qconf's YAML reader a second time): its options, marks,
sweeps as test ids, and the artifacts a failing test leaves."""

from __future__ import annotations

import pytest

from tests.helpers import MACHINES

HELLO = str(MACHINES / "riscv-hello" / "board.yaml")
ECHO = str(MACHINES / "riscv-echo" / "board.yaml")
HELLO_ELF = str(MACHINES / "guests" / "riscv" / "hello.elf")


def test_options_are_listed_and_minus_i_is_free(pytester: pytest.Pytester):
    result = pytester.runpytest_subprocess("--help")
    out = result.stdout.str()
    assert "qconf machines under test:" in out
    for option in ("--qconf-config=FILE", "--qconf-set=PATH=VALUE", "-I DIR, --qconf-include=DIR",
                   "--qconf-wall=SECONDS", "--qconf-artifacts=DIR"):  # fmt: skip
        assert option in out


def test_a_marked_test_and_session_tweaks(pytester: pytest.Pytester):
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.qconf(config={HELLO!r}, sets=["cpu0.freq=500MHz"])
        def test_hello(qconf_dut, request):
            qconf_dut.expect_exact("Hello from riscv-virt")
            assert qconf_dut.wait_exit() == 0
            want = int(request.config.getoption("qconf_set")[0].split("=")[1].rstrip("MHz"))
            assert qconf_dut.qom_get("/machine/cpu0", "freq") == want * 1_000_000
    """)  # fmt: skip
    # the session's --qconf-set comes after the test's own sets, and wins
    pytester.runpytest_subprocess("--qconf-set", "cpu0.freq=250MHz").assert_outcomes(passed=1)


def test_session_config_and_profile_folders(pytester: pytest.Pytester):
    profiles = pytester.mkdir("profiles")
    (profiles / "my-board.yaml").write_text(
        f"extends: riscv-virt\ncpu0:\n  firmware: {HELLO_ELF}\n"
    )
    pytester.makepyfile("""
        def test_unmarked(qconf_dut):
            qconf_dut.expect("Hello")
            assert qconf_dut.wait_exit() == 0
    """)
    result = pytester.runpytest_subprocess("--qconf-config", "my-board", "-I", str(profiles))
    result.assert_outcomes(passed=1)
    # without the folder: the located error (at the fixture's set-up), no traceback
    result = pytester.runpytest_subprocess("--qconf-config", "my-board")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at setup of test_unmarked*",
        "qconf: error: my-board: no such file [[]E101[]]",
        "  layer: file my-board",
        "  hint: give a path to a YAML or TOML file, or a profile name",
    ])  # fmt: skip
    assert "Traceback" not in result.stdout.str() and "During handling" not in result.stdout.str()
    # and with none at all, what to give
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no machine to start: give the test @pytest.mark.qconf("
                                 "config=FILE) or the session --qconf-config FILE*"])  # fmt: skip


def test_sweeps_become_tests_with_readable_ids(pytester: pytest.Pytester):
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.qconf(config={HELLO!r}, sweep=["cpu0.freq=100MHz,1GHz",
                                                    "ram.size=range(64MiB,193MiB,64MiB)"])
        def test_variants(qconf_dut, qconf_variant):
            qconf_dut.expect("Hello")
            freq = qconf_variant.tweaks[0].split("=")[1]
            assert qconf_dut.qom_get("/machine/cpu0", "freq") == (
                100_000_000 if freq == "100MHz" else 1_000_000_000)
    """)  # fmt: skip
    result = pytester.runpytest_subprocess("--collect-only", "-q")
    result.stdout.fnmatch_lines([
        "*test_variants[[]cpu0.freq=100MHz,ram.size=64MiB[]]",
        "*test_variants[[]cpu0.freq=100MHz,ram.size=128MiB[]]",
        "*test_variants[[]cpu0.freq=100MHz,ram.size=192MiB[]]",
        "*test_variants[[]cpu0.freq=1GHz,ram.size=64MiB[]]",
        "*test_variants[[]cpu0.freq=1GHz,ram.size=128MiB[]]",
        "*test_variants[[]cpu0.freq=1GHz,ram.size=192MiB[]]",
    ])  # fmt: skip
    pytester.runpytest_subprocess().assert_outcomes(passed=6)


def test_a_bad_sweep_is_a_usage_error(pytester: pytest.Pytester):
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.qconf(config={HELLO!r}, sweep=["ram.size=range(1,1)"])
        def test_variants(qconf_dut, qconf_variant):
            pass
    """)  # fmt: skip
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.INTERRUPTED  # an error while collecting
    assert "--set #1 'ram.size=range(1,1)': range() gives no values" in (
        result.stdout.str() + result.stderr.str()
    )


def test_a_failing_test_leaves_its_consoles_and_configuration(pytester: pytest.Pytester):
    artifacts = pytester.path / "artifacts"
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.qconf(config={ECHO!r}, sets=["cpu0.freq=200MHz"])
        def test_waits_in_vain(qconf_dut):
            qconf_dut.expect("q quits")
            qconf_dut.expect("never", timeout="1ms")
    """)  # fmt: skip
    result = pytester.runpytest_subprocess("--qconf-artifacts", str(artifacts))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*ExpectFailed: expected 'never' on /machine/soc/uart0: not seen within 0.001 s of "
        "guest time [[]E920[]]",
        "*last lines of /machine/soc/uart0:",
        "*| echo: type, q quits",
        "*qconf artifacts*",
    ])  # fmt: skip
    name = "test_a_failing_test_leaves_its_consoles_and_configuration.py_test_waits_in_vain"
    folder = artifacts / name
    assert sorted(p.name for p in folder.iterdir()) == [
        "console.log", "resolved.yaml", "stats.txt", "uart-soc-uart0.log"]  # fmt: skip
    assert (folder / "console.log").read_bytes() == b"echo: type, q quits\n"
    resolved = (folder / "resolved.yaml").read_text()
    assert "freq: 200MHz  # --set #1 'cpu0.freq=200MHz'" in resolved
    stats = (folder / "stats.txt").read_text().splitlines()
    assert stats[1] == "exit status: running"
    assert stats[2].startswith("/machine/cpu0: ") and stats[2].endswith(" instructions")


def test_a_host_time_limit_for_the_session(pytester: pytest.Pytester):
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.qconf(config={ECHO!r})
        def test_forever(qconf_dut):
            qconf_dut.expect("never", timeout=None)
    """)  # fmt: skip
    result = pytester.runpytest_subprocess("--qconf-wall", "0.5")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*expected 'never' on /machine/soc/uart0: not seen within 0.5 "
                                 "host seconds*"])  # fmt: skip


def test_a_session_checkpoint_every_test_starts_from(pytester: pytest.Pytester):
    pytester.makepyfile(f"""
        import pytest

        STARTS = []
        pytestmark = pytest.mark.qconf(config={ECHO!r}, checkpoint=["q quits"])

        def test_types_and_sees_its_echo(qconf_dut):
            STARTS.append((qconf_dut.now_ns, qconf_dut.stats.total))
            qconf_dut.write("first\\n")
            qconf_dut.expect_exact("first")

        def test_starts_where_the_other_did(qconf_dut):
            assert STARTS == [(qconf_dut.now_ns, qconf_dut.stats.total)]
            assert qconf_dut.console.text == ""  # nothing typed by the test before
            qconf_dut.write("q")
            assert qconf_dut.wait_exit() == 0
            assert qconf_dut.console.text == "bye\\n"

        @pytest.mark.qconf(checkpoint=["never shown"])
        def test_a_step_that_never_comes(qconf_dut):
            pass
    """)  # fmt: skip
    result = pytester.runpytest_subprocess("--qconf-wall", "2")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*expected 'never shown' on /machine/soc/uart0: not seen "
                                 "within 2 host seconds*"])  # fmt: skip
