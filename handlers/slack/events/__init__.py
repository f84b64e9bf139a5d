"""Events API listeners (the pre-filter has already dropped what we do not answer)."""

from handlers.slack.events import app_home_opened, app_mention, direct_message


def register(app, slack) -> None:  # type: ignore[no-untyped-def]
    app_mention.register(app, slack)
    direct_message.register(app, slack)
    app_home_opened.register(app, slack)
