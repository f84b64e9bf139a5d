"""Microsoft Teams adapter: Bot Framework activities in, Adaptive Cards and Connector messages out.

Where things are:

- ``endpoint.py``   POST /api/messages: authenticate, de-duplicate, acknowledge, dispatch
- ``auth.py``       the channel's bearer JWT, checked against its OpenID metadata and keys
- ``token.py``      the bot's own token for the Connector, from Entra ID through msal
- ``connector.py``  the Connector REST API: replies, 1:1 conversations, pacing and retries
- ``activities.py`` what each activity means (install, message, mention, card action, invoke)
- ``cards.py``      Adaptive Card (v1.5) builders for answers, replies and the review form
- ``people.py``     Teams users and mentions to people in the people table
- ``proactive.py``  :func:`send_proactive`, the one call nudges and feedback use to reach someone
- ``manifest.py``   the Teams app package (manifest and icons)
"""
