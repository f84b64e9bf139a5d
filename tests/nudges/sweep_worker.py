"""One sweep in a process of its own, for the test of several processes sweeping at once.

Usage: python -m tests.nudges.sweep_worker DATABASE_URL SLACK_API_URL ISO_TIME START_FILE
Prints "ready" once warmed up, then waits for START_FILE to appear, so every process sweeps at the same moment.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime

from bot.logging import configure_logging
from handlers.slack.context import ChannelPacer, build_web_client
from handlers.slack.notify import SlackNotifier
from storage.db import open_database
from tests.slack.fake_slack import BOT_TOKEN
from workflows.delivery import NudgeSweep
from workflows.nudge_types import NudgePolicy


def main() -> None:
    database_url, api_url, moment, start_file = sys.argv[1:5]
    configure_logging("WARNING", "json")  # standard output is for the parent process to read
    database = open_database(database_url)
    notifier = SlackNotifier(build_web_client(BOT_TOKEN, api_url), pacer=ChannelPacer(burst=1000))
    sweep = NudgeSweep(database, NudgePolicy(), [notifier], send_now=True)
    now = datetime.fromisoformat(moment)
    sweep.plan(now)  # warm up (imports, connections) before the start line
    print("ready", flush=True)
    while not os.path.exists(start_file):
        time.sleep(0.005)
    report = sweep.run(now)
    print(json.dumps({"queued": report.queued, "sent": report.sent, "keys": report.sent_keys}))
    database.dispose()


if __name__ == "__main__":
    main()
