"""A TCP proxy the tests can break on purpose: forward, refuse connections, hang, or stall.

Used to stand between the app and a real service (MariaDB, Redis, S3, SES) so a test can take the
service "down" and bring it back without touching the service itself.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time


class FaultyProxy:
    FORWARD, REFUSE, HANG, STALL = "forward", "refuse", "hang", "stall"
    HOLDING = frozenset({HANG, STALL})  # modes in which nothing is passed on

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = self.FORWARD
        self._listener: socket.socket | None = None
        self.port = 0
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stall_on: bytes | None = None
        self._stall_after: bytes | None = None
        self.stalled = threading.Event()  # set when a stall_on trigger fired
        self.sent = bytearray()  # what clients sent upstream, while ``record`` is on
        self.record = False

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FaultyProxy:
        self._open_listener(port=0)
        threading.Thread(target=self._accept_loop, name=f"faulty-proxy-accept-{self.port}", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._close_listener()
        self.drop_connections()

    def _open_listener(self, port: int) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        listener.settimeout(0.2)
        self.port = listener.getsockname()[1]
        self._listener = listener

    def _close_listener(self) -> None:
        """Stop listening at once: ``shutdown`` wakes the accept loop's blocked ``accept()`` (a bare
        ``close`` would leave the port listening until that call's timeout ran out)."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None

    def drop_connections(self) -> None:
        """Close every connection the proxy holds, both ends (the peers see a reset)."""
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()

    # -- modes -------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """REFUSE closes the port (connections refused). HANG drops open connections, then accepts
        new ones and never answers (a database host that went dark behind a live address). STALL
        keeps open connections open but stops passing bytes either way, and holds new ones too: a
        client blocked mid-request on a connection it already had (a pooled database connection
        whose server stopped answering) waits for its own read timeout."""
        if mode not in (self.FORWARD, self.REFUSE, self.HANG, self.STALL):
            raise ValueError(mode)
        self.mode = mode
        if mode == self.REFUSE:
            self._close_listener()
            self.drop_connections()
            return
        if mode == self.HANG:
            self.drop_connections()
        deadline = time.monotonic() + 3
        while self._listener is None:
            try:
                self._open_listener(port=self.port)
            except OSError:  # the port, closed a moment ago, may not be free again yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def heal(self) -> None:
        """Back to forwarding, first closing the connections a HANG or STALL holds (while still
        holding, so no relay passes them on). Otherwise their buffered requests would reach the
        service late, after the client gave up: a request the service never saw during the outage
        would arrive afterwards, an artifact of the proxy. (The real "accepted, answer lost" case is
        what the cleanup task and the email claim are for.) A held database connection closing is
        also what makes the server roll back the transaction it held open."""
        if self.mode in self.HOLDING:
            self.drop_connections()
        self.set_mode(self.FORWARD)

    def stall_on(self, pattern: bytes, *, after: bytes | None = None) -> None:
        """Forward until a client sends bytes containing ``pattern`` (once it has sent ``after``,
        when given), then STALL with those bytes held: a fault in the middle of a conversation, at a
        chosen point (the COMMIT after a given INSERT). ``stalled`` is set when it fires. Each
        pattern must arrive within one read (a short SQL statement does)."""
        self.stalled.clear()
        self._stall_after = after
        self._stall_on = pattern

    # -- plumbing ----------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            listener = self._listener
            if listener is None:
                self._stop.wait(0.05)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            if self.mode == self.REFUSE:  # accepted just before the port closed
                client.close()
                continue
            with self._lock:
                self._conns.append(client)
            threading.Thread(
                target=self._serve, args=(client,), name=f"faulty-proxy-relay-{self.port}", daemon=True
            ).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            while self.mode in self.HOLDING and not self._stop.is_set():
                self._stop.wait(0.05)
            upstream = socket.create_connection(self.target, timeout=5)
            with self._lock:
                self._conns.append(upstream)
            pair = {client: upstream, upstream: client}
            held = b""
            while not self._stop.is_set():
                readable, _, _ = select.select(list(pair), [], [], 0.1)
                # Checked after select: bytes that arrive after the mode changed are held even when
                # the relay was already waiting in select for them.
                if self.mode in self.HOLDING:
                    # Hold everything (the peer sees a server that never answers); wait, as select
                    # would return at once on the pending bytes and spin.
                    self._stop.wait(0.05)
                    continue
                if held:  # bytes a stall_on trigger kept back, released with the stall
                    upstream.sendall(held)
                    if self.record:
                        self.sent += held
                    held = b""
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        if self._stall_after is not None and self._stall_after in data:
                            self._stall_after = None
                        elif self._stall_after is None and self._stall_on is not None and self._stall_on in data:
                            self._stall_on = None
                            self.mode = self.STALL
                            self.stalled.set()
                            held = data
                            break
                        if self.record:
                            self.sent += data
                    pair[sock].sendall(data)
        # A connection dropped on purpose (drop_connections, stop) ends its relay: closed sockets
        # raise OSError, or ValueError from select once their descriptor is -1.
        except (OSError, ValueError):
            return
        finally:
            for end in (client, upstream):
                if end is not None:
                    with contextlib.suppress(OSError):
                        end.close()
