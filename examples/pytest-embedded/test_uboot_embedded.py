"""pytest-embedded's own ``dut`` (its qemu service) on a qconf machine, through
``qconf-qemu``; run from the repository's root:

    pip install pytest-embedded pytest-embedded-qemu
    python -m pytest -c examples/pytest-embedded/pytest.ini examples/pytest-embedded \\
        --embedded-services qemu --qemu-prog-path examples/pytest-embedded/qconf-qemu \\
        --qemu-image-path machines/uboot-riscv/board.yaml \\
        --qemu-cli-args "--set ram.size=256MiB"
"""


def test_uboot_prompt_and_version(dut):
    dut.expect("Hit any key")
    dut.write("\n")
    dut.expect_exact("=> ")
    dut.write("version\n")
    dut.expect(r"U-Boot 2023\.01")
    # pytest-embedded's QMP client (qemu.qmp) talks to qconf's QMP server
    assert dut.qemu.qmp_execute_cmd("query-status")["status"] == "running"
    assert (
        dut.qemu.qmp_execute_cmd("qom-get", {"path": "/machine/ram", "property": "size"})
        == 256 * 1024 * 1024
    )
