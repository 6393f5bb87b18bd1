"""A fake Anthropic Messages API on a loopback port, for tests and load tests.

It answers ``POST /v1/messages`` with realistic Messages API JSON (id, type, role, model, content,
stop_reason, usage with input/output/cache_creation/cache_read tokens) so the real ``anthropic`` SDK
runs unchanged against it (``ANTHROPIC_BASE_URL=http://127.0.0.1:<port>``). Prompt caching is
simulated: a prefix marked ``cache_control`` is a cache write the first time and a cache read
afterwards. Modes: ``ok``, ``hang`` (never answers until stopped), ``500``, ``429`` (with
``retry-after``), ``529`` (overloaded), ``400``; ``script`` queues one mode per request. Every
request is recorded (headers and JSON body) for assertions.

Standalone: ``python -m tests.fakes.anthropic_server --port 8600 --latency-ms 800``
"""

from __future__ import annotations

import argparse
import json
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.server import StrictHTTPServer

CHARS_PER_TOKEN = 4


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN)) if text else 0


def _block_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content or [] if isinstance(block, dict))


def _has_cache_control(content: Any) -> bool:
    return isinstance(content, list) and any(isinstance(b, dict) and b.get("cache_control") for b in content)


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class _Server(StrictHTTPServer):
    # socketserver's default listen backlog is 5: a burst of load-test sends would be refused.
    request_queue_size = 1024
    thread_name = "fake-anthropic"


@dataclass
class FakeAnthropic:
    """State shared with the handler threads. Change attributes between requests in tests."""

    mode: str = "ok"
    latency_ms: int = 0
    retry_after: str | None = "7"
    reply: Callable[[dict[str, Any]], str] | None = None
    usage_override: dict[str, int] | None = None
    script: deque[str] = field(default_factory=deque)
    requests: deque[RecordedRequest] = field(default_factory=lambda: deque(maxlen=1000))
    cached_prefixes: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeAnthropic:
        state = self

        class Handler(_Handler):
            fake = state

        self.server = _Server((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-anthropic", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()  # wake hanging handlers
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        self.release.set()  # let handlers still hanging from the previous test finish
        self.release = threading.Event()
        with self.lock:
            self.mode, self.latency_ms, self.retry_after = "ok", 0, "7"
            self.reply, self.usage_override = None, None
            self.script.clear()
            self.requests.clear()
            self.cached_prefixes.clear()

    @property
    def calls(self) -> int:
        return len(self.requests)

    # -- behaviour ------------------------------------------------------------------------------
    def next_mode(self) -> str:
        with self.lock:
            return self.script.popleft() if self.script else self.mode

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        system = body.get("system") or []
        messages = body.get("messages") or []
        if isinstance(system, str):
            system = [{"type": "text", "text": system}]
        # Prompt caching as Anthropic bills it: each block carrying cache_control ends a cacheable
        # prefix; the longest prefix already cached is a cache read, the rest up to the last
        # breakpoint a cache write (and every marked prefix is cached), what follows is input.
        parts: list[tuple[str, bool]] = [(_block_text([b]), bool(b.get("cache_control"))) for b in system]
        parts += [
            (f"{m.get('role')}:{_block_text(m.get('content'))}", _has_cache_control(m.get("content"))) for m in messages
        ]
        marks = [i for i, (_, marked) in enumerate(parts) if marked]
        prefixes = ["".join(text for text, _ in parts[: i + 1]) for i in marks]
        full = "".join(text for text, _ in parts)
        cache_read = cache_write = 0
        if prefixes:
            with self.lock:
                hit = max((p for p in prefixes if p in self.cached_prefixes), key=len, default="")
                if len(self.cached_prefixes) > 10_000:  # bounded for long load tests
                    self.cached_prefixes.clear()
                self.cached_prefixes.update(prefixes)
            cache_read = _tokens(hit)
            cache_write = _tokens(prefixes[-1]) - cache_read
            uncached = full[len(prefixes[-1]) :]
        else:
            uncached = full
        last_user = _block_text(messages[-1].get("content")) if messages else ""
        text = self.reply(body) if self.reply else f"Echo: {last_user[:200]}"
        usage = {
            "input_tokens": _tokens(uncached),
            "output_tokens": _tokens(text),
            "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read,
        }
        if self.usage_override:
            usage.update(self.usage_override)
        return {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-sonnet-4-5"),
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": usage,
        }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAnthropic
    protocol_version = "HTTP/1.1"
    # The headers and the body go out as two writes: with Nagle's algorithm the body of a reply on a
    # kept-alive connection waits for the client's delayed ACK (40 ms), which no real API adds.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — quiet
        return

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.send_header("request-id", f"req_{uuid.uuid4().hex[:20]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?")[0] != "/v1/messages":
            self._error(404, "not_found_error", f"no route {self.path}")
            return
        api_key = self.headers.get("x-api-key") or ""
        bearer = (self.headers.get("authorization") or "").removeprefix("Bearer ").strip()
        if not (api_key or bearer):
            self._error(401, "authentication_error", "x-api-key header is required")
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._error(400, "invalid_request_error", "body is not JSON")
            return
        fake = self.fake
        with fake.lock:
            fake.requests.append(RecordedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        mode = fake.next_mode()
        if fake.latency_ms:
            time.sleep(fake.latency_ms / 1000)
        if mode == "hang":
            fake.release.wait(60)
            self.close_connection = True
            return
        if mode == "500":
            self._error(500, "api_error", "Internal server error")
        elif mode == "529":
            self._error(529, "overloaded_error", "Overloaded")
        elif mode == "429":
            headers = {"retry-after": fake.retry_after} if fake.retry_after else {}
            self._error(429, "rate_limit_error", "Number of request tokens has exceeded your rate limit", headers)
        elif mode == "400":
            self._error(400, "invalid_request_error", "messages: roles must alternate")
        elif not body.get("model") or not body.get("max_tokens") or not body.get("messages"):
            self._error(400, "invalid_request_error", "model, max_tokens and messages are required")
        else:
            self._send(200, fake.answer(body))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--mode", default="ok", choices=["ok", "hang", "500", "429", "529", "400"])
    args = parser.parse_args(argv)
    fake = FakeAnthropic(mode=args.mode, latency_ms=args.latency_ms).start(args.host, args.port)
    print(f"fake Anthropic API on {fake.url} (mode={args.mode}, latency={args.latency_ms} ms); Ctrl-C stops")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
