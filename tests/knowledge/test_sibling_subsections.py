"""A numbered subsection is quoted with the retrieved subsections beside it, in document order."""

from __future__ import annotations

from knowledge.answer import extractive_answer
from knowledge.models import AnswerKind, Chunk, PassageKind
from knowledge.retrieve import Hit, QueryAnalysis
from knowledge.tokens import terms

SECTION = ("Part 2 Lending", "12 Requests to lend equipment")
REFUSAL = "(2) A depot must lend equipment on request unless lending it would leave the depot short."
REASONS = "(3) A depot that refuses a request must tell the borrower why in writing within ten days."
FAR = "(6) A depot may charge a fee for equipment returned damaged."
ELSEWHERE = "(4) A library must keep a record of every loan."


def _hit(text: str, position: int, score: float, section: tuple[str, ...] = SECTION) -> Hit:
    chunk = Chunk(f"c{position}", text, "lending.md", "/guidance/lending.md", section, position, PassageKind.PARAGRAPH)
    return Hit(chunk=chunk, score=score, lexical=score)


def _ask(question: str, hits: list[Hit]) -> str:
    analysis = QueryAnalysis(
        question=question,
        terms=terms(question),
        is_who=False,
        asks_about_role=False,
        definition_term=None,
        search_text=question,
    )
    answer = extractive_answer(question, analysis, hits)
    assert answer.kind is not AnswerKind.NOT_FOUND
    return answer.text


def test_the_next_subsection_retrieved_with_the_best_one_is_quoted_with_it() -> None:
    text = _ask("What happens if a depot refuses to lend equipment?", [_hit(REFUSAL, 5, 3.0), _hit(REASONS, 6, 2.5)])
    assert f"{REFUSAL}\n{REASONS}" in text


def test_subsections_are_quoted_in_document_order_whichever_ranked_first() -> None:
    text = _ask("Must a depot give reasons for refusing?", [_hit(REASONS, 6, 3.0), _hit(REFUSAL, 5, 2.5)])
    assert f"{REFUSAL}\n{REASONS}" in text


def test_subsections_that_are_not_neighbours_or_in_another_section_are_not_joined() -> None:
    other = ("Part 3 Libraries", "20 Loans")
    text = _ask(
        "What happens if a depot refuses to lend equipment?",
        [_hit(REFUSAL, 5, 3.0), _hit(FAR, 9, 2.9), _hit(ELSEWHERE, 6, 2.8, other)],
    )
    assert REFUSAL in text
    assert f"{REFUSAL}\n{FAR}" not in text and f"{REFUSAL}\n{ELSEWHERE}" not in text


def test_the_next_subsection_from_the_index_is_quoted_when_it_answers_at_least_as_well() -> None:
    """The subsection that says what follows is quoted even when retrieval ranked only its neighbour."""
    decide = "(1) A depot must decide whether to accept or refuse a request to lend equipment."
    follows = "(2) If a depot accepts a request to lend equipment it must deliver the equipment within ten days."
    unrelated = "(3) A depot may close on public holidays."
    chunks = {5: decide, 6: follows, 7: unrelated}
    hits = [_hit(decide, 5, 3.0)]

    def neighbours(chunk: Chunk) -> list[Chunk]:
        return [_hit(chunks[p], p, 0.0).chunk for p in (chunk.position - 1, chunk.position + 1) if p in chunks]

    question = "What must a depot do once it accepts a request to lend equipment?"
    analysis = QueryAnalysis(
        question=question,
        terms=terms(question),
        is_who=False,
        asks_about_role=False,
        definition_term=None,
        search_text=question,
    )
    with_index = extractive_answer(question, analysis, hits, neighbours=neighbours).text
    assert f"{decide}\n{follows}" in with_index
    assert unrelated not in with_index
    assert follows not in extractive_answer(question, analysis, hits).text


def test_a_retrieved_subsection_that_refers_back_to_the_quoted_one_is_quoted_with_it() -> None:
    """What follows from a rule can sit two subsections away: "(4) A depot that refuses under subsection (1) ..."."""
    rule = "(1) A depot must lend equipment to a school on request unless the equipment is booked."
    charges = (
        "(2) A depot may charge a school for lending equipment, and the charge may include the cost of delivering "
        "the equipment, the cost of collecting it again, and the cost of any repairs needed once it is returned."
    )
    refusal = (
        "(4) A depot that decides not to lend equipment requested under subsection (1) must tell the school why "
        "in writing.\n(5) In this section “school” includes a nursery."
    )
    question = "What happens if a depot refuses a school's request for equipment?"
    text = _ask(question, [_hit(rule, 1, 3.0), _hit(charges, 2, 2.9), _hit(refusal, 4, 2.5)])
    assert rule in text
    assert "(4) A depot that decides not to lend equipment requested under subsection (1) must tell" in text
    assert text.index(rule) < text.index("(4) A depot")
    assert "nursery" not in text  # only the clause that refers back, not the rest of its passage


def test_a_subsection_referring_to_a_namesake_in_another_section_is_not_joined() -> None:
    rule = "(1) A depot must lend equipment to a school on request unless the equipment is booked."
    other = ("Part 3 Libraries", "20 Loans")
    elsewhere = "(3) A library that refuses a loan under subsection (1) must record the refusal."
    text = _ask(
        "What happens if a depot refuses a school's request?", [_hit(rule, 1, 3.0), _hit(elsewhere, 3, 2.9, other)]
    )
    assert rule in text
    assert "must record the refusal" not in text.split("[2]")[0]


def test_one_alternative_of_a_duty_is_quoted_with_the_others() -> None:
    """ "must— (a) publish a notice, or (b) give reasons" quoted as (a) alone would state a duty the text does not."""
    duty = (
        "(1) If a depot lends equipment to a school, the depot must—\n"
        "(a) publish a loan notice before delivering the equipment, or\n"
        "(b) give reasons for not doing so in the delivery note."
    )
    chunk = Chunk("c1", duty, "lending.md", "/guidance/lending.md", SECTION, 1, PassageKind.LIST)
    text = _ask("Does a depot have to publish a notice before delivering equipment?", [Hit(chunk=chunk, score=3.0)])
    assert duty in text


def test_a_long_list_of_clauses_is_quoted_as_its_lead_and_the_clause_that_answers() -> None:
    kinds = ["minibus", "projector", "laptop", "gazebo", "marquee", "generator", "ladder", "printer", "camera"]
    items = [
        f"({letter}) a {kind} kept at a depot for school trips and events,"
        for letter, kind in zip("abcdefghi", kinds, strict=True)
    ]
    items += ["(j) a kiln for pottery classes,", "(k) a piano for concerts."]
    chunk = Chunk(
        "c2",
        "(2) In this section “equipment” means any of the following—\n" + "\n".join(items),
        "lending.md",
        "/guidance/lending.md",
        SECTION,
        2,
        PassageKind.LIST,
    )
    text = _ask("Is a kiln for pottery classes equipment?", [Hit(chunk=chunk, score=3.0)])
    assert "(2) In this section “equipment” means any of the following—\n(j) a kiln for pottery classes," in text
    assert "minibus" not in text  # eleven clauses are more than an answer quotes
