"""A TCP proxy the tests can break on purpose: forward, refuse connections, or hang.

Used to stand between the app and a real service (MariaDB, Redis) so a test can take the service
"down" and bring it back without touching the service itself.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading


class FaultyProxy:
    FORWARD, REFUSE, HANG = "forward", "refuse", "hang"

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = self.FORWARD
        self._listener: socket.socket | None = None
        self.port = 0
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FaultyProxy:
        self._open_listener(port=0)
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._close_listener()
        self._drop_connections()

    def _open_listener(self, port: int) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        listener.settimeout(0.2)
        self.port = listener.getsockname()[1]
        self._listener = listener

    def _close_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None

    def _drop_connections(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()

    # -- modes -------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """REFUSE closes the port (connections refused); HANG drops open connections, then accepts
        new ones and never answers (a database host that went dark behind a live address)."""
        self.mode = mode
        if mode == self.REFUSE:
            self._close_listener()
            self._drop_connections()
        elif mode == self.HANG:
            self._drop_connections()
            if self._listener is None:
                self._open_listener(port=self.port)
        elif self._listener is None:
            self._open_listener(port=self.port)

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
            with self._lock:
                self._conns.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            while self.mode == self.HANG and not self._stop.is_set():
                self._stop.wait(0.05)
            upstream = socket.create_connection(self.target, timeout=5)
            with self._lock:
                self._conns.append(upstream)
            pair = {client: upstream, upstream: client}
            while not self._stop.is_set():
                readable, _, _ = select.select(list(pair), [], [], 0.1)
                if self.mode == self.HANG:
                    continue  # hold everything: the peer sees a database that never answers
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pair[sock].sendall(data)
        except OSError:
            return
        finally:
            for end in (client, upstream):
                if end is not None:
                    with contextlib.suppress(OSError):
                        end.close()
