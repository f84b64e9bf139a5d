"""A loopback WebSocket server standing in for Slack's Socket Mode endpoint.

The fake Web API's ``apps.connections.open`` hands out :attr:`url`; once the
app connects, the server greets it (``hello``) as Slack does, :meth:`push`
sends an envelope, and every acknowledgement (``{"envelope_id": ...}``, with
the optional response payload) is recorded so a test can check each envelope
was acknowledged exactly once.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

from websockets.sync.server import ServerConnection, serve


class FakeSocketMode:
    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.connections: list[ServerConnection] = []
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._server = serve(self._session, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-socket-mode", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=fake-ticket"

    def start(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def _session(self, connection: ServerConnection) -> None:
        with self._lock:
            self.connections.append(connection)
            self._lock.notify_all()
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "fake", "approximate_connection_time": 3600},
                }
            )
        )
        for message in connection:
            ack = json.loads(message)
            with self._lock:
                self.acks.append(ack)
                self._lock.notify_all()

    def wait_connected(self, timeout: float = 15.0) -> ServerConnection:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self.connections:
                if not self._lock.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() > deadline:
                    raise AssertionError("the app never connected over Socket Mode")
            return self.connections[-1]

    def push(
        self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False, retry_attempt: int = 0
    ) -> str:
        envelope_id = f"env-{next(self._ids):04d}"
        self.wait_connected().send(
            json.dumps(
                {
                    "envelope_id": envelope_id,
                    "type": kind,
                    "payload": payload,
                    "accepts_response_payload": accepts_response_payload,
                    "retry_attempt": retry_attempt,
                    "retry_reason": "timeout" if retry_attempt else "",
                }
            )
        )
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [a for a in self.acks if a.get("envelope_id") == envelope_id]
                if found:
                    return found[0]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"envelope {envelope_id} was never acknowledged")
                self._lock.wait(remaining)

    def acks_for(self, envelope_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [a for a in self.acks if a.get("envelope_id") == envelope_id]
