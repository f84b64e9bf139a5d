"""Typed questions a flow asks, each able to check an answer on its own.

A step does not know whether it is being asked one question at a time in a
chat or shown as one field of a form (a Slack modal, a Teams card): both call
:meth:`Step.validate` with the raw text and get back a :class:`Valid` value, an
:class:`Invalid` message written for the officer, or :class:`NeedsConfirmation`
for an answer that is allowed but worth a second look (a duplicate title).

Values are stored in the conversation state as JSON (:meth:`Step.dump`) and
read back with :meth:`Step.load`, so a conversation survives a restart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from workflows.dates import DateError, format_date, parse_friendly_date
from workflows.people import PeopleResolver, PersonRef

__all__ = [
    "Option",
    "Valid",
    "Invalid",
    "NeedsConfirmation",
    "Validation",
    "StepContext",
    "Step",
    "TextStep",
    "ChoiceStep",
    "YesNoStep",
    "DateStep",
    "ListStep",
    "ConfirmStep",
    "YES_WORDS",
    "NO_WORDS",
    "normalise",
    "split_list",
]

YES_WORDS = frozenset(
    {
        "yes",
        "y",
        "yep",
        "yeah",
        "ok",
        "okay",
        "confirm",
        "correct",
        "sure",
        "go ahead",
        "create",
        "create it",
        "that's right",
    }
)
NO_WORDS = frozenset({"no", "n", "nope", "not yet", "change", "change something", "edit"})


@dataclass(frozen=True)
class Option:
    """One choice offered to the officer: ``value`` is what a button sends back, ``label`` what it shows."""

    value: str
    label: str


@dataclass(frozen=True)
class Valid:
    value: Any
    # Read back to the officer so a misread answer is caught at once ("Fri 27 November 2026").
    echo: str | None = None


@dataclass(frozen=True)
class Invalid:
    message: str
    options: list[Option] = field(default_factory=list)


@dataclass(frozen=True)
class NeedsConfirmation:
    value: Any
    message: str


Validation = Valid | Invalid | NeedsConfirmation


@dataclass
class StepContext:
    """What a step may consult while checking an answer.

    ``answers`` holds the typed values of the steps answered so far, so that a
    step can check itself against earlier ones (stage dates must not go backwards).
    """

    today: date
    answers: Mapping[str, Any] = field(default_factory=dict)
    people: PeopleResolver | None = None
    actor: PersonRef | None = None


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold().rstrip(".!")


Check = Callable[[Any, StepContext], "str | NeedsConfirmation | None"]
Default = Callable[[StepContext], Any]


@dataclass
class Step:
    """A question. Subclasses set ``kind`` and implement :meth:`parse` (raise ValueError with a message)."""

    id: str
    label: str
    help: str = ""
    required: bool = True
    max_chars: int = 500
    # A short name for the summary and for per-field errors ("Due date for Plan").
    title: str = ""
    # A suggested answer the officer can accept with "ok".
    default: Default | None = None
    # A rule that needs other answers or the database (dates going backwards, duplicate titles).
    check: Check | None = None

    kind = "text"

    @property
    def name(self) -> str:
        return self.title or self.label

    def options(self, ctx: StepContext) -> list[Option]:
        return []

    def suggestion(self, ctx: StepContext) -> Any | None:
        return self.default(ctx) if self.default is not None else None

    def offered(self, current: Any | None, ctx: StepContext) -> Any | None:
        """What "ok" accepts: the answer already given while it still holds, else the step's suggestion.

        After an earlier answer changes (a stage moved later), the old answer may no longer pass its checks;
        offering it would invite an "ok" that is then refused."""
        if current is not None and self.recheck(current, ctx) is None:
            return current
        return self.suggestion(ctx)

    def parse(self, raw: str, ctx: StepContext) -> Validation:
        raise NotImplementedError

    def validate(self, raw: str, ctx: StepContext) -> Validation:
        """Check one answer; usable outside the chat (form fields)."""
        text = raw.strip()
        if len(text) > self.max_chars:
            return Invalid(
                f"That answer is {len(text):,} characters long; the limit for this question is "
                f"{self.max_chars:,}. Please shorten it."
            )
        if not text:
            if self.required:
                return Invalid("This question needs an answer.")
            return Valid(None)
        result = self.parse(text, ctx)
        if isinstance(result, Valid) and result.value is not None and self.check is not None:
            problem = self.check(result.value, ctx)
            if isinstance(problem, str):
                return Invalid(problem)
            if isinstance(problem, NeedsConfirmation):
                return problem
        return result

    def recheck(self, value: Any, ctx: StepContext) -> str | None:
        """Whether a stored answer still holds after an earlier answer changed."""
        if value is None:
            return "This question needs an answer." if self.required else None
        if self.check is None:
            return None
        problem = self.check(value, ctx)
        return problem if isinstance(problem, str) else None

    def settle(self, value: Any, ctx: StepContext) -> Validation:
        """Check an already-typed value (a suggestion accepted with "ok", a default on skip) like a typed answer."""
        if value is None:
            return Invalid("This question needs an answer.") if self.required else Valid(None)
        problem = self.recheck(value, ctx)
        if problem:
            return Invalid(f"{problem} Please give another answer.")
        if self.check is not None:
            outcome = self.check(value, ctx)
            if isinstance(outcome, NeedsConfirmation):
                return outcome
        return Valid(value)

    def dump(self, value: Any) -> Any:
        return value

    def load(self, data: Any) -> Any:
        return data

    def display(self, value: Any) -> str:
        if value is None:
            return "(none)"
        return str(value)


@dataclass
class TextStep(Step):
    min_chars: int = 2
    kind = "text"

    def parse(self, raw: str, ctx: StepContext) -> Validation:
        if len(raw) < self.min_chars:
            return Invalid(f"That's very short. Please give at least {self.min_chars} characters.")
        return Valid(raw)


@dataclass
class ChoiceStep(Step):
    choices: Sequence[Option] = ()
    kind = "choice"

    def options(self, ctx: StepContext) -> list[Option]:
        return list(self.choices)

    def parse(self, raw: str, ctx: StepContext) -> Validation:
        wanted = normalise(raw)
        options = list(self.choices)
        if wanted.isdigit() and 1 <= int(wanted) <= len(options):
            return Valid(options[int(wanted) - 1].value)
        for option in options:
            if wanted in {normalise(option.value), normalise(option.label)}:
                return Valid(option.value)
        starts = [o for o in options if normalise(o.label).startswith(wanted) or normalise(o.value).startswith(wanted)]
        if len(starts) == 1 and len(wanted) >= 3:
            return Valid(starts[0].value)
        listed = ", ".join(o.label for o in options)
        return Invalid(f"Please choose one of: {listed}.", options)

    def display(self, value: Any) -> str:
        for option in self.choices:
            if option.value == value:
                return option.label
        return super().display(value)


@dataclass
class YesNoStep(Step):
    kind = "yes_no"

    def options(self, ctx: StepContext) -> list[Option]:
        return [Option("yes", "Yes"), Option("no", "No")]

    def parse(self, raw: str, ctx: StepContext) -> Validation:
        wanted = normalise(raw)
        if wanted in YES_WORDS or wanted == "true":
            return Valid(True)
        if wanted in NO_WORDS or wanted == "false":
            return Valid(False)
        return Invalid("Please answer yes or no.", self.options(ctx))

    def display(self, value: Any) -> str:
        return "(none)" if value is None else ("Yes" if value else "No")


@dataclass
class DateStep(Step):
    # The earliest acceptable date given the answers so far (the previous stage's due date).
    not_before: Callable[[StepContext], date | None] | None = None
    kind = "date"

    def parse(self, raw: str, ctx: StepContext) -> Validation:
        floor = self.not_before(ctx) if self.not_before else None
        try:
            value = parse_friendly_date(raw, ctx.today, not_before=floor)
        except DateError as error:
            return Invalid(str(error))
        return Valid(value, echo=format_date(value))

    def recheck(self, value: Any, ctx: StepContext) -> str | None:
        floor = self.not_before(ctx) if self.not_before and value is not None else None
        if floor is not None and value < floor:
            return f"{format_date(value)} is now before the previous stage's date ({format_date(floor)})."
        if value is not None and value < ctx.today:
            return f"{format_date(value)} is now in the past."
        return super().recheck(value, ctx)

    def dump(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else value

    def load(self, data: Any) -> Any:
        return date.fromisoformat(data) if isinstance(data, str) else data

    def display(self, value: Any) -> str:
        return format_date(value) if isinstance(value, date) else super().display(value)


def split_list(raw: str) -> list[str]:
    """Items typed on separate lines, after bullets, or separated by semicolons."""
    parts = re.split(r"[\n;]+", raw)
    items = []
    for part in parts:
        item = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", part).strip()
        if item:
            items.append(item)
    return items


@dataclass
class ListStep(Step):
    max_items: int = 20
    max_item_chars: int = 500
    kind = "list"

    def parse(self, raw: str, ctx: StepContext) -> Validation:
        items = split_list(raw)
        if not items:
            return Invalid("Please give at least one item.")
        if len(items) > self.max_items:
            return Invalid(f"That's {len(items)} items; please keep it to {self.max_items} at most.")
        too_long = next((i for i, item in enumerate(items, 1) if len(item) > self.max_item_chars), None)
        if too_long is not None:
            return Invalid(f"Item {too_long} is longer than {self.max_item_chars} characters. Please shorten it.")
        deduped = list(dict.fromkeys(items))
        return Valid(deduped, echo="; ".join(deduped))

    def display(self, value: Any) -> str:
        return "; ".join(value) if value else "(none)"


@dataclass
class ConfirmStep(Step):
    """The last question: a summary of every answer, then create or change something."""

    kind = "confirm"

    def options(self, ctx: StepContext) -> list[Option]:
        return [Option("yes", "Yes, create it"), Option("change", "Change an answer")]

    def parse(self, raw: str, ctx: StepContext) -> Validation:
        wanted = normalise(raw)
        if wanted in YES_WORDS or wanted.startswith("yes"):
            return Valid(True)
        if wanted in NO_WORDS:
            return Valid(False)
        return Invalid("Reply yes to create it, change to change an answer, or cancel to stop.", self.options(ctx))
