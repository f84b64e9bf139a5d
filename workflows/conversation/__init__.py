"""The conversation engine: declarative flows of typed steps, run one question at a time or as one form.

Adapters (Slack, Teams, the terminal) use :class:`ConversationEngine` through
:mod:`workflows.dialogue`; flows such as :mod:`workflows.review_flow` are
built from the step types here.
"""

from workflows.conversation.commands import COMMANDS
from workflows.conversation.engine import MAX_MESSAGE_CHARS, ConversationEngine, ConversationStore
from workflows.conversation.flow import Completion, Flow, FlowError, FormField, FormResult
from workflows.conversation.person_steps import PeopleListStep, PersonStep
from workflows.conversation.state import EngineState
from workflows.conversation.steps import (
    ChoiceStep,
    ConfirmStep,
    DateStep,
    Invalid,
    ListStep,
    NeedsConfirmation,
    Option,
    Step,
    StepContext,
    TextStep,
    Valid,
    Validation,
    YesNoStep,
)
from workflows.conversation.turns import Prompt, Turn, TurnStatus

__all__ = [
    "COMMANDS",
    "MAX_MESSAGE_CHARS",
    "ConversationEngine",
    "ConversationStore",
    "EngineState",
    "Prompt",
    "Turn",
    "TurnStatus",
    "Completion",
    "Flow",
    "FlowError",
    "FormField",
    "FormResult",
    "ChoiceStep",
    "ConfirmStep",
    "DateStep",
    "Invalid",
    "ListStep",
    "NeedsConfirmation",
    "Option",
    "PeopleListStep",
    "PersonStep",
    "Step",
    "StepContext",
    "TextStep",
    "Valid",
    "Validation",
    "YesNoStep",
]
