"""The API's torch thread policy: one thread for a request of a few notes, the batch setting for more."""

from __future__ import annotations

import os

import pytest

from evidencenlp.api import threads


def test_few_notes_get_one_thread_and_batches_the_configured_number() -> None:
    policy = threads.ThreadPolicy(batch_threads=2, few_notes=4)
    assert [threads.threads_for(n, policy) for n in (1, 4, 5, 100)] == [1, 1, 2, 2]


def test_bad_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="batch_threads"):
        threads.configure(0)


def test_policy_sets_torch_threads_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    monkeypatch.setattr(threads, "_policy", None)
    assert threads.for_request(1) is None  # not configured: torch is left alone
    assert torch.get_num_threads() == before
    try:
        threads.configure(2)
        assert threads.for_request(1) == 1 and torch.get_num_threads() == 1
        assert threads.for_request(100) == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_api_tokenizes_in_the_calling_thread_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKENIZERS_PARALLELISM", raising=False)
    threads.quiet_tokenizer_threads()
    assert os.environ["TOKENIZERS_PARALLELISM"] == "false"
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "true")
    threads.quiet_tokenizer_threads()
    assert os.environ["TOKENIZERS_PARALLELISM"] == "true"
