"""What a huge unauthenticated request costs the server: its memory before and after 300 MB is sent.

Runs the product's ASGI app (``bot.server.build_server``, with its request guard) under uvicorn in this
process and sends ``/api/messages`` and ``/slack/events`` 300 MB each: once declared in Content-Length,
once streamed in chunks with no length. Prints each answer, how long it took, and the process's RSS.

    .venv/bin/python bench/http_limits.py
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from bot.app import Services  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.logging import configure_logging  # noqa: E402
from bot.server import build_server  # noqa: E402

TOTAL = 300 * 1_048_576


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def chunks():  # 300 MB in 1 MB pieces, never held at once
    piece = b" " * 1_048_576
    for _ in range(TOTAL // len(piece)):
        yield piece


def main() -> None:
    configure_logging("ERROR", "text")
    with tempfile.TemporaryDirectory() as scratch:
        services = Services(Settings(data_dir=Path(scratch), _env_file=None))  # type: ignore[call-arg]
        app = build_server(services, [], warm_up=False)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.02)
        print(f"RSS at start: {rss_mb():.0f} MB")
        for path in ("/api/messages", "/slack/events"):
            with socket.create_connection(("127.0.0.1", port)) as connection:
                started = time.perf_counter()
                connection.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {TOTAL}\r\n\r\n".encode() + b"{" * 65_536
                )
                status = connection.recv(64).split(b"\r\n", 1)[0].decode()
            print(f"{path}, 300 MB declared: {status} in {time.perf_counter() - started:.3f} s; RSS {rss_mb():.0f} MB")
            started = time.perf_counter()
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}{path}", content=chunks(), timeout=30)
                outcome = str(answer.status_code)
            except httpx.HTTPError as error:  # the server may close the connection after answering 413
                outcome = type(error).__name__
            print(f"{path}, 300 MB streamed: {outcome} in {time.perf_counter() - started:.3f} s; RSS {rss_mb():.0f} MB")
        server.should_exit = True
        services.close()


if __name__ == "__main__":
    main()
