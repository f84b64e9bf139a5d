"""The role directory: who does what, taken from the guidance's own tables and role sections.

Roles-and-responsibilities tables copied out of Word or PDF lose their bullet
points, so one cell reads "Defines Council strategic priorities Makes strategic
sourcing decisions ...". :func:`split_responsibilities` puts the breaks back,
using the way such cells are written: each responsibility starts with a
capitalised verb in the third person ("Makes", "Monitors") or a stock opening
("Responsible for", "Often").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.models import Chunk, PassageKind, Role

_FUNCTION_WORDS = {
    "a", "an", "the", "of", "and", "or", "for", "to", "in", "on", "at", "by", "with", "from",
    "as", "into", "their", "its", "his", "her", "our", "your", "'their'",
}
# Openings that start a new responsibility even though they are not verbs.
_CLAUSE_OPENERS = {
    "responsible", "accountable", "often", "member", "members", "focused", "comprised", "also",
    "may", "can", "will", "must", "should", "chairs", "acts", "leads",
}
_VERB_LIKE = re.compile(r"^[A-Z][a-z]{2,}(?:es|s)$")
_NOT_VERBS = {
    "councils", "members", "services", "officers", "reviews", "outcomes", "commissioners",
    "agreements", "executives", "partners", "providers", "stakeholders", "bodies", "groups",
    "committees", "holders", "boards", "teams", "residents", "users", "citizens", "plans",
    "resources", "needs", "standards", "processes", "priorities", "services'", "councillors",
}
_ROLE_HEADER = re.compile(r"(?i)\b(role|stakeholder|group|function|who|post|officer|body|member|job|title|person)\b")
_RESPONSIBILITY_HEADER = re.compile(r"(?i)\b(role|responsib|duties|does|do|accountab)\w*")
_ROLE_SECTION_OPENING = re.compile(
    r"(?i)^(?:these|this|they|he|she)?\s*(?:are|is)?\s*(?:the\s+)?(?:people|person|team|officers?|members?)\b"
    r"|\b(?:a person or a team|people responsible|responsible for)\b"
)


def split_responsibilities(cell: str) -> list[str]:
    """Split a table cell that runs several responsibilities together."""
    text = re.sub(r"\s+", " ", cell).strip()
    if not text:
        return []
    tokens = text.split(" ")
    segments: list[list[str]] = [[]]
    for i, token in enumerate(tokens):
        current = segments[-1]
        if current and _starts_new_clause(token, current, tokens[i + 1] if i + 1 < len(tokens) else ""):
            segments.append([])
        segments[-1].append(token)
    pieces: list[str] = []
    for segment in segments:
        sentence = " ".join(segment).strip()
        # Sentences inside one responsibility stay together; split on full stops too.
        for part in re.split(r"(?<=[.!?])\s+(?=[A-Z])", sentence):
            part = part.strip().rstrip(";")
            if part:
                pieces.append(part)
    return pieces


def _starts_new_clause(token: str, current: list[str], next_token: str) -> bool:
    if not token[:1].isupper() or not token.isalpha():
        return False
    previous = current[-1]
    if previous.lower() in _FUNCTION_WORDS or previous.endswith((",", "(", "‘", "-", "–")):
        return False
    # The first word of a responsibility is its verb; "Advises Councils" is one clause.
    if len(current) == 1:
        return False
    lower = token.lower()
    if lower in _CLAUSE_OPENERS:
        return True
    if _is_verb_like(token):
        if previous[:1].islower() or previous.endswith(("'", "’", ")")) or not previous[:1].isalpha():
            return True
        # "... Service Agreements Provides service ..." — a verb after a capitalised noun,
        # recognised by the lower-case word that follows it.
        return next_token[:1].islower() and not _is_verb_like(previous)
    # "... commissioned services Linking outcomes to ..." — a gerund opening a new item.
    return token.endswith("ing") and previous[:1].islower() and next_token[:1].islower()


def _is_verb_like(token: str) -> bool:
    return bool(_VERB_LIKE.match(token)) and not token.endswith("ss") and token.lower() not in _NOT_VERBS


@dataclass
class RoleDirectory:
    roles: list[Role]

    def find(self, query: str) -> list[Role]:
        """Roles whose name matches the query (case-insensitive, singular or plural)."""
        wanted = role_key(query)
        if not wanted:
            return []
        exact = [r for r in self.roles if role_key(r.name) == wanted]
        if exact:
            return exact
        return [r for r in self.roles if wanted in role_key(r.name) or role_key(r.name) in wanted]

    def mentioned_in(self, text: str) -> list[Role]:
        """Roles named in a question, longest names first."""
        haystack = " " + role_key(text) + " "
        found = [r for r in self.roles if role_key(r.name) and f" {role_key(r.name)} " in haystack]
        return sorted(found, key=lambda r: -len(r.name))


def role_key(name: str) -> str:
    name = re.sub(r"\([^)]*\)", " ", name.lower())
    name = re.sub(r"[^a-z0-9 ]+", " ", name)
    words = []
    for word in name.split():
        if word in {"the", "a", "an"}:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return " ".join(words)


def build_role_directory(chunks: Iterable[Chunk]) -> RoleDirectory:
    roles: list[Role] = []
    by_section: dict[tuple[str, tuple[str, ...]], list[Chunk]] = {}
    for chunk in chunks:
        if chunk.kind is PassageKind.TABLE_ROW:
            role = _role_from_row(chunk)
            if role:
                roles.append(role)
        elif chunk.kind is PassageKind.PARAGRAPH and chunk.section:
            by_section.setdefault((chunk.source_key, chunk.section), []).append(chunk)
    for (_, section), section_chunks in by_section.items():
        role = _role_from_section(section, section_chunks)
        if role:
            roles.append(role)
    return RoleDirectory(roles)


def _role_from_row(chunk: Chunk) -> Role | None:
    headers = chunk.meta.get("headers") or []
    cells = chunk.meta.get("cells") or []
    if len(headers) < 2 or len(cells) < 2 or not cells[0]:
        return None
    if not (_ROLE_HEADER.search(headers[0]) and _RESPONSIBILITY_HEADER.search(" ".join(headers[1:]))):
        return None
    responsibilities = [r for cell in cells[1:] for r in split_responsibilities(cell)]
    if not responsibilities:
        return None
    return Role(
        name=cells[0].strip(),
        responsibilities=responsibilities,
        source=chunk.source,
        section=chunk.section_label,
        chunk_id=chunk.chunk_id,
    )


def _role_from_section(section: tuple[str, ...], chunks: list[Chunk]) -> Role | None:
    """A short heading whose text opens by describing people ("These are people responsible for ...")."""
    heading = section[-1]
    if len(heading.split()) > 4 or heading.endswith("?"):
        return None
    first = chunks[0].text.split("\n")[0]
    first_sentence = re.split(r"(?<=[.!?])\s+", first)[0]
    if not _ROLE_SECTION_OPENING.search(first_sentence):
        return None
    sentences = [
        s.strip()
        for chunk in chunks[:2]
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", chunk.text.replace("\n", " "))
        if s.strip()
    ]
    return Role(
        name=heading,
        responsibilities=sentences[:4],
        source=chunks[0].source,
        section=chunks[0].section_label,
        chunk_id=chunks[0].chunk_id,
    )
