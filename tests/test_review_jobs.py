"""The review app's background job runners: the protocol, threads, inline runs, failures, cancelling."""

from __future__ import annotations

import threading

import pytest

from evidencenlp.review.models import ReviewError
from evidencenlp.web import InlineJobRunner, JobContext, JobRunner, ThreadJobRunner


def test_both_runners_follow_the_protocol() -> None:
    assert isinstance(ThreadJobRunner(), JobRunner) and isinstance(InlineJobRunner(), JobRunner)


def test_an_inline_job_is_finished_when_submit_returns() -> None:
    runner = InlineJobRunner()
    seen: list[str] = []

    def work(job: JobContext) -> dict:
        seen.append(threading.current_thread().name)
        job.advance(2)
        job.advance(3)
        return {"rows": 5}

    job_id = runner.submit(work, total=5, info={"source": "x.csv"})
    status = runner.status(job_id)
    assert (status.state, status.done, status.total, status.result, status.error) == ("done", 5, 5, {"rows": 5}, None)
    assert status.info == {"source": "x.csv"} and seen == [threading.current_thread().name]
    assert runner.status("unknown") is None and runner.cancel("unknown") is False
    assert runner.cancel(job_id) is False  # finished already


def test_a_thread_job_runs_elsewhere_and_can_be_awaited_and_cancelled() -> None:
    runner = ThreadJobRunner()
    started, release = threading.Event(), threading.Event()

    def work(job: JobContext) -> str:
        started.set()
        assert release.wait(10), "the test did not release the job"
        job.advance(1)  # cancelled meanwhile: stops here
        return "not reached"

    job_id = runner.submit(work, name="import", total=3)
    assert started.wait(10)
    assert runner.status(job_id).state == "running"
    assert runner.cancel(job_id) is True
    release.set()
    status = runner.wait(job_id, timeout=10)
    assert (status.state, status.done, status.result) == ("cancelled", 1, None)


@pytest.mark.parametrize("runner_type", [InlineJobRunner, ThreadJobRunner])
def test_failures_are_reported_without_details_of_unexpected_errors(runner_type: type,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    runner = runner_type()

    def user_mistake(job: JobContext) -> None:
        raise ReviewError("notes.csv: no column 'body'")

    def bug(job: JobContext) -> None:
        raise KeyError("a note's text that must not be logged")

    mistake = runner.wait(runner.submit(user_mistake), timeout=10)
    assert (mistake.state, mistake.error) == ("failed", "notes.csv: no column 'body'")
    crash = runner.wait(runner.submit(bug, name="import"), timeout=10)
    assert (crash.state, crash.error) == ("failed", "the job failed unexpectedly (KeyError)")
    assert "must not be logged" not in caplog.text and "KeyError" in caplog.text
