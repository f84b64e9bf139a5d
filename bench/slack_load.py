"""Slack acknowledgement latency under load, against a real `commissioning-bot serve`.

Starts the fake Slack Web API (tests/slack/fake_slack.py) in this process and
`commissioning-bot serve` as a subprocess pointed at it, waits for /healthz to
say ready (index and embedding model warm), then sends signed requests the way
Slack does: half slash commands (help, list, roles, ask ...), half channel
mentions with guidance questions, a fixed number at a time. Prints the
acknowledgement latency (median, p99, max: Slack's limit is 3 s, our target
p99 < 0.3 s) and how many answers reached the fake Slack, each exactly once
(every request has its own channel or response_url, so duplicates show).

    .venv/bin/python bench/slack_load.py [--requests 200] [--concurrency 50] [--model-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from tests.slack.conftest import ALICE, NEWBIE, OWEN, PRIYA, add_fake_users  # noqa: E402
from tests.slack.fake_slack import BOT_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlack  # noqa: E402
from tests.slack.harness import SIGNING_SECRET, SlackSender, free_port, sign  # noqa: E402

SHARED = REPO.parent / "shared"
QUESTIONS = [
    "Who takes strategic sourcing decisions?",
    "What should the Analyse stage cover?",
    "What does a portfolio holder do?",
    "When should a service be decommissioned?",
    "Who is the section 151 officer?",
    "How do we review outcomes for residents?",
]
COMMANDS = ["help", "list", "roles", "whois portfolio holder", "status 1"] + [f"ask {q}" for q in QUESTIONS[:3]]
USERS = [ALICE, OWEN, PRIYA, NEWBIE]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(fraction * len(ordered))) - 1))]


def send_signed(
    endpoint: str, requests: list[tuple[str, str]], concurrency: int, warm_connections: bool
) -> tuple[list[float], list[int]]:
    """Runs in the load-generator process: sign each body as Slack does at send time, post, time the answer."""
    client = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=concurrency))

    def send(request: tuple[str, str]) -> tuple[float, int]:
        body, content_type = request
        timestamp = int(time.time())
        began = time.perf_counter()
        response = client.post(
            endpoint,
            content=body.encode(),
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": str(timestamp),
                "X-Slack-Signature": sign(body, timestamp),
            },
        )
        return time.perf_counter() - began, response.status_code

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        if warm_connections:
            # Open the connections first, as a sender that has been talking to us for a while would have.
            list(pool.map(lambda _: client.get(endpoint.rsplit("/slack/", 1)[0] + "/healthz"), range(concurrency)))
        results = list(pool.map(send, requests))
    return [latency for latency, _ in results], [status for _, status in results]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--model-dir", type=Path, default=SHARED / "models" / "all-MiniLM-L6-v2")
    parser.add_argument("--answer-timeout", type=float, default=180.0)
    parser.add_argument(
        "--cold-connections",
        action="store_true",
        help="send the burst on fresh connections instead of already-open keep-alive ones",
    )
    args = parser.parse_args()

    fake = FakeSlack().start()
    add_fake_users(fake)
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="slack-load-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "DATA_DIR"))},
        "DATA_DIR": str(data_dir),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "LOG_LEVEL": "WARNING",
    }
    if args.model_dir.exists():
        env["EMBEDDING_MODEL_DIR"] = str(args.model_dir)
    command = [str(REPO / ".venv" / "bin" / "commissioning-bot"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if not Path(command[0]).exists():
        command[0:1] = [sys.executable, "-m", "bot"]
    server = subprocess.Popen(command, env=env, cwd=data_dir, stdout=subprocess.DEVNULL)
    try:
        started = time.monotonic()
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() - started > 300:
                print("serve did not become ready", file=sys.stderr)
                return 1
            time.sleep(0.2)
        print(f"serve ready in {time.monotonic() - started:.1f} s (index and embedding model warm)")

        # The requests are built here (each with its own channel or response_url) and sent from a separate
        # process, so the load generator and the fake Slack do not share one interpreter's lock.
        builder = SlackSender(url, fake)
        requests: list[tuple[str, str]] = []
        expected: list[tuple[str, dict[str, str]]] = []  # (method, args that identify this request's answer)
        for n in range(args.requests):
            user = USERS[n % len(USERS)]
            if n % 2 == 0:
                response_url = fake.response_url()
                requests.append(
                    (
                        urlencode(
                            {
                                "token": "legacy",
                                "team_id": TEAM_ID,
                                "channel_id": "C0LOADCMD1",
                                "user_id": user,
                                "command": "/commissioning",
                                "text": COMMANDS[(n // 2) % len(COMMANDS)],
                                "response_url": response_url,
                                "trigger_id": fake.new_trigger_id(),
                            }
                        ),
                        "application/x-www-form-urlencoded",
                    )
                )
                expected.append(("response_url", {"url": response_url.split(fake.url)[1]}))
            else:
                channel, ts = f"C0LOAD{n:04d}", builder.new_ts()
                requests.append(
                    (
                        json.dumps(
                            {
                                "team_id": TEAM_ID,
                                "api_app_id": "A0COMMAPP1",
                                "type": "event_callback",
                                "event_id": f"Ev0LOAD{n:05d}",
                                "event_time": int(time.time()),
                                "event": {
                                    "type": "app_mention",
                                    "user": user,
                                    "channel": channel,
                                    "ts": ts,
                                    "event_ts": ts,
                                    "text": f"<@{BOT_USER_ID}> {QUESTIONS[(n // 2) % len(QUESTIONS)]}",
                                },
                            }
                        ),
                        "application/json",
                    )
                )
                expected.append(("chat.postMessage", {"channel": channel}))

        sent_at = time.monotonic()
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as generator:
            latencies, statuses = generator.submit(
                send_signed, f"{url}/slack/events", requests, args.concurrency, not args.cold_connections
            ).result()
        sent_seconds = time.monotonic() - sent_at
        if set(statuses) != {200}:
            print(f"unexpected HTTP statuses: {Counter(statuses)}", file=sys.stderr)

        deadline = time.monotonic() + args.answer_timeout
        while time.monotonic() < deadline:
            answered = sum(1 for method, match in expected if fake.calls_to(method, **match))
            if answered == len(expected):
                break
            time.sleep(0.2)
        answers_seconds = time.monotonic() - sent_at
        time.sleep(1.0)  # anything sent twice would arrive now
        counts = Counter()
        for method, match in expected:
            counts[min(len(fake.calls_to(method, **match)), 2)] += 1
        refused = [c for c in fake.calls if not c.ok]

        print(
            f"requests: {args.requests} ({args.requests // 2} slash commands, {args.requests - args.requests // 2} "
            f"mentions), {args.concurrency} "
            f"at a time, all acknowledged {sent_seconds:.2f} s after starting the load generator"
        )
        print(
            f"ack latency: median {statistics.median(latencies) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
            f"(target p99 < 300 ms)"
        )
        print(
            f"answers: {counts[1]} exactly once, {counts[2]} more than once, {counts[0]} missing; "
            f"all in {answers_seconds:.1f} s"
        )
        print(f"Web API calls refused by the fake Slack: {len(refused)}")
        return 0 if counts[1] == len(expected) else 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        fake.stop()


if __name__ == "__main__":
    sys.exit(main())
