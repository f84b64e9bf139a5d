"""The Slack adapter: Bolt listeners that turn Slack requests into calls on the chat core, and replies into Block Kit.

Where things are:

- ``app.py``: builds the Bolt app (the one entry point);
- ``prefilter.py``: decides whether an event is answered at all (self, other bots, edits, duplicates);
- ``commands/``, ``events/``, ``actions/``, ``views/``: one listener per file, each with ``register(app, slack)``
  and, beside it, the task its slow work runs as (``@interaction_task``);
- ``blocks.py``: every Block Kit layout; ``constants.py``: every action id, callback id and block id;
- ``context.py``: what listeners share (the Web API client, the chat core, people, the durable work queue);
- ``answers.py``, ``command_work.py``, ``interaction_work.py``: work stored before Slack's ack and done once
  (answers to messages; slash commands; presses, submitted forms, the App Home and the assistant panel);
- ``routes.py``: the ``/slack/events`` route for the ASGI server; ``socket_mode.py``: Socket Mode.

The rules themselves live in ``workflows/``; nothing here decides anything about reviews or guidance.
"""
