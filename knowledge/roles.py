"""The role directory: who does what, taken from the guidance's own tables and prose.

Roles come from three shapes of text, none of them tied to a particular
document's wording:

- **Tables** whose other columns describe responsibilities (a column heading
  about roles, responsibilities or duties) and whose first column names
  short, capitalised posts or bodies.
- **Sections** headed by a short name whose text opens by describing people
  ("These are the officers who ...").
- **Constitution-style prose**: "The Monitoring Officer is responsible for
  ...", "the Section 151 Officer shall ...". A capitalised subject followed by
  a duty ("is responsible for", "shall", "must", "will") names a role; its
  sentences are its responsibilities.

A name's bracketed part is kept as another name for the role: "Council Head
of Paid Service (Lead commissioner)" is found as either.

Cells copied out of Word or PDF lose their bullets, so one cell reads "Defines
strategic priorities Makes sourcing decisions ...". :func:`split_responsibilities`
puts the breaks back: a new responsibility starts at a capitalised word that
opens another cell of the same table (the table shows how its items begin),
or at a third-person verb or gerund following the end of a phrase.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from knowledge.models import Chunk, PassageKind, Role

# English function words: a capitalised word after one of these continues a name ("through Cabinet").
_FUNCTION_WORDS = {
    "a",
    "an",
    "the",
    "of",
    "and",
    "or",
    "for",
    "to",
    "in",
    "on",
    "at",
    "by",
    "with",
    "from",
    "as",
    "into",
    "their",
    "its",
    "his",
    "her",
    "our",
    "your",
    "'their'",
    "via",
    "per",
    "between",
    "within",
    "across",
}
_VERB_LIKE = re.compile(r"^[A-Z][a-z]{2,}(?:es|s)$")
_GERUND = re.compile(r"^[A-Z][a-z]{2,}ing$")
_RESPONSIBILITY_HEADER = re.compile(r"(?i)\b(?:role|responsib|duties|duty|accountab|function|does|do)\w*")
_ROLE_SECTION_OPENING = re.compile(
    r"(?i)^(?:these|this|they|he|she)?\s*(?:are|is)?\s*(?:the\s+)?(?:people|person|team|officers?|members?)\b"
    r"|\bresponsible\s+for\b"
)
# "The Monitoring Officer is responsible for ...", "the Section 151 Officer shall ...".
_NAME_WORD = r"(?:[A-Z][\w'’&-]*|[0-9]{1,4}[A-Z]?)"
_LINK_WORD = r"(?:of|and|for|the|&)"
_PROSE_DUTY = re.compile(
    rf"(?:^|(?<=[.;:]\s)|(?<=\n)|(?<=\)\s)|(?<=[0-9]\s)|(?<=•\s))(?:The\s+|the\s+|Each\s+|A\s+|An\s+)?"
    rf"(?P<name>{_NAME_WORD}(?:\s+(?:{_NAME_WORD}|{_LINK_WORD})){{0,6}})"
    rf"(?:\s+\((?P<alias>[^()]{{2,60}})\))?"
    rf"\s+(?P<duty>(?:is|are)\s+(?:responsible|accountable)\s+(?:for|to)|shall|must|will|should|may|has\s+responsibility\s+for)\s+",
    re.MULTILINE,
)
# Words that head a reference to the document itself ("Section 5 shall"), not a post or body.
_DOCUMENT_PARTS = {
    "section",
    "sections",
    "subsection",
    "part",
    "chapter",
    "schedule",
    "article",
    "paragraph",
    "clause",
    "rule",
    "regulation",
    "regulations",
    "act",
    "order",
    "appendix",
    "annex",
    "table",
    "figure",
    "this",
    "these",
    "that",
    "it",
    "they",
    "there",
    "we",
    "you",
    "i",
    "he",
    "she",
    "each",
    "any",
    "all",
    "no",
    "if",
    "where",
    "when",
    "nothing",
    "such",
}
_MAX_PROSE_DUTIES = 6
# What every match of _PROSE_DUTY contains: a capitalised word (or a bracket) just before the duty.
_CAPITAL_THEN_DUTY = re.compile(
    r"[A-Z0-9][\w'’&-]*\)?\s+(?:(?:is|are)\s+(?:responsible|accountable)|shall|must|will|should|may|has\s+responsibility)\s"
)


def split_responsibilities(cell: str, openers: Iterable[str] = ()) -> list[str]:
    """Split a table cell that runs several responsibilities together.

    ``openers`` are the words that begin other cells of the same table: the table's own way of starting an item.
    """
    text = re.sub(r"\s+", " ", cell).strip()
    if not text:
        return []
    known = set(openers)
    tokens = text.split(" ")
    segments: list[list[str]] = [[]]
    for i, token in enumerate(tokens):
        current = segments[-1]
        if current and _starts_new_clause(token, current, tokens[i + 1] if i + 1 < len(tokens) else "", known):
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


def table_openers(rows: Sequence[Sequence[str]]) -> frozenset[str]:
    """The words that start the description cells of a table (and the sentences in them)."""
    openers: set[str] = set()
    for row in rows:
        for cell in row[1:]:
            for sentence in re.split(r"(?<=[.!?])\s+", cell.strip()):
                first = sentence.split(" ", 1)[0].strip("‘'\"“(")
                if first[:1].isupper() and first.isalpha():
                    openers.add(first)
    return frozenset(openers)


def _starts_new_clause(token: str, current: list[str], next_token: str, openers: set[str]) -> bool:
    if not token[:1].isupper() or not token.isalpha():
        return False
    previous = current[-1]
    if previous.lower() in _FUNCTION_WORDS or previous.endswith((",", "(", "‘", "-", "–")):
        return False
    # The first word of a responsibility is its verb; "Advises Councils" is one clause.
    if len(current) == 1:
        return False
    if previous.endswith(("s'", "s’", "'s", "’s")):
        return False  # a possessive: what follows is the thing possessed ("Commissioners' Outcomes")
    phrase_ended = previous[:1].islower() or previous.endswith(("'", "’", ")")) or not previous[:1].isalpha()
    if token in openers and (phrase_ended or next_token[:1].islower()):
        return True
    if _VERB_LIKE.match(token) and not token.endswith("ss") and phrase_ended:
        return True
    # "... commissioned services Linking outcomes to ..." — a gerund opening a new item.
    return bool(_GERUND.match(token)) and previous[:1].islower() and next_token[:1].islower()


def role_key(name: str) -> str:
    name = re.sub(r"[^a-z0-9 ]+", " ", name.lower())
    words = []
    for word in name.split():
        if word in {"the", "a", "an"}:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return " ".join(words)


def name_and_aliases(raw: str) -> tuple[str, list[str]]:
    """ "Council Head of Paid Service (Lead commissioner)" → the name as written, and its other names."""
    name = " ".join(raw.split()).strip(" :;,.")
    bracketed = re.findall(r"\(([^()]{2,60})\)", name)
    aliases = []
    for inner in bracketed:
        inner = inner.strip()
        # "(Lead commissioner)", "(S151)" are other names; "(Commissioning)" only qualifies this one.
        if len(inner.split()) >= 2 or (inner.isupper() and len(inner) >= 2):
            aliases.append(inner)
    bare = re.sub(r"\s*\([^()]*\)", "", name).strip()
    if bare and bare != name:
        aliases.append(bare)
    return name, aliases


@dataclass
class RoleDirectory:
    roles: list[Role]
    _by_key: dict[str, list[Role]] = field(default_factory=dict, init=False, repr=False)
    _longest: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        for role in self.roles:
            for key in self.keys_of(role):
                self._by_key.setdefault(key, []).append(role)
                self._longest = max(self._longest, len(key.split()))

    @staticmethod
    def keys_of(role: Role) -> set[str]:
        return {k for k in (role_key(n) for n in (role.name, *role.aliases)) if k}

    def find(self, query: str) -> list[Role]:
        """Roles whose name or another name matches the query (case-insensitive, singular or plural)."""
        wanted = role_key(query)
        if not wanted:
            return []
        exact = self._by_key.get(wanted)
        if exact:
            return _unique(exact)
        return _unique([r for r in self.roles if any(wanted in key or key in wanted for key in self.keys_of(r))])

    def mentioned_in(self, text: str) -> list[Role]:
        """Roles named in a question, longest names first."""
        words = role_key(text).split()
        found: dict[str, tuple[int, Role]] = {}
        for size in range(min(self._longest, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                for role in self._by_key.get(" ".join(words[start : start + size]), ()):
                    found.setdefault(role.chunk_id + role.name, (size, role))
        return [role for _, role in sorted(found.values(), key=lambda pair: -pair[0])]


def _unique(roles: Iterable[Role]) -> list[Role]:
    return list({id(role): role for role in roles}.values())


def build_role_directory(chunks: Iterable[Chunk]) -> RoleDirectory:
    roles: list[Role] = []
    by_section: dict[tuple[str, tuple[str, ...]], list[Chunk]] = {}
    prose: dict[str, _ProseRole] = {}
    for chunk in chunks:
        if chunk.kind is PassageKind.TABLE_ROW:
            role = _role_from_row(chunk)
            if role:
                roles.append(role)
            continue
        if chunk.kind is PassageKind.PARAGRAPH and chunk.section:
            by_section.setdefault((chunk.source_key, chunk.section), []).append(chunk)
        _collect_prose_duties(chunk, prose)
    for (_, section), section_chunks in by_section.items():
        role = _role_from_section(section, section_chunks)
        if role:
            roles.append(role)
    known = {key for role in roles for key in RoleDirectory.keys_of(role)}
    for found in prose.values():
        role = found.role()
        if role is not None and not RoleDirectory.keys_of(role) & known:
            roles.append(role)
    return RoleDirectory(roles)


def _role_from_row(chunk: Chunk) -> Role | None:
    headers = chunk.meta.get("headers") or []
    cells = chunk.meta.get("cells") or []
    if len(headers) < 2 or len(cells) < 2 or not cells[0]:
        return None
    if not _RESPONSIBILITY_HEADER.search(" ".join(headers[1:])):
        return None
    label = cells[0].strip()
    if len(label.split()) > 10 or not label[:1].isupper():
        return None
    parts = chunk.meta.get("parts")
    responsibilities = (
        [p for cell_parts in parts[1:] for p in cell_parts]
        if parts
        else [r for cell in cells[1:] for r in split_responsibilities(cell)]
    )
    if not responsibilities:
        return None
    name, aliases = name_and_aliases(label)
    return Role(
        name=name,
        responsibilities=responsibilities,
        source=chunk.source,
        section=chunk.section_label,
        chunk_id=chunk.chunk_id,
        aliases=aliases,
    )


def _role_from_section(section: tuple[str, ...], chunks: list[Chunk]) -> Role | None:
    """A short heading whose text opens by describing people ("These are people responsible for ...")."""
    heading = section[-1]
    if len(heading.split()) > 4 or heading.endswith("?") or not heading[:1].isupper():
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
    name, aliases = name_and_aliases(heading)
    return Role(
        name=name,
        responsibilities=sentences[:4],
        source=chunks[0].source,
        section=chunks[0].section_label,
        chunk_id=chunks[0].chunk_id,
        aliases=aliases,
    )


@dataclass
class _ProseRole:
    name: str
    aliases: list[str]
    chunk: Chunk
    duties: list[str] = field(default_factory=list)
    explicit: int = 0  # sentences that say "is responsible for"

    def role(self) -> Role | None:
        # One "is responsible for", several duties, or a titled name ("Head of Paid Service shall ...")
        # make a role; a lone "The Council may ..." does not.
        titled = len([w for w in self.name.split() if w[:1].isupper()]) >= 2
        if not (self.explicit or len(self.duties) >= 2 or titled or self.aliases):
            return None
        return Role(
            name=self.name,
            responsibilities=self.duties[:_MAX_PROSE_DUTIES],
            source=self.chunk.source,
            section=self.chunk.section_label,
            chunk_id=self.chunk.chunk_id,
            aliases=self.aliases,
        )


def _collect_prose_duties(chunk: Chunk, found: dict[str, _ProseRole]) -> None:
    text = chunk.text
    if not _CAPITAL_THEN_DUTY.search(text):
        return  # the full pattern is slow, and most passages name no one before a duty
    for match in _PROSE_DUTY.finditer(text):
        raw = match.group("name")
        words = raw.split()
        if (
            words[0].lower() in _DOCUMENT_PARTS
            or words[-1].lower() in _DOCUMENT_PARTS
            or words[-1].lower() in _FUNCTION_WORDS
        ):
            continue
        if not words[-1][:1].isupper() or words[-1].isdigit():
            continue
        name, aliases = name_and_aliases(raw + (f" ({match.group('alias')})" if match.group("alias") else ""))
        key = role_key(name)
        if not key:
            continue
        sentence_end = re.search(r"(?<=[.;])(?:\s|$)", text[match.end() :])
        sentence = text[match.start() : match.end() + (sentence_end.start() if sentence_end else len(text))].strip()
        sentence = re.sub(r"^(?:the|each|a|an)\s+", lambda m: m.group().capitalize(), sentence.lstrip("•;: "))
        entry = found.setdefault(key, _ProseRole(name, aliases, chunk))
        for alias in aliases:
            if alias not in entry.aliases:
                entry.aliases.append(alias)
        if sentence and sentence not in entry.duties:
            entry.duties.append(sentence)
        if "responsib" in match.group("duty") or "accountab" in match.group("duty"):
            entry.explicit += 1
