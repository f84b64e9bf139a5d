"""The question a conversation shows next, as a :class:`~workflows.conversation.turns.Prompt`: the current step's
question (with its suggestion and options), the summary, "which answer to change", and "keep this answer?"."""

from __future__ import annotations

from dataclasses import replace

from workflows.conversation.flow import Flow
from workflows.conversation.steps import ConfirmStep, Option, Step, StepContext
from workflows.conversation.turns import Prompt

__all__ = ["confirm_prompt", "edit_prompt", "pick_prompt", "step_prompt"]


def _short(label: str, limit: int = 75) -> str:
    # Button-sized: Slack caps button text at 75 characters and long answers would swamp the list.
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def step_prompt(flow: Flow, step_id: str | None, ctx: StepContext) -> Prompt:
    """The question at ``step_id`` (the summary, at the flow's confirmation step)."""
    step = flow.step(step_id) or flow.steps[0]
    questions = flow.questions
    if isinstance(step, ConfirmStep):
        return Prompt(
            flow=flow.name,
            step_id=step.id,
            kind=step.kind,
            question=step.label,
            help=step.help,
            required=True,
            options=step.options(ctx),
            suggestion=None,
            number=len(questions),
            total=len(questions),
            detail=flow.summary(ctx.answers),
        )
    current = ctx.answers.get(step.id)
    suggestion = step.offered(current, ctx)
    return Prompt(
        flow=flow.name,
        step_id=step.id,
        kind=step.kind,
        question=step.label,
        help=step.help,
        required=step.required,
        options=step.options(ctx),
        suggestion=None if suggestion is None else step.display(suggestion),
        number=questions.index(step) + 1,
        total=len(questions),
    )


def pick_prompt(prompt: Prompt, options: list[Option]) -> Prompt:
    """The same question, offering the candidates an ambiguous answer matched (two people called Sam)."""
    return replace(
        prompt,
        kind="pick",
        question="Reply with a number, or type another answer.",
        options=options,
        suggestion=None,
        detail="",
    )


def edit_prompt(flow: Flow, ctx: StepContext) -> Prompt:
    """At the summary, after "change": every answer, numbered."""
    options = [
        Option(str(i), _short(f"{s.name}: {s.display(ctx.answers.get(s.id))}")) for i, s in enumerate(flow.questions, 1)
    ]
    return Prompt(
        flow=flow.name,
        step_id=flow.confirm_step.id,
        kind="pick",
        question="Which answer would you like to change? Reply with its number.",
        help="",
        required=True,
        options=options,
        suggestion=None,
        number=0,
        total=0,
    )


def confirm_prompt(flow: Flow, step: Step) -> Prompt:
    """An answer that is allowed but worth a second look: keep it, or give another."""
    return Prompt(
        flow=flow.name,
        step_id=step.id,
        kind="yes_no",
        question="Reply yes to keep it, or type a different answer.",
        help=step.help,
        required=True,
        options=[Option("yes", "Keep it"), Option("no", "Change it")],
        suggestion=None,
        number=0,
        total=0,
    )
