"""An officer's rating of a guidance answer (Helpful / Not helpful, an optional comment), stored in the answer log.

Every platform's rating control ends here: Slack's buttons (classic and the AI feedback buttons), Teams' card
buttons and its native feedback loop. Only the rating, the comment and the time are stored; never who rated.
"""

from __future__ import annotations

import structlog

from storage.answer_log import AnswerLog

__all__ = ["THANKS_HELPFUL", "THANKS_NOT_HELPFUL", "rate_answer"]

log = structlog.get_logger(__name__)

THANKS_HELPFUL = "Thanks, glad it helped."
THANKS_NOT_HELPFUL = "Thanks for telling us. The people who look after the guidance will see this and use it."


def rate_answer(
    answer_log: AnswerLog | None, platform: str, ref: str, helpful: bool, comment: str | None = None
) -> bool:
    """Store the rating of the answer ``ref``; False when that answer is not in the log (an answer from before
    the log existed, or one purged since). The log event counts ratings either way."""
    stored = False
    if answer_log is not None and ref:
        try:
            stored = answer_log.rate(ref, helpful, comment)
        except Exception as error:  # noqa: BLE001 - the officer is thanked anyway; operators get the log
            log.error("answer_rating_not_stored", platform=platform, error=type(error).__name__)
    log.info("answer_rated", platform=platform, helpful=helpful, stored=stored, comment=bool(comment))
    return stored
