"""Teams users as people: who is talking, how to reach them later, and who they @mention.

A Teams user arrives with two ids: the channel id (``29:...``, what the
Connector takes) and the Azure AD object id (``aadObjectId``, stable across the
tenant and stored as ``Person.teams_user_id``). The activity carries the name but
not the email, so the first time someone unknown talks to the bot we ask the
Connector for their member record (email, UPN): an officer an administrator
added by email is then linked to their Teams account rather than duplicated.

The conversation reference a proactive message needs (service URL, conversation
id, tenant, bot and user ids) is stored on the person from their 1:1 chat with
the bot; from a channel or group chat we keep only what is needed to open that
1:1 chat later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import structlog
from microsoft_agents.activity import Activity
from sqlalchemy.exc import IntegrityError

from handlers.teams.connector import ConnectorClient, ConnectorError
from handlers.teams.token import BotTokenError
from storage.models import Person
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

_AT_TAG = re.compile(r"^<at>(.+?)</at>$", re.IGNORECASE)


@dataclass(frozen=True)
class ConversationReference:
    """What the bot must remember to message someone first. Stored as JSON on the person."""

    service_url: str
    tenant_id: str
    bot_id: str
    user_id: str  # the channel's id for the user (29:...), which the Connector takes
    user_aad_id: str | None = None
    conversation_id: str | None = None  # the 1:1 chat, once known
    bot_name: str | None = None
    channel_id: str = "msteams"

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ConversationReference | None:
        if not data:
            return None
        try:
            fields: dict[str, Any] = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
            return cls(**fields)
        except TypeError:
            return None

    @classmethod
    def from_activity(cls, activity: Activity) -> ConversationReference | None:
        tenant = _tenant_of(activity)
        user, bot = activity.from_property, activity.recipient
        if not (activity.service_url and tenant and user and user.id and bot and bot.id):
            return None
        personal = (activity.conversation.conversation_type if activity.conversation else None) == "personal"
        return cls(
            service_url=activity.service_url,
            tenant_id=tenant,
            bot_id=bot.id,
            bot_name=bot.name,
            user_id=user.id,
            user_aad_id=(user.aad_object_id or None),
            conversation_id=activity.conversation.id if personal and activity.conversation else None,
        )


def _tenant_of(activity: Activity) -> str | None:
    if activity.conversation and activity.conversation.tenant_id:
        return activity.conversation.tenant_id
    data = activity.channel_data
    if isinstance(data, dict) and isinstance(data.get("tenant"), dict):
        tenant = data["tenant"].get("id")
        return str(tenant) if tenant else None
    return None


def is_personal(activity: Activity) -> bool:
    return bool(activity.conversation and activity.conversation.conversation_type == "personal")


def shows_ai_messages(activity: Activity) -> bool:
    """Teams shows citations and the feedback loop in personal and group chats, not in channels."""
    kind = activity.conversation.conversation_type if activity.conversation else None
    return kind in ("personal", "groupChat")


class TeamsPeople:
    """Maps the sender of an activity to a person, storing how to reach them."""

    def __init__(self, people: PeopleRepository, connector: ConnectorClient | None) -> None:
        self._people = people
        self._connector = connector

    def identify(self, activity: Activity) -> PersonRef | None:
        """The person behind ``activity.from``, added or linked on first contact; None when Teams gave no AAD id."""
        sender = activity.from_property
        aad = (sender.aad_object_id if sender else None) or None
        if sender is None or not aad:
            return None
        reference = ConversationReference.from_activity(activity)
        person = self._people.find_by_teams_id(aad)
        try:
            if person is None:
                person = self._first_contact(activity, aad)
            if person is not None and reference is not None:
                self._remember_reference(person, reference)
        except PersonError as error:
            log.warning("teams_person_not_saved", reason=str(error)[:200])
        except IntegrityError:
            # Teams sends conversationUpdate and installationUpdate together on install: the other
            # activity's thread saved this person first, which is just as good.
            person = self._people.find_by_teams_id(aad)
        if person is None:
            return None
        return PersonRef.from_person(person)

    def _first_contact(self, activity: Activity, aad: str) -> Person | None:
        sender = activity.from_property
        name = (sender.name or "").strip() or "Teams user"
        email = None
        member = self._member(activity, sender.id)
        if member:
            email = member.get("email") or None
            if not email and "@" in str(member.get("userPrincipalName") or ""):
                email = member["userPrincipalName"]
            name = (member.get("name") or name).strip() or name
        person = self._people.upsert(name=name, email=email, teams_user_id=aad, actor="teams")
        log.info("teams_person_linked", person_id=person.id, by_email=email is not None)
        return person

    def _member(self, activity: Activity, member_id: str) -> dict[str, Any] | None:
        if self._connector is None or not activity.service_url or not activity.conversation:
            return None
        try:
            return self._connector.get_member(activity.service_url, activity.conversation.id, member_id)
        except (ConnectorError, BotTokenError) as error:
            log.warning("teams_member_lookup_failed", status=getattr(error, "status", None))
            return None

    def _remember_reference(self, person: Person, reference: ConversationReference) -> None:
        stored = ConversationReference.from_json(person.teams_conversation_ref)
        if reference.conversation_id is None and stored is not None:
            # A channel message: keep the 1:1 chat we already know, only refresh the service URL.
            reference = ConversationReference(**{**stored.__dict__, "service_url": reference.service_url})
        if stored == reference and person.reachable:
            return
        self._people.upsert(
            name=person.name,
            teams_user_id=person.teams_user_id,
            teams_conversation_ref=reference.to_json(),
            reachable=True,
            actor="teams",
        )

    def mark_unreachable(self, aad: str) -> None:
        person = self._people.find_by_teams_id(aad)
        if person is not None and person.reachable:
            self._people.set_reachable(person.id, False, actor="teams")  # type: ignore[arg-type]
            log.info("teams_person_unreachable", person_id=person.id)


class TeamsMentionResolver:
    """Resolves a ``<at>Name</at>`` the officer typed to the person Teams says they mentioned.

    Teams puts each mention's user id in the activity's entities; the member record
    gives their AAD id and email. Anything it does not recognise falls through to
    the people table (see :class:`workflows.people.ChainedPeopleResolver`).
    """

    def __init__(self, activity: Activity, people: PeopleRepository, connector: ConnectorClient | None) -> None:
        self._activity = activity
        self._people = people
        self._connector = connector
        bot_id = activity.recipient.id if activity.recipient else None
        self._mentions: dict[str, str] = {}
        for entity in activity.entities or []:
            mentioned = getattr(entity, "mentioned", None)
            if getattr(entity, "type", None) == "mention" and mentioned is not None and mentioned.id != bot_id:
                label = _AT_TAG.sub(r"\1", getattr(entity, "text", None) or mentioned.name or "")
                if label:
                    self._mentions[label.casefold()] = mentioned.id

    def resolve(self, text: str) -> Resolution:
        query = text.strip()
        name = _AT_TAG.sub(r"\1", query).lstrip("@").strip().casefold()
        member_id = self._mentions.get(name)
        if member_id is None or self._connector is None or not self._activity.conversation:
            return Unknown(query)
        try:
            member = self._connector.get_member(
                self._activity.service_url or "", self._activity.conversation.id, member_id
            )
        except (ConnectorError, BotTokenError):
            return Unknown(query)
        if not member or not member.get("aadObjectId"):
            return Unknown(query)
        aad = str(member["aadObjectId"])
        person = self._people.find_by_teams_id(aad)
        if person is None:
            email = member.get("email") or (
                member.get("userPrincipalName") if "@" in str(member.get("userPrincipalName") or "") else None
            )
            try:
                person = self._people.upsert(
                    name=member.get("name") or name, email=email, teams_user_id=aad, actor="teams"
                )
            except PersonError:
                return Unknown(query)
        return Resolved(PersonRef.from_person(person))


def plain_text(text: str) -> str:
    """A Teams mention as the people table knows the person: ``<at>Sam Patel</at>`` -> ``Sam Patel``."""
    query = text.strip().strip(",;").strip()
    match = _AT_TAG.match(query)
    return str(match[1]) if match else text


def teams_people_resolver(
    activity: Activity, people: PeopleRepository, connector: ConnectorClient | None, me: PersonRef | None
) -> PeopleResolver:
    """Who the officer @mentioned in this activity (asking Teams for their record), then names, emails and "me"
    from the people table."""
    directory = RewritingResolver(plain_text, DirectoryPeopleResolver(people, me=me))
    return ChainedPeopleResolver([TeamsMentionResolver(activity, people, connector), directory])
