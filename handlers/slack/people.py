"""Slack users as people: who is talking, and who an officer means by ``<@U123>`` or an email.

A Slack user the people table has not seen is looked up with ``users.info``
(name, email, timezone) and stored, so reviews and reminders can name them; a
typed email is looked up with ``users.lookupByEmail``. Look-ups are cached for
a while, because every message would otherwise cost a Web API call.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from storage.people import PeopleRepository, PersonError
from workflows.people import (
    ChainedPeopleResolver,
    DirectoryPeopleResolver,
    PeopleResolver,
    PersonRef,
    Resolution,
    Resolved,
    RewritingResolver,
    Unknown,
)

log = structlog.get_logger(__name__)

# Long enough that a burst of messages costs one users.info; short enough that a changed timezone is picked up.
REFRESH_SECONDS = 6 * 3600
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_BARE_ID = re.compile(r"^[UW][A-Z0-9]{8,}$")
_MAILTO = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class SlackPeople:
    """Finds (and stores) the person behind a Slack user id or an email."""

    def __init__(self, client: WebClient, people: PeopleRepository) -> None:
        self._client = client
        self._people = people
        self._seen: dict[str, tuple[float, PersonRef | None]] = {}
        self._lock = threading.Lock()

    def person_for(self, slack_user_id: str) -> PersonRef | None:
        """The person for a Slack user, asking Slack about users we have not seen recently."""
        slack_user_id = slack_user_id.strip().upper()
        with self._lock:
            cached = self._seen.get(slack_user_id)
        if cached is not None and time.monotonic() - cached[0] < REFRESH_SECONDS:
            return cached[1]
        person = self._refresh(slack_user_id)
        with self._lock:
            self._seen[slack_user_id] = (time.monotonic(), person)
        return person

    def person_for_email(self, email: str) -> PersonRef | None:
        known = self._people.find_by_email(email)
        if known is not None:
            return PersonRef.from_person(known)
        try:
            response = self._client.users_lookupByEmail(email=email)
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                log.warning("slack_lookup_failed", method="users.lookupByEmail", error=error.response.get("error"))
            return None
        return self._store(response["user"])

    def _refresh(self, slack_user_id: str) -> PersonRef | None:
        known = self._people.find_by_slack_id(slack_user_id)
        try:
            response = self._client.users_info(user=slack_user_id)
        except SlackApiError as error:
            log.warning("slack_lookup_failed", method="users.info", error=error.response.get("error"))
            return PersonRef.from_person(known) if known is not None else None
        return self._store(response["user"]) or (PersonRef.from_person(known) if known is not None else None)

    def _store(self, user: dict[str, Any]) -> PersonRef | None:
        """Add or update the person from a Slack user object; bots and deleted users are not people."""
        if user.get("is_bot") or user.get("deleted") or user.get("id") == "USLACKBOT":
            return None
        profile = user.get("profile") or {}
        name = (
            profile.get("real_name")
            or user.get("real_name")
            or profile.get("display_name")
            or user.get("name")
            or user["id"]
        )
        try:
            person = self._people.upsert(
                name=name,
                email=profile.get("email") or None,
                slack_user_id=user["id"],
                timezone=user.get("tz") or None,
                actor="slack",
            )
        except PersonError as error:
            # Usually an email that already belongs to someone with another Slack id: leave it to an administrator.
            log.warning("slack_person_not_stored", reason=str(error)[:200])
            existing = self._people.find_by_slack_id(user["id"])
            return PersonRef.from_person(existing) if existing is not None else None
        return PersonRef.from_person(person)


class SlackMentionResolver:
    """Resolves what Slack writes for a person: ``<@U123>``, a bare user id from a user picker, or an email."""

    def __init__(self, slack_people: SlackPeople) -> None:
        self._slack_people = slack_people

    def resolve(self, text: str) -> Resolution:
        query = text.strip().strip(",;")
        if match := _MENTION.match(query):
            person = self._slack_people.person_for(match[1])
        elif _BARE_ID.match(query):
            person = self._slack_people.person_for(query)
        else:
            if match := _MAILTO.match(query):
                query = match[1]
            if not _EMAIL.match(query):
                return Unknown(query)
            person = self._slack_people.person_for_email(query.lower())
        return Resolved(person) if person is not None else Unknown(query)


def plain_text(text: str) -> str:
    """Slack's markup for a person as the people table knows them: ``<@U123|sam>`` -> ``U123``,
    ``<mailto:a@b|a@b>`` -> ``a@b``; anything else as it is."""
    query = text.strip().strip(",;")
    if match := _MENTION.match(query):
        return str(match[1])
    if match := _MAILTO.match(query):
        return str(match[1])
    return text


def slack_people_resolver(slack_people: SlackPeople, people: PeopleRepository, me: PersonRef | None) -> PeopleResolver:
    """Slack's own look-ups first, then names, ids, emails and "me" from the people table."""
    directory = RewritingResolver(plain_text, DirectoryPeopleResolver(people, me=me))
    return ChainedPeopleResolver([SlackMentionResolver(slack_people), directory])
