"""Modal submission listeners (view_submission)."""

from handlers.slack.views import advance_reason, answer_comment, feedback, review_wizard


def register(app, slack) -> None:  # type: ignore[no-untyped-def]
    review_wizard.register(app, slack)
    advance_reason.register(app, slack)
    feedback.register(app, slack)
    answer_comment.register(app, slack)
