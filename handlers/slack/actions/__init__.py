"""Button listeners (block_actions)."""

from handlers.slack.actions import (
    answer_rating,
    conversation_buttons,
    feedback,
    insights_chart,
    nudges,
    open_review_form,
    review_buttons,
)


def register(app, slack) -> None:  # type: ignore[no-untyped-def]
    conversation_buttons.register(app, slack)
    answer_rating.register(app, slack)
    open_review_form.register(app, slack)
    review_buttons.register(app, slack)
    nudges.register(app, slack)
    feedback.register(app, slack)
    insights_chart.register(app, slack)
