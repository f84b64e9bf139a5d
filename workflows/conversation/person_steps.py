"""Questions whose answer is a person, or several: read through the platform's :class:`~workflows.people.
PeopleResolver` (an @mention, an email, a name, "me"), and stored as :class:`~workflows.people.PersonRef`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workflows.conversation.steps import Invalid, Option, Step, StepContext, Valid, Validation, normalise, split_list
from workflows.people import Ambiguous, PersonRef, Resolved, unknown_person_message

__all__ = ["PeopleListStep", "PersonStep"]


def _resolve_person(text: str, ctx: StepContext) -> PersonRef | Invalid:
    if ctx.people is None:
        return Invalid("I can't look people up here. Please ask an administrator to check the set-up.")
    result = ctx.people.resolve(text)
    if isinstance(result, Resolved):
        return result.person
    if isinstance(result, Ambiguous):
        options = [Option(p.email or p.name, p.label) for p in result.candidates]
        names = "; ".join(f"{i}. {p.label}" for i, p in enumerate(result.candidates, 1))
        return Invalid(f"More than one person matches “{text}”: {names}. Which one did you mean?", options)
    return Invalid(unknown_person_message(text))


@dataclass
class PersonStep(Step):
    kind = "person"
    max_chars: int = 320

    def parse(self, raw: str, ctx: StepContext) -> Validation:
        found = _resolve_person(raw, ctx)
        if isinstance(found, Invalid):
            return found
        return Valid(found, echo=found.label)

    def dump(self, value: Any) -> Any:
        return value.to_json() if isinstance(value, PersonRef) else value

    def load(self, data: Any) -> Any:
        return PersonRef.from_json(data) if isinstance(data, dict) else data

    def display(self, value: Any) -> str:
        return value.label if isinstance(value, PersonRef) else super().display(value)


@dataclass
class PeopleListStep(Step):
    """Several people in one answer, separated by commas, semicolons or new lines."""

    kind = "people"
    max_people: int = 30
    max_chars: int = 3000

    def parse(self, raw: str, ctx: StepContext) -> Validation:
        parts = [p for p in split_list(raw.replace(",", ";")) if normalise(p) not in {"and", ""}]
        if len(parts) > self.max_people:
            return Invalid(f"That's {len(parts)} people; please name {self.max_people} at most.")
        people: list[PersonRef] = []
        problems: list[str] = []
        for part in parts:
            found = _resolve_person(part, ctx)
            if isinstance(found, Invalid):
                problems.append(found.message)
            elif found.id not in {p.id for p in people}:
                people.append(found)
        if problems:
            kept = f" I did find: {', '.join(p.name for p in people)}." if people else ""
            return Invalid(" ".join(problems) + kept + " Please give the whole list again.")
        return Valid(people, echo=", ".join(p.label for p in people))

    def dump(self, value: Any) -> Any:
        return [p.to_json() for p in value] if value is not None else None

    def load(self, data: Any) -> Any:
        return [PersonRef.from_json(p) for p in data] if isinstance(data, list) else data

    def display(self, value: Any) -> str:
        return ", ".join(p.label for p in value) if value else "(none)"
