"""What the guidance's own words say about a question's words: spelling, abbreviations and aliases.

Every council writes differently, so nothing here is a list of the guidance's
terms. The lexicon is learned from the indexed passages:

- **Vocabulary.** Each word the guidance uses, with how many passages use it.
  A question word the guidance never uses, and that is not an everyday English
  word, is corrected to the nearest word the guidance does use ("standstil" →
  "standstill"), preferring the more common one at the same distance.
- **Abbreviations defined in the text.** "Client Officers Group (COG)" and
  "COG (Client Officers Group)" teach that COG means Client Officers Group, by
  the initial-letter matching of Schwartz and Hearst (2003).
- **Synonyms file.** A small, documented file of abbreviations and everyday
  words common across UK public bodies ("cllr", "O&S"), which a council can
  edit or replace (``SYNONYMS_FILE``).

English words come from the embedding model's own word list when one is
installed, so that an ordinary word the guidance happens not to use ("canteen")
is never "corrected" into one it does use.
"""

from __future__ import annotations

import bisect
import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA

from knowledge.tokens import STOP_WORDS, stem

DEFAULT_SYNONYMS_FILE = Path(__file__).resolve().parent / "synonyms.toml"

_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
# "s151", "s.151", "s 151", "ss.4-6": the usual way of writing "section 151".
_SECTION_SHORTHAND = re.compile(r"(?i)\bs{1,2}\.?\s?(\d{1,4}[A-Z]?)\b")
# "(COG)", "(KPIs)", "(O&S)": a candidate abbreviation in brackets.
_BRACKETED_SHORT = re.compile(r"\((?P<short>[A-Za-z][A-Za-z0-9&./-]{1,9})\)")
_BRACKETED_LONG = re.compile(r"\b(?P<short>[A-Z][A-Za-z0-9&]{1,9})\s+\((?P<long>[^()]{4,80})\)")
_PASSAGE_BREAK = "\n\n\n"  # between passages when they are read as one text
_QUESTION_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9&'’.-]*[A-Za-z0-9]|[A-Za-z0-9]")


def _is_abbreviation(short: str) -> bool:
    letters = [c for c in short if c.isalpha()]
    if len(letters) < 2 or len(short) > 10:
        return False
    upper = sum(c.isupper() for c in letters)
    # "COG", "KPIs", "O&S", "PA23": mostly capitals; a lower-case word in brackets is not one.
    return upper >= 2 and upper >= len(letters) - 1


def best_long_form(short: str, preceding: str) -> str | None:
    """The words before "(SHORT)" that SHORT abbreviates, or None (Schwartz & Hearst's algorithm)."""
    letters = (
        [c.lower() for c in short.rstrip("s") if c.isalnum()]
        if short.endswith("s") and short[:-1].isupper()
        else [c.lower() for c in short if c.isalnum()]
    )
    if not letters:
        return None
    words = preceding.split()
    window = words[-min(len(words), len(letters) + 5, 2 * len(letters)) :]
    text = " ".join(window)
    s_index = len(letters) - 1
    l_index = len(text) - 1
    while s_index >= 0:
        c = letters[s_index]
        # Walk back until the letter matches; the first letter must start a word.
        while l_index >= 0 and (
            text[l_index].lower() != c or (s_index == 0 and l_index > 0 and text[l_index - 1].isalnum())
        ):
            l_index -= 1
        if l_index < 0:
            return None
        l_index -= 1
        s_index -= 1
    start = text.rfind(" ", 0, l_index + 1) + 1
    long_form = text[start:].strip(" ,;:-–—(")
    if not long_form or len(long_form.split()) > len(letters) + 3 or long_form.lower() == short.lower():
        return None
    return long_form


def mine_abbreviations(texts: Iterable[str]) -> dict[str, str]:
    """Abbreviations the guidance defines, lower-case short form → long form."""
    found: dict[str, Counter[str]] = {}
    for text in texts:
        for match in _BRACKETED_SHORT.finditer(text):
            short = match.group("short").strip(".")
            if not _is_abbreviation(short):
                continue
            before = text[max(0, match.start() - 200) : match.start()].rsplit(_PASSAGE_BREAK, 1)[-1]
            long_form = best_long_form(short, before)
            if long_form:
                found.setdefault(_key(short), Counter())[long_form] += 1
        for match in _BRACKETED_LONG.finditer(text):
            short, long_text = match.group("short"), match.group("long")
            if not _is_abbreviation(short):
                continue
            initials = "".join(w[0] for w in long_text.split() if w[:1].isalpha() and w.lower() not in STOP_WORDS)
            if initials.lower() == _key(short).replace("&", "").replace(".", "") and len(long_text.split()) <= 8:
                found.setdefault(_key(short), Counter())[long_text.strip()] += 1
    return {short: forms.most_common(1)[0][0] for short, forms in found.items()}


def _key(short: str) -> str:
    short = short.strip(".").lower()
    # "KPIs" is the plural of "KPI".
    return short[:-1] if len(short) > 2 and short.endswith("s") and not short[:-1].endswith("s") else short


_QUESTION_WORDS = {"what", "how", "who", "why", "when", "where", "which", "whom"}
_AUXILIARIES = ("does", "are", "was", "has", "can", "did", "were", "have", "should", "would", "could", "will")


def _swapped_auxiliary(word: str) -> str | None:
    """ "dose" in "what dose ...": an auxiliary verb with two letters swapped."""
    for auxiliary in _AUXILIARIES:
        if len(auxiliary) == len(word) and sorted(auxiliary) == sorted(word):
            differ = [i for i, (a, b) in enumerate(zip(auxiliary, word, strict=False)) if a != b]
            if len(differ) == 2 and differ[1] == differ[0] + 1:
                return auxiliary
    return None


def _in_capitals(token: str) -> bool:
    """ "CAN", "KPIs", "O&S": written as an abbreviation (a plural "s" aside)."""
    letters = [c for c in (token[:-1] if token.endswith("s") else token) if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


@dataclass(frozen=True)
class Synonyms:
    """The synonyms file: abbreviations (as written there) → what they stand for, and other words for a thing."""

    abbreviations: dict[str, str] = field(default_factory=dict)
    other_words: dict[str, tuple[str, ...]] = field(default_factory=dict)


def load_synonyms(path: Path | None) -> Synonyms:
    path = path or DEFAULT_SYNONYMS_FILE
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    table = data.get("abbreviations", {}) | data.get("synonyms", {})
    abbreviations = {str(k).strip(): str(v).strip() for k, v in table.items() if str(k).strip() and str(v).strip()}
    other: dict[str, tuple[str, ...]] = {}
    for key, value in data.get("other_words", {}).items():
        values = [value] if isinstance(value, str) else list(value)
        words = tuple(str(v).strip().lower() for v in values if str(v).strip())
        if str(key).strip() and words:
            other[" ".join(str(key).lower().split())] = words
    return Synonyms(abbreviations, other)


@lru_cache(maxsize=4)
def english_words(model_dir: str | None) -> dict[str, int]:
    """Whole English words from the embedding model's word list, each with its place in it.

    The list runs roughly from the most to the least common word, so the place says how everyday
    a word is. Empty when no model is installed.
    """
    if not model_dir:
        return {}
    vocab = Path(model_dir) / "onnx" / "vocab.txt"
    if not vocab.is_file():
        return {}
    words = vocab.read_text(encoding="utf-8", errors="ignore").split("\n")
    return {w: n for n, w in enumerate(words) if len(w) > 1 and w.isalpha() and w.islower()}


# Places in the model's word list: the first few thousand are everyday words.
_EVERYDAY_PLACE = 1500
_LAST_PLACE = 30_000


@dataclass
class Rewrite:
    """A question as the guidance would phrase it, and what was changed to get there."""

    text: str
    corrections: dict[str, str] = field(default_factory=dict)
    expansions: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # words neither the guidance nor English knows


class Lexicon:
    def __init__(
        self,
        word_counts: Counter[str],
        abbreviations: dict[str, str],
        synonyms: Synonyms | dict[str, str],
        english: dict[str, int] | None = None,
    ) -> None:
        if isinstance(synonyms, dict):
            synonyms = Synonyms(synonyms)
        self.word_counts = word_counts
        self.english = english or {}
        self._rarity_by_stem: dict[str, float] | None = None
        # The guidance's own definitions win over the synonyms file.
        table = {k.lower(): (k, v) for k, v in synonyms.abbreviations.items()}
        table.update({k: (k.upper(), v) for k, v in abbreviations.items()})
        self._expansions = table
        # Longest phrases first, so "cabinet member" is found before "cabinet".
        self._other_words = sorted(synonyms.other_words.items(), key=lambda item: -len(item[0]))
        self._other_pattern = (
            re.compile(r"\b(" + "|".join(re.escape(k) for k, _ in self._other_words) + r")(?:s|es)?\b", re.IGNORECASE)
            if self._other_words
            else None
        )
        self._candidates: list[str] | None = None
        self._sorted_words: list[str] | None = None
        self._english_candidates: list[str] = []

    @classmethod
    def build(
        cls, texts: Iterable[str], synonyms: Synonyms | dict[str, str], english: dict[str, int] | None = None
    ) -> Lexicon:
        # One pass over all the text at once: a word's count is how often the guidance uses it.
        everything = _PASSAGE_BREAK.join(texts)
        counts = Counter(_WORD.findall(everything.lower().replace("’", "'")))
        return cls(counts, mine_abbreviations([everything]), synonyms, english)

    def rarity(self, term: str) -> float:
        """How unusual a word the guidance never uses is in everyday English, from 0.25 to 1.

        "stage" missing from the guidance says little about a question; "pothole" says a lot.
        Without the model's word list every such word counts in full.
        """
        if not self.english:
            return 1.0
        if self._rarity_by_stem is None:
            table: dict[str, float] = {}
            span = math.log(_LAST_PLACE / _EVERYDAY_PLACE)
            for word, place in self.english.items():
                value = min(1.0, max(0.25, math.log(max(place, 1) / _EVERYDAY_PLACE) / span))
                key = stem(word)
                table[key] = min(value, table.get(key, 1.0))
            self._rarity_by_stem = table
        return self._rarity_by_stem.get(term, 1.0)

    def knows(self, word: str) -> bool:
        """Whether the guidance uses this word, singular or plural ("bidder", "bidders")."""
        counts = self.word_counts
        if word in counts or f"{word}s" in counts or (word.endswith("s") and word[:-1] in counts):
            return True
        return word.endswith(("s", "x", "z", "ch", "sh")) and f"{word}es" in counts

    def correct(self, word: str) -> str | None:
        """The guidance's word nearest a misspelt one, or None."""
        if len(word) < 4 or not word.isalpha() or word in STOP_WORDS:
            return None
        related = self._same_family(word)
        if related:
            return related
        if word in self.english:
            return None
        if self._candidates is None:
            guidance = [w for w in self.word_counts if len(w) >= 3 and w.isalpha()]
            self._candidates = guidance
            self._english_candidates = sorted(w for w in self.english if w not in self.word_counts and len(w) >= 5)
        limit = 1 if len(word) < 8 else 2
        matches = process.extract(word, self._candidates, scorer=OSA.distance, score_cutoff=limit, limit=None)
        if not matches and len(word) >= 6:
            # An everyday word misspelt ("spliting"): spelling it right still helps the meaning search.
            matches = process.extract(
                word, self._english_candidates, scorer=OSA.distance, score_cutoff=limit, limit=None
            )
        if not matches:
            return None
        best = min(distance for _, distance, _ in matches)
        nearest = [candidate for candidate, distance, _ in matches if distance == best]
        # The guidance's own words first, then the more common one.
        return max(nearest, key=lambda w: (w in self.word_counts, self.word_counts.get(w, 0), w))

    def _same_family(self, word: str) -> str | None:
        """The guidance's word from the same family ("scrutinises" → "scrutiny"): a long shared beginning."""
        if len(word) < 7:
            return None
        if self._sorted_words is None:
            self._sorted_words = sorted(w for w in self.word_counts if w.isalpha() and len(w) >= 6)
        words = self._sorted_words
        for size in range(len(word) - 1, max(6, math.ceil(0.6 * len(word))) - 1, -1):
            prefix = word[:size]
            start = bisect.bisect_left(words, prefix)
            family = []
            for candidate in words[start:]:
                if not candidate.startswith(prefix):
                    break
                if size >= 0.5 * len(candidate):
                    family.append(candidate)
            if family:
                return max(family, key=lambda w: (self.word_counts[w], w))
        return None

    def expansion(self, token: str) -> str | None:
        """What an abbreviation stands for, if the guidance or the synonyms file says.

        A short form that is also an everyday word ("CAN", "COG") counts only when written in capitals.
        """
        lowered = token.lower().strip(".")
        for key in dict.fromkeys((lowered, _key(token))):
            entry = self._expansions.get(key)
            if entry is None:
                continue
            written, meaning = entry
            everyday = key in STOP_WORDS or key in self.english
            if (everyday or any(c.isupper() for c in written)) and not _in_capitals(token):
                continue
            return meaning
        return None

    def rewrite(self, question: str) -> Rewrite:
        """Correct misspellings and spell out abbreviations, keeping the question's own words too."""
        text = _SECTION_SHORTHAND.sub(lambda m: f"section {m.group(1)}", question)
        result = Rewrite(text)
        pieces: list[str] = []
        last = 0
        previous = ""
        for match in _QUESTION_TOKEN.finditer(text):
            token = match.group()
            after_question_word, previous = previous in _QUESTION_WORDS, token.lower()
            pieces.append(text[last : match.start()])
            last = match.end()
            replacement = token
            lowered = token.lower().replace("’", "'")
            expanded = self.expansion(token)
            if expanded and expanded.lower() != lowered:
                result.expansions[token] = expanded
                # Keep the short form only where the guidance itself uses it.
                replacement = f"{token} ({expanded})" if self.knows(lowered) else expanded
            elif lowered.isalpha() and not self.knows(lowered) and lowered not in STOP_WORDS:
                corrected = (_swapped_auxiliary(lowered) if after_question_word else None) or self.correct(lowered)
                if corrected:
                    result.corrections[token] = corrected
                    replacement = corrected
                elif lowered not in self.english:
                    result.unknown.append(lowered)
            pieces.append(replacement)
        pieces.append(text[last:])
        result.text = self._with_other_words("".join(pieces), result)
        return result

    def _with_other_words(self, text: str, result: Rewrite) -> str:
        """ "can a cabinet member sit on ...": also the words the guidance uses for the same thing."""
        if self._other_pattern is None:
            return text
        table = dict(self._other_words)
        added: list[str] = []
        for match in self._other_pattern.finditer(text):
            found = match.group(1).lower()
            for other in table.get(found, ()):
                if (
                    other not in text.lower()
                    and other not in added
                    and all(self.knows(w) for w in other.split() if w not in STOP_WORDS)
                ):
                    added.append(other)
                    result.expansions.setdefault(match.group(0), other)
        return f"{text} ({'; '.join(added)})" if added else text
