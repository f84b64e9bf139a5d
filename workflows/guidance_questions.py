"""Questions for the guidance, asked in a conversation: the recent questions kept for follow-ups, and the
answer as a reply with its citations, "Helpful" buttons and suggested questions.

Each answer is written to the answer log (``storage/answer_log.py``) when one is given: the question as typed,
the kind of answer and the passages cited, with no identity. The rating buttons carry the log entry's random
ref, so a press finds its answer without the log knowing who asked."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import structlog

from knowledge.models import Answer, AnswerKind
from storage.answer_log import AnswerLog, CitedPassage
from storage.metrics import ANSWER_SECONDS, ANSWERS
from workflows.actions import Actions
from workflows.replies import Button, Reply, ReplyKind

__all__ = ["HISTORY_LENGTH", "MAX_REMEMBERED_CONVERSATIONS", "GuidanceQuestions", "KnowledgeSource"]

log = structlog.get_logger(__name__)

# Conversation keys whose recent questions are remembered for follow-ups; older ones are forgotten.
MAX_REMEMBERED_CONVERSATIONS = 2000
HISTORY_LENGTH = 4

NOT_SET_UP = "Guidance questions aren't set up here. Say “start a review” to set up a review."
COULD_NOT_SEARCH = (
    "Sorry, I couldn't search the guidance just now. Please try again in a minute; "
    "if it keeps happening, let your system administrator know."
)


# How each kind of answer is named in the answer log and the insights.
LOGGED_KINDS = {
    AnswerKind.ANSWERED: "answered",
    AnswerKind.UNSURE: "unsure",
    AnswerKind.NOT_FOUND: "not_covered",
    AnswerKind.INVALID: "invalid",
}


@runtime_checkable
class KnowledgeSource(Protocol):
    def ask(self, question: str, history: Sequence[str] = ()) -> Answer: ...


class GuidanceQuestions:
    """Answers questions from the knowledge base, remembering each conversation's last few questions.

    ``knowledge`` may be a factory: the terminal starts at once and loads the index on the first question.
    """

    def __init__(
        self, knowledge: KnowledgeSource | Callable[[], KnowledgeSource] | None, answer_log: AnswerLog | None = None
    ) -> None:
        self._source = knowledge
        self._answer_log = answer_log
        self._knowledge: KnowledgeSource | None = None
        self._history: OrderedDict[str, deque[str]] = OrderedDict()
        self._lock = threading.Lock()

    def knowledge(self) -> KnowledgeSource | None:
        if self._knowledge is None and self._source is not None:
            source = self._source
            self._knowledge = source if isinstance(source, KnowledgeSource) else source()
        return self._knowledge

    def ask(self, platform: str, conversation_key: str, question: str) -> list[Reply]:
        try:
            knowledge = self.knowledge()
            if knowledge is None:
                return [Reply(NOT_SET_UP, ReplyKind.PROBLEM)]
            started = time.perf_counter()
            answer = knowledge.ask(question, tuple(self._recent(conversation_key)))
        except Exception as error:  # noqa: BLE001 - an officer gets a plain message; operators get the log
            log.error("question_failed", platform=platform, error=type(error).__name__, detail=str(error)[:300])
            ANSWERS.labels(kind="error").inc()
            return [Reply(COULD_NOT_SEARCH, ReplyKind.PROBLEM)]
        ANSWER_SECONDS.observe(time.perf_counter() - started)
        ANSWERS.labels(kind=answer.kind.value).inc()
        if answer.kind is not AnswerKind.INVALID:
            self._remember(conversation_key, question)
        ref = self._log(platform, question, answer)
        buttons: list[Button] = []
        if answer.kind in {AnswerKind.ANSWERED, AnswerKind.UNSURE}:
            # Without a log there is nothing to rate against; the question still tells a log line what was rated.
            value = ref or question[:1900]
            buttons = [Button("Helpful", value, Actions.HELPFUL), Button("Not helpful", value, Actions.NOT_HELPFUL)]
        buttons += [Button(s, s, Actions.ASK) for s in answer.suggestions]
        return [
            Reply(
                answer.text,
                ReplyKind.ANSWER,
                citations=list(answer.citations),
                buttons=buttons,
                answer=answer,
                answer_ref=ref,
            )
        ]

    def _log(self, platform: str, question: str, answer: Answer) -> str | None:
        """The answer's ref in the answer log, or None when there is no log (or it could not be written: the
        officer still gets the answer)."""
        if self._answer_log is None or answer.kind is AnswerKind.INVALID:
            return None
        try:
            return self._answer_log.record(
                question=" ".join(question.split()),
                kind=LOGGED_KINDS[answer.kind],
                citations=[CitedPassage(c.source, c.section, c.text) for c in answer.citations],
                platform=platform,
                written_by=answer.written_by,
            )
        except Exception as error:  # noqa: BLE001 - losing one log row must not lose the officer's answer
            log.error("answer_log_failed", platform=platform, error=type(error).__name__)
            return None

    def _recent(self, key: str) -> list[str]:
        with self._lock:
            return list(self._history.get(key, ()))

    def _remember(self, key: str, question: str) -> None:
        with self._lock:
            history = self._history.pop(key, None) or deque(maxlen=HISTORY_LENGTH)
            history.append(question)
            self._history[key] = history
            while len(self._history) > MAX_REMEMBERED_CONVERSATIONS:
                self._history.popitem(last=False)
