"""A flow: an ordered list of steps, a summary, and what to do when confirmed.

The same flow drives the turn-by-turn chat (:mod:`workflows.conversation.engine`)
and a one-screen form (:meth:`Flow.form_fields` and :meth:`Flow.validate_form`),
so the Slack modal, the Teams card and the typed conversation apply the same
rules and give the same messages.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from workflows.conversation.steps import (
    ConfirmStep,
    Invalid,
    NeedsConfirmation,
    Option,
    Step,
    StepContext,
    Valid,
)
from workflows.people import PersonRef

__all__ = ["Flow", "FlowError", "Completion", "FormField", "FormResult"]


class FlowError(Exception):
    """A problem finishing a flow that the officer can fix; ``str(error)`` is shown to them."""


@dataclass(frozen=True)
class Completion:
    """What finishing a flow produced: messages for the officer and the created thing."""

    messages: list[str]
    result: Any = None


@dataclass(frozen=True)
class FormField:
    """One step as a form field, for adapters that show the whole flow at once."""

    id: str
    label: str
    kind: str
    help: str
    required: bool
    options: list[Option]
    initial: str | None
    multiline: bool
    max_chars: int


@dataclass
class FormResult:
    """A whole form checked at once: typed answers, per-field errors, and warnings to confirm."""

    answers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.warnings


Finisher = Callable[[Mapping[str, Any], StepContext], Completion]


@dataclass
class Flow:
    name: str
    title: str  # "review", used in messages such as "your half-finished review"
    steps: list[Step]
    finish: Finisher
    intro: str = ""
    summary_heading: str = "Here is what you've told me:"

    def __post_init__(self) -> None:
        ids = [s.id for s in self.steps]
        if len(ids) != len(set(ids)):
            raise ValueError(f"flow {self.name} has repeated step ids")
        if not self.steps or not isinstance(self.steps[-1], ConfirmStep):
            raise ValueError(f"flow {self.name} must end with a ConfirmStep")

    # --- lookup -----------------------------------------------------------

    def step(self, step_id: str | None) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def index(self, step_id: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.id == step_id)

    @property
    def questions(self) -> list[Step]:
        """The steps that are real questions (not the closing confirmation)."""
        return [s for s in self.steps if not isinstance(s, ConfirmStep)]

    @property
    def confirm_step(self) -> ConfirmStep:
        step = self.steps[-1]
        assert isinstance(step, ConfirmStep)
        return step

    # --- stored answers -------------------------------------------------

    def load_answers(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        return {s.id: s.load(stored[s.id]) for s in self.steps if s.id in stored}

    def summary(self, answers: Mapping[str, Any]) -> str:
        lines = [self.summary_heading]
        for number, step in enumerate(self.questions, 1):
            lines.append(f"{number}. {step.name}: {step.display(answers.get(step.id))}")
        return "\n".join(lines)

    # --- the whole flow as one form -------------------------------------

    def form_fields(self, ctx: StepContext) -> list[FormField]:
        fields = []
        # Suggestions build on earlier ones (a stage's due date follows the previous stage's).
        answers: dict[str, Any] = dict(ctx.answers)
        for step in self.questions:
            step_ctx = StepContext(today=ctx.today, answers=answers, people=ctx.people, actor=ctx.actor)
            value = answers.get(step.id)
            if value is None:
                value = step.suggestion(step_ctx)
                if value is not None:
                    answers[step.id] = value
            fields.append(
                FormField(
                    id=step.id,
                    label=step.name,
                    kind=step.kind,
                    help=step.help,
                    required=step.required,
                    options=step.options(step_ctx),
                    initial=None if value is None else _as_form_text(step, value),
                    multiline=step.kind in {"list", "people"},
                    max_chars=step.max_chars,
                )
            )
        return fields

    def validate_form(self, values: Mapping[str, str], ctx: StepContext, confirmed: Collection[str] = ()) -> FormResult:
        """Check every field in order, as the chat would, collecting one message per field.

        A warning (a duplicate title) is reported until its field id comes back
        in ``confirmed``, which the adapter sends when the officer submits the
        same form again.
        """
        result = FormResult()
        answers: dict[str, Any] = {}
        for step in self.questions:
            raw = values.get(step.id) or ""
            step_ctx = StepContext(today=ctx.today, answers=answers, people=ctx.people, actor=ctx.actor)
            if not raw.strip() and not step.required:
                outcome = step.settle(step.suggestion(step_ctx), step_ctx)
            else:
                outcome = step.validate(raw, step_ctx)
            if isinstance(outcome, Invalid):
                result.errors[step.id] = outcome.message
            elif isinstance(outcome, NeedsConfirmation):
                answers[step.id] = outcome.value
                if step.id not in confirmed:
                    result.warnings[step.id] = outcome.message
            elif isinstance(outcome, Valid):
                answers[step.id] = outcome.value
        result.answers = answers
        return result


def _as_form_text(step: Step, value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PersonRef):
        return value.email or value.name
    if isinstance(value, list):
        return "\n".join(v.email or v.name if isinstance(v, PersonRef) else str(v) for v in value)
    return str(value)
