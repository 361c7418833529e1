"""The QMP server as a process never dies on its clients' account: input Python's JSON
reader chokes on, a client at the file descriptor limit, SIGTERM (which ends qconf as QEMU
ends, with its sockets removed), Ctrl-C."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.qmp_helpers import RUNNING, Client, start


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("args", [["--preconfig"], RUNNING], ids=["preconfig", "running"])
def test_input_pythons_json_chokes_on_gets_an_error_and_the_server_goes_on(
    tmp_path, processes, args
):
    """An integer of 4,301 digits ended qconf (an uncaught ValueError); duplicate keys were
    executed (the last one winning); NaN was echoed as invalid JSON."""
    proc, sock = start(tmp_path, processes, *args)
    client = Client(sock)
    nines = b"9" * 4301
    answers = {
        b'{"execute": "query-status", "id": ' + nines + b"}":
            "JSON parse error, integer longer than 4300 digits",
        b'{"execute": "query-status", "id": 1, "id": 2}': "JSON parse error, duplicate key",
        b'{"execute": "query-status", "id": NaN}': "JSON parse error, stray 'N'",
        b'{"execute": "query-status", "id": 1e400}': "JSON parse error, number out of range",
    }  # fmt: skip
    for raw, desc in answers.items():
        assert client.send(raw) == {"error": {"class": "GenericError", "desc": desc}}
        status = client.send(b'{"execute": "query-status", "id": 7}')
        assert status["id"] == 7 and status["return"]["status"] in ("prelaunch", "running")
    assert client.send(b'{"execute": "quit"}')["event"] == "SHUTDOWN"
    client.close()
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and b"Traceback" not in err, err


def test_at_the_descriptor_limit_the_server_waits_instead_of_spinning(tmp_path, processes):
    """With no descriptor left, accept() fails at once and the listening socket stays
    ready: the server spun at full CPU. It stops accepting until a client leaves; the
    clients it could not take wait in the backlog and are served then."""
    limit = 32
    proc, sock = start(tmp_path, processes, "--preconfig", max_files=limit)
    clients = [Client(sock, negotiate=False) for _ in range(limit)]  # more than it can take
    time.sleep(0.5)
    before, start_at = cpu_seconds(proc.pid), time.monotonic()
    time.sleep(1.5)
    busy = (cpu_seconds(proc.pid) - before) / (time.monotonic() - start_at)
    assert busy < 0.2, f"{busy:.0%} of a CPU at the limit"  # 0% here; 50-100% before
    greeted = [c for c in clients if _has_input(c)]
    waiting = [c for c in clients if c not in greeted]
    assert greeted and waiting
    greeted[0].close()  # a descriptor is free: the next waiting client is served
    assert "QMP" in waiting[0].read()
    assert waiting[0].send(b'{"execute": "qmp_capabilities"}') == {"return": {}}
    assert waiting[0].send(b'{"execute": "quit"}')["event"] == "SHUTDOWN"
    for client in clients:
        client.close()
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and b"Traceback" not in err, err


def _has_input(client: Client) -> bool:
    import select

    return bool(select.select([client.conn], [], [], 0)[0])


@pytest.mark.parametrize("args", [["--preconfig"], RUNNING], ids=["preconfig", "running"])
def test_sigterm_ends_qconf_as_qemu_and_removes_the_socket(tmp_path, processes, args):
    proc, sock = start(tmp_path, processes, *args)
    assert not os.path.exists(sock + "~")  # bound there, renamed once listening
    client = Client(sock)
    proc.send_signal(signal.SIGTERM)
    assert client.read()["data"] == {"guest": False, "reason": "host-signal"}  # SHUTDOWN
    client.close()
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err  # as QEMU, which says so too
    assert err.decode().splitlines()[-1] == "qconf: terminating on signal 15"
    assert not os.path.exists(sock)


def test_ctrl_c_still_interrupts_a_run_served_over_qmp(tmp_path, processes):
    proc, sock = start(tmp_path, processes, *RUNNING)
    client = Client(sock)
    assert client.send(b'{"execute": "query-status"}')["return"]["status"] == "running"
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert err.decode().splitlines()[0] == "qconf: interrupted (Ctrl-C)"
    assert not os.path.exists(sock)
    client.close()
