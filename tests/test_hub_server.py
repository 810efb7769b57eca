"""The loopback hub (tests/fixtures/hub_server.py) treats a client that goes away mid-file as a cancel, as a real
file server does: no "Exception occurred during processing of request" banner with a traceback in the test
output (issue 29, item 15: it came from the zero-copy path, which had no guard for a reset connection)."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from tests.fixtures.hub_server import Fault, HubServer


def _leave_mid_file(port: int, path: str) -> None:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(f"GET /org/repo/resolve/main/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    s.recv(4096)  # the headers and the first bytes: the body is being sent now
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
    s.close()


@pytest.mark.parametrize("fault", [None, Fault(rate=4 << 20)], ids=["zero-copy", "chunked-writes"])
def test_a_client_that_leaves_mid_file_prints_no_traceback(tmp_path, capfd, fault):
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(64 << 20))  # more than the socket buffers hold, so the send is in progress
    with HubServer() as hub:
        hub.add("org/repo", "big.bin", big)
        if fault is not None:
            hub.faults["big.bin"] = fault
        _leave_mid_file(hub.httpd.server_address[1], "big.bin")
        end = time.monotonic() + 20
        while time.monotonic() < end and not any(s.client_left for s in hub.requests_for("big.bin")):
            time.sleep(0.05)
        assert [s.client_left for s in hub.requests_for("big.bin")] == [True]
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err, err
