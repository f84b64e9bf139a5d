"""Microsoft Teams adapter: Bot Framework activities in, Adaptive Cards and Connector messages out.

Where things are:

- ``endpoint.py``     POST /api/messages: authenticate, de-duplicate, acknowledge, dispatch
- ``activities.py``   which module answers each activity and invoke (one mapping per kind)
- ``messages/``       typed text (commands, the review conversation, questions); Action.Submit from older clients
- ``events/``         the app installed or removed
- ``invokes/``        card actions and the review form's dialog, answered in the HTTP response
- ``actions/``        card buttons and forms, one module per feature, each with ``register(cards, teams)``
- ``registry.py``     the one mapping from a card's verb or a button's action id to its handler
- ``context.py``      what every handler shares (services, Connector, people, sending)
- ``cards.py``        Adaptive Card (v1.5) builders; ``feedback_cards.py`` the feedback forms and chart
- ``auth.py``         the channel's bearer JWT, checked against its OpenID metadata and keys
- ``token.py``        the bot's own token for the Connector, from Entra ID through msal
- ``connector.py``    the Connector REST API: replies, 1:1 conversations, pacing and retries
- ``people.py``       Teams users and mentions to people in the people table
- ``proactive.py``    :func:`send_proactive`, the one call nudges and feedback use to reach someone
- ``manifest.py``     the Teams app package (manifest and icons)
- ``constants.py``    every verb, data key and invoke name; ``settings.py`` the TEAMS_* settings
"""
