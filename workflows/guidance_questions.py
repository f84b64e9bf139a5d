"""Questions for the guidance, asked in a conversation: the recent questions kept for follow-ups, and the
answer as a reply with its citations, "Helpful" buttons and suggested questions."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import structlog

from knowledge.models import Answer, AnswerKind
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


@runtime_checkable
class KnowledgeSource(Protocol):
    def ask(self, question: str, history: Sequence[str] = ()) -> Answer: ...


class GuidanceQuestions:
    """Answers questions from the knowledge base, remembering each conversation's last few questions.

    ``knowledge`` may be a factory: the terminal starts at once and loads the index on the first question.
    """

    def __init__(self, knowledge: KnowledgeSource | Callable[[], KnowledgeSource] | None) -> None:
        self._source = knowledge
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
        buttons: list[Button] = []
        if answer.kind in {AnswerKind.ANSWERED, AnswerKind.UNSURE}:
            value = question[:1900]
            buttons = [Button("Helpful", value, Actions.HELPFUL), Button("Not helpful", value, Actions.NOT_HELPFUL)]
        buttons += [Button(s, s, Actions.ASK) for s in answer.suggestions]
        return [Reply(answer.text, ReplyKind.ANSWER, citations=list(answer.citations), buttons=buttons, answer=answer)]

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
