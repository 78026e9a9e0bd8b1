"""A fault-injecting HTTP proxy in front of the moto S3 server, and a gallery invariant checker.

The proxy speaks enough HTTP/1.1 for boto3 (keep-alive, Content-Length bodies). Per request it
forwards, answers 500, resets the connection (RST), stalls before forwarding, or forwards and then
stalls the answer (the bucket applied the request but the client times out). Every request the
upstream answered is recorded and shown to observers *before* the answer goes back to the client,
so an observer sees bucket changes in the order the appliance learns about them.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


@dataclass
class Record:
    """One request the upstream answered (or the proxy faked)."""

    method: str
    key: str | None
    status: int
    headers: dict[str, str]
    fault: str
    at: float = field(default_factory=time.monotonic)


Observer = Callable[[str, str | None, int, bytes], None]


class S3Proxy:
    """Forward 127.0.0.1:<port> to ``upstream`` with configurable faults."""

    def __init__(self, upstream: str, bucket: str, seed: int = 1) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.bucket = bucket
        self.rng = random.Random(seed)
        self.fail_rate = 0.0  # answer 500 InternalError without forwarding
        self.reset_rate = 0.0  # RST the connection after reading the request
        self.stall_rate = 0.0  # hold the request, then drop it unforwarded
        self.stall_after_rate = 0.0  # forward, then hold the answer and drop it
        self.stall_seconds = 3.0
        self.latency = 0.0  # added to every forwarded request
        self.down = False  # the uplink is gone: every request is answered with a reset
        self.records: list[Record] = []
        self.observers: list[Observer] = []
        self.lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def faults(self, fail: float = 0.0, reset: float = 0.0, stall: float = 0.0,
               stall_after: float = 0.0, latency: float = 0.0) -> None:
        self.fail_rate, self.reset_rate, self.stall_rate = fail, reset, stall
        self.stall_after_rate, self.latency = stall_after, latency

    def close(self) -> None:
        self._stop.set()
        self._sock.close()

    def puts(self, suffix: str = "") -> list[Record]:
        with self.lock:
            return [r for r in self.records if r.method == "PUT" and r.status == 200
                    and r.key and r.key.endswith(suffix)]

    # -- plumbing ----------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _pick(self) -> str:
        with self.lock:
            roll = self.rng.random()
        for name, rate in (("fail", self.fail_rate), ("reset", self.reset_rate),
                           ("stall", self.stall_rate), ("stall_after", self.stall_after_rate)):
            if roll < rate:
                return name
            roll -= rate
        return "pass"

    def _key(self, target: str) -> str | None:
        path = unquote(urlsplit(target).path)
        head = f"/{self.bucket}/"
        return path[len(head):] if path.startswith(head) else None

    def _serve(self, conn: socket.socket) -> None:
        upstream: http.client.HTTPConnection | None = None
        reader = conn.makefile("rb")
        try:
            while True:
                request = _read_request(reader, lambda: conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n"))
                if request is None:
                    return
                method, target, headers, body = request
                fault = "reset" if self.down else self._pick()
                if fault == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if fault == "stall":
                    time.sleep(self.stall_seconds)
                    return
                if fault == "fail":
                    payload = (b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>InternalError"
                               b"</Code><Message>injected by the test proxy</Message></Error>")
                    self._record(method, target, 500, headers, fault, body)
                    conn.sendall(_response(500, "Internal Server Error",
                                           [("Content-Type", "application/xml")], payload, method))
                    continue
                if self.latency:
                    time.sleep(self.latency)
                if upstream is None:
                    upstream = http.client.HTTPConnection(*self.upstream, timeout=60)
                try:
                    upstream.request(method, target, body=body, headers=dict(headers))
                    answer = upstream.getresponse()
                    data = answer.read()
                except (OSError, http.client.HTTPException):
                    # upstream down: the client sees the connection drop
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                self._record(method, target, answer.status, headers, fault, body)
                if fault == "stall_after":
                    time.sleep(self.stall_seconds)
                    return
                conn.sendall(_response(answer.status, answer.reason, answer.getheaders(), data,
                                       method))
        except OSError:
            return
        finally:
            if upstream is not None:
                upstream.close()
            reader.close()
            conn.close()

    def _record(self, method: str, target: str, status: int, headers: list[tuple[str, str]],
                fault: str, body: bytes) -> None:
        key = self._key(target)
        with self.lock:
            self.records.append(Record(method, key, status, {k.lower(): v for k, v in headers},
                                       fault))
            for observer in self.observers:
                observer(method, key, status, body)


def _read_request(reader, send_continue: Callable[[], None],  # noqa: ANN001
                  ) -> tuple[str, str, list[tuple[str, str]], bytes] | None:
    line = reader.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: list[tuple[str, str]] = []
    while True:
        raw = reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    lowered = {k.lower(): v for k, v in headers}
    if "chunked" in lowered.get("transfer-encoding", ""):
        raise OSError("chunked requests are not supported by the test proxy")
    if lowered.get("expect", "").lower() == "100-continue":
        send_continue()
        headers = [(k, v) for k, v in headers if k.lower() != "expect"]
    body = reader.read(int(lowered.get("content-length", 0) or 0))
    return method, target, headers, body


def _response(status: int, reason: str, headers: list[tuple[str, str]], data: bytes,
              method: str) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    for name, value in headers:
        if name.lower() in HOP_BY_HOP or (name.lower() == "content-length" and method != "HEAD"):
            continue
        lines.append(f"{name}: {value}")
    if method != "HEAD":
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (data if method != "HEAD" else b"")


class GalleryInvariant:
    """Watches every confirmed bucket change: a manifest may only reference objects the bucket
    holds, and no object a manifest references may be deleted."""

    def __init__(self, keys: set[str] | None = None) -> None:
        self.keys: set[str] = set(keys or ())
        self.manifests: dict[str, set[str]] = {}
        self.violations: list[str] = []
        self.manifest_puts = 0

    def __call__(self, method: str, key: str | None, status: int, body: bytes) -> None:
        if key is None or status >= 300:
            return
        if method == "PUT":
            if key.endswith("/manifest.json"):
                self.manifest_puts += 1
                prefix = key[: -len("manifest.json")]
                photos = json.loads(body)["photos"]
                refs = {prefix + p[f] for p in photos for f in ("src", "thumb", "webp") if p.get(f)}
                for missing in sorted(refs - self.keys):
                    self.violations.append(f"{key} references {missing}, not in the bucket")
                self.manifests[key] = refs
            self.keys.add(key)
        elif method == "DELETE":
            for manifest_key, refs in self.manifests.items():
                if key in refs:
                    self.violations.append(f"deleted {key} while {manifest_key} references it")
            self.keys.discard(key)
            self.manifests.pop(key, None)
