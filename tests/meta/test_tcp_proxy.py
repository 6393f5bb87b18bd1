"""FaultyProxy (tests/support/tcp_proxy.py), the fault suite's instrument: each mode does what the
fault tests rely on, against a plain echo server on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from tests.support.tcp_proxy import FaultyProxy

HOLD = 0.3  # how long "nothing arrives" is watched for


@pytest.fixture
def echo() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


@pytest.fixture
def proxy(echo: int) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy("127.0.0.1", echo).start()
    yield proxy
    proxy.stop()


def connect(proxy: FaultyProxy) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=5)


def round_trip(sock: socket.socket, data: bytes, timeout: float = 5) -> bytes:
    sock.settimeout(timeout)
    sock.sendall(data)
    return sock.recv(65536)


def nothing_comes_back(sock: socket.socket, data: bytes) -> bool:
    try:
        round_trip(sock, data, timeout=HOLD)
    except TimeoutError:
        return True
    return False


def closed(sock: socket.socket) -> bool:
    """The proxy closed the connection: EOF, or a reset when it held unread bytes from us."""
    sock.settimeout(5)
    try:
        return sock.recv(10) == b""
    except ConnectionResetError:
        return True


def test_forward(proxy):
    with connect(proxy) as sock:
        assert round_trip(sock, b"ping") == b"ping"


def test_refuse_closes_the_port_at_once_and_drops_open_connections(proxy):
    sock = connect(proxy)
    assert round_trip(sock, b"a") == b"a"
    proxy.set_mode(FaultyProxy.REFUSE)
    with pytest.raises(ConnectionRefusedError):
        connect(proxy)
    assert closed(sock)
    sock.close()
    proxy.set_mode(FaultyProxy.FORWARD)
    with connect(proxy) as again:
        assert round_trip(again, b"b") == b"b"


def test_hang_drops_open_connections_and_never_answers_new_ones(proxy):
    sock = connect(proxy)
    assert round_trip(sock, b"a") == b"a"
    proxy.set_mode(FaultyProxy.HANG)
    assert closed(sock)
    sock.close()
    with connect(proxy) as fresh:  # accepted...
        assert nothing_comes_back(fresh, b"b")  # ...never answered


def test_stall_holds_a_live_connection_then_heal_closes_it(proxy):
    sock = connect(proxy)
    assert round_trip(sock, b"a") == b"a"  # the relay now waits in select for the next bytes
    proxy.set_mode(FaultyProxy.STALL)
    assert nothing_comes_back(sock, b"b")  # the live connection stays open and goes silent
    proxy.heal()
    assert closed(sock)  # the held bytes were never passed on: the connection is closed instead
    sock.close()
    with connect(proxy) as fresh:
        assert round_trip(fresh, b"c") == b"c"


def test_stall_on_holds_from_the_chosen_bytes_after_the_chosen_ones(proxy):
    with connect(proxy) as sock:
        proxy.record = True
        proxy.stall_on(b"COMMIT", after=b"INSERT")
        assert round_trip(sock, b"COMMIT 1") == b"COMMIT 1"  # before the INSERT: passed on
        assert round_trip(sock, b"INSERT x") == b"INSERT x"
        assert nothing_comes_back(sock, b"COMMIT 2")
        assert proxy.stalled.is_set() and proxy.mode == FaultyProxy.STALL
        assert bytes(proxy.sent) == b"COMMIT 1INSERT x"
