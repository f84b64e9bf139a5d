"""The optional chat-model answer: grounded, cited, and never worse than the quoted passage."""

from __future__ import annotations

import logging

from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel

from knowledge.service import KnowledgeBase
from tests.knowledge.conftest import logged, make_settings

QUESTION = "Who makes strategic sourcing decisions?"


def _kb(tmp_path, model, **overrides):
    return KnowledgeBase(make_settings(tmp_path / "data", dense=False, **overrides), chat_model=model)


class _Unavailable(GenericFakeChatModel):
    """A provider that is down."""

    def _generate(self, *args, **kwargs):
        raise ConnectionError("provider unavailable")


def test_a_cited_model_answer_is_used_with_its_sources(tmp_path):
    model = FakeListChatModel(
        responses=["Cabinet takes strategic sourcing decisions on the lead commissioner's advice [1]."]
    )
    answer = _kb(tmp_path, model).ask(QUESTION)
    assert answer.text == "Cabinet takes strategic sourcing decisions on the lead commissioner's advice [1]."
    assert answer.written_by == "FakeListChatModel"
    assert answer.citations[0].text.startswith("Role: Cabinet.")


class _Recording(FakeListChatModel):
    """Remembers the prompts it was given."""

    prompts: list = []

    def _call(self, messages, stop=None, run_manager=None, **kwargs):
        self.prompts.append(messages)
        return super()._call(messages, stop, run_manager, **kwargs)


def test_the_model_is_given_only_the_retrieved_passages_numbered(tmp_path):
    model = _Recording(responses=["Cabinet decides [1]."], prompts=[])
    answer = _kb(tmp_path, model).ask(QUESTION)
    system, human = model.prompts[0]
    assert "ONLY the numbered guidance passages" in system.content
    assert human.content.startswith("Passages:\n[1] (starter_pack/02-roles-and-responsibilities.md")
    assert human.content.endswith(f"Question: {QUESTION}")
    assert answer.citations[0].text in human.content


def test_an_uncited_model_answer_falls_back_to_the_quoted_passage(tmp_path):
    model = FakeListChatModel(responses=["The council's leader usually decides."])
    answer = _kb(tmp_path, model).ask(QUESTION)
    assert answer.written_by == "extractive"
    assert answer.text.startswith("Cabinet: Takes strategic sourcing decisions")


def test_a_model_that_says_the_guidance_does_not_answer_falls_back(tmp_path):
    model = FakeListChatModel(responses=["NOT IN GUIDANCE"])
    answer = _kb(tmp_path, model).ask(QUESTION)
    assert answer.written_by == "extractive" and answer.text.startswith("Cabinet:")


def test_a_slow_model_times_out_to_the_quoted_passage(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    model = FakeListChatModel(responses=["Cabinet decides [1]."], sleep=3)
    answer = _kb(tmp_path, model, llm_timeout_seconds=0.3).ask(QUESTION)
    assert answer.written_by == "extractive"
    assert logged(caplog, "llm_answer_timeout")


def test_a_failing_model_falls_back_without_an_error_reaching_the_officer(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    answer = _kb(tmp_path, _Unavailable(messages=iter([]))).ask(QUESTION)
    assert answer.written_by == "extractive" and answer.text.startswith("Cabinet:")
    assert logged(caplog, "llm_answer_failed")


def test_an_unknown_model_setting_is_reported_once_and_answers_still_come(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    kb = KnowledgeBase(make_settings(tmp_path / "data", dense=False, llm_model="no-such-provider:model-x"))
    first = kb.ask(QUESTION)
    kb.ask("What is an outcome?")
    assert first.written_by == "extractive" and first.text.startswith("Cabinet:")
    assert len(logged(caplog, "llm_unavailable")) == 1
