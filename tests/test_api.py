"""The suggestion API (``evidencenlp api``): auth, readiness, the output contract, limits, and no echo of notes.

The default tests use FastAPI's TestClient with the fake suggesters of ``conftest_review`` (no model
is loaded); one slow test starts the real ``evidencenlp api --backend static`` process.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest_review import NOTES, FakeSuggester
from evidencenlp.api import TOKEN_ENV, ApiLimits, create_api
from evidencenlp.api.bodies import SuggestionOut
from evidencenlp.errors import ModelError
from evidencenlp.frameworks import Framework, load_frameworks
from evidencenlp.suggest import Suggestion
from evidencenlp.taxonomy import default_taxonomy

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: a note with a name and a phone number: no error answer may contain any of it
SECRET_NOTE = "Mrs Zebedee Quantock on 07700 900123 said the night carer shouted at her."
SECRET_PARTS = ("Zebedee", "Quantock", "07700 900123", "night carer")


class ContractFake(FakeSuggester):
    """The review tests' fake with the Suggester's keyword options; records the options it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.options: list[tuple[bool, bool]] = []

    def suggest_many(self, texts: Sequence[str | None], sentences: bool = True,  # type: ignore[override]
                     evidence: bool = True) -> list[Suggestion | None]:
        self.options.append((sentences, evidence))
        return super().suggest_many(texts)


class GatedFake(ContractFake):
    """Loads only when ``go`` is set (the API is "loading" until then)."""

    go = threading.Event()


class SlowFake(ContractFake):
    """Suggests only after ``release`` is set (at most 10 s); ``entered`` says a batch is running."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def suggest_many(self, texts: Sequence[str | None], sentences: bool = True,  # type: ignore[override]
                     evidence: bool = True) -> list[Suggestion | None]:
        if texts != [_warm_up_note()]:
            self.entered.set()
            self.release.wait(10)
        return super().suggest_many(texts, sentences, evidence)


class BrokenFake(ContractFake):
    """Fails on real notes with an exception whose message holds the note (as a careless stage might)."""

    def suggest_many(self, texts: Sequence[str | None], sentences: bool = True,  # type: ignore[override]
                     evidence: bool = True) -> list[Suggestion | None]:
        if texts != [_warm_up_note()]:
            raise ValueError(f"could not handle {texts[0]!r}")
        return super().suggest_many(texts, sentences, evidence)


def _warm_up_note() -> str:
    from evidencenlp.api.warm import WARM_UP_NOTE

    return WARM_UP_NOTE


@functools.lru_cache(maxsize=1)
def packaged_frameworks() -> dict[str, Framework]:
    """The packaged frameworks, read once for this module (the API reads them itself when not given)."""
    return load_frameworks()


def client_for(source: Any, limits: ApiLimits | None = None, **options: Any) -> TestClient:
    """A TestClient of the API over ``source``; use it in ``with`` so the app starts (and loads)."""
    options.setdefault("frameworks", packaged_frameworks())
    return TestClient(create_api(source, TOKEN, limits, **options))


@pytest.fixture
def fake() -> ContractFake:
    return ContractFake()


@pytest.fixture
def client(fake: ContractFake) -> Iterator[TestClient]:
    """The API over the fake, started and ready."""
    with client_for(lambda: fake) as c:
        assert c.app.state.api.warm.wait(10) == "ready"  # type: ignore[attr-defined]
        yield c


def no_secret(text: str) -> bool:
    return not any(part in text for part in SECRET_PARTS)


# -- auth --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("post", "/v1/suggest"), ("get", "/v1/frameworks"),
                                              ("get", "/v1/unknown")])
def test_every_endpoint_but_health_needs_the_token(client: TestClient, method: str, path: str) -> None:
    body = {"json": {"notes": [SECRET_NOTE]}} if method == "post" else {}
    missing = getattr(client, method)(path, **body)
    assert missing.status_code == 401 and "access token is required" in missing.json()["detail"]
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = getattr(client, method)(path, headers={"Authorization": "Bearer not-it"}, **body)
    assert wrong.status_code == 401 and "not right" in wrong.json()["detail"] and "not-it" not in wrong.text
    basic = getattr(client, method)(path, headers={"Authorization": f"Basic {TOKEN}"}, **body)
    assert basic.status_code == 401
    right = getattr(client, method)(path, headers=AUTH, **body)
    assert right.status_code == (404 if path == "/v1/unknown" else 200)
    assert no_secret(missing.text + wrong.text + basic.text)


def test_refused_without_token_never_reaches_the_suggester(client: TestClient, fake: ContractFake) -> None:
    before = fake.notes_seen
    assert client.post("/v1/suggest", json={"notes": ["Hand gel empty."]}).status_code == 401
    assert fake.notes_seen == before


def test_health_and_docs_are_open(client: TestClient) -> None:
    assert client.get("/v1/health").status_code == 200
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert {"/v1/suggest", "/v1/health", "/v1/frameworks"} <= set(paths)
    assert any(s.get("scheme") == "bearer" for s in spec.json()["components"]["securitySchemes"].values())
    assert paths["/v1/suggest"]["post"].get("security") and not paths["/v1/health"]["get"].get("security")
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_the_documented_answer_is_the_output_contract(fake: ContractFake) -> None:
    contract = fake.suggest(NOTES[0]).to_dict()
    assert set(SuggestionOut.model_fields) == set(contract)


# -- readiness ---------------------------------------------------------------------------------------------------


def test_health_says_loading_until_the_models_are_ready() -> None:
    GatedFake.go.clear()

    def load() -> GatedFake:
        GatedFake.go.wait(10)
        return GatedFake()

    with client_for(load, backend="static", frameworks=None) as c:  # the API reads the packaged frameworks
        loading = c.get("/v1/health")
        assert loading.status_code == 503 and loading.json()["status"] == "loading"
        assert "loading" in loading.json()["detail"] and loading.headers["retry-after"]
        early = c.post("/v1/suggest", json={"notes": ["Call bell rang."]}, headers=AUTH)
        assert early.status_code == 503 and "loading" in early.json()["detail"]
        GatedFake.go.set()
        assert c.app.state.api.warm.wait(10) == "ready"  # type: ignore[attr-defined]
        ready = c.get("/v1/health")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready" and ready.json()["model_version"] == FakeSuggester.model_version
        assert ready.json()["backend"] == "static"
        assert c.post("/v1/suggest", json={"notes": ["Call bell rang."]}, headers=AUTH).status_code == 200


def test_a_failed_load_is_reported_not_hidden() -> None:
    reasons: list[str] = []

    def load() -> ContractFake:
        raise ModelError("no trained heads in /nowhere")

    with client_for(load, on_load_failure=reasons.append) as c:
        assert c.app.state.api.warm.wait(10) == "failed"  # type: ignore[attr-defined]
        health = c.get("/v1/health")
        assert health.status_code == 503 and health.json()["status"] == "failed"
        assert "no trained heads" in health.json()["detail"]
        refused = c.post("/v1/suggest", json={"notes": ["Call bell rang."]}, headers=AUTH)
        assert refused.status_code == 503 and "could not be loaded" in refused.json()["detail"]
    assert reasons == ["no trained heads in /nowhere"]


def test_models_are_loaded_once_and_warmed(fake: ContractFake) -> None:
    loads = []

    def load() -> ContractFake:
        loads.append(1)
        return fake

    with client_for(load) as c:
        c.app.state.api.warm.wait(10)  # type: ignore[attr-defined]
        for _ in range(3):
            assert c.post("/v1/suggest", json={"notes": ["Staff were kind."]}, headers=AUTH).status_code == 200
    assert loads == [1]
    assert fake.calls == 4  # the warm-up, then one batch per request


# -- suggestions -------------------------------------------------------------------------------------------------


def test_one_object_per_note_in_the_output_contract(client: TestClient, fake: ContractFake) -> None:
    notes = [NOTES[0], "", NOTES[2], "   ", None, NOTES[3]]
    answer = client.post("/v1/suggest", json={"notes": notes}, headers=AUTH)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    got = answer.json()["suggestions"]
    assert len(got) == len(notes)
    assert [g is None for g in got] == [False, True, False, True, True, False]
    for note, item in zip(notes, got):
        if item is not None:
            assert note is not None
            assert item == json.loads(json.dumps(fake.suggest(note).to_dict()))  # the contract, field for field
            assert set(item) == set(SuggestionOut.model_fields)


def test_options_reach_the_suggester(client: TestClient, fake: ContractFake) -> None:
    client.post("/v1/suggest", json={"notes": [NOTES[1]]}, headers=AUTH)
    client.post("/v1/suggest", json={"notes": [NOTES[1]], "sentences": False, "evidence": False}, headers=AUTH)
    assert fake.options[-2:] == [(True, True), (False, False)]


def test_an_empty_list_gets_an_empty_list(client: TestClient) -> None:
    answer = client.post("/v1/suggest", json={"notes": []}, headers=AUTH)
    assert answer.status_code == 200 and answer.json() == {"suggestions": []}


def test_frameworks_come_from_the_framework_data(client: TestClient) -> None:
    answer = client.get("/v1/frameworks", headers=AUTH)
    assert answer.status_code == 200
    body = answer.json()
    taxonomy = default_taxonomy()
    loaded = load_frameworks()
    assert {f["id"]: f["version"] for f in body["frameworks"]} == {k: fw.version for k, fw in loaded.items()}
    assert [f["id"] for f in body["frameworks"] if f["primary"]] == [taxonomy.framework]
    space = body["label_space"]
    assert [k["id"] for k in space["key_questions"]] == list(taxonomy.key_questions)
    assert [(s["id"], s["key_question"]) for s in space["statements"]] == list(zip(taxonomy.statements,
                                                                                     taxonomy.statement_kq))
    assert [(b["id"], b["score"]) for b in space["bands"]] == list(zip(taxonomy.bands, taxonomy.band_scores))
    assert [b["direction"] for b in space["bands"]] == [taxonomy.direction_of(b) for b in taxonomy.bands]
    assert [c["id"] for c in space["evidence_categories"]] == list(taxonomy.categories)
    assert [p["id"] for p in space["principles"]] == list(taxonomy.principles)
    first = loaded[taxonomy.framework].section("quality_statements")[0]
    assert space["statements"][0]["we_statement"] == first["we_statement"]
    assert space["statements"][0]["title"] == first["title"]
    assert body["model_version"] == FakeSuggester.model_version
    assert body["limits"]["max_notes"] == ApiLimits().max_notes


# -- limits and bad input ----------------------------------------------------------------------------------------

SMALL = ApiLimits(max_notes=3, max_note_chars=200, max_total_chars=300, max_body_bytes=2_000, timeout_seconds=5)


@pytest.fixture
def small(fake: ContractFake) -> Iterator[TestClient]:
    with client_for(lambda: fake, SMALL) as c:
        c.app.state.api.warm.wait(10)  # type: ignore[attr-defined]
        yield c


def post_raw(c: TestClient, content: bytes, headers: dict[str, str] | None = None) -> Any:
    return c.post("/v1/suggest", content=content, headers={**AUTH, "Content-Type": "application/json",
                                                              **(headers or {})})


BAD_BODIES: dict[str, tuple[Any, int, str]] = {
    "too many notes": ({"notes": [SECRET_NOTE] * 4}, 422, "4 notes in one request; at most 3"),
    "note too long": ({"notes": ["ok", SECRET_NOTE * 3]}, 422, "notes[1] is longer than 200 characters"),
    "too many characters": ({"notes": [SECRET_NOTE[:70] * 2] * 3}, 422, "at most 300 are accepted"),
    "a number for a note": ({"notes": [SECRET_NOTE, 42]}, 422, "notes[1]: expected a string"),
    "an object for a note": ({"notes": [{"text": SECRET_NOTE}]}, 422, "notes[0]: expected a string"),
    "notes not a list": ({"notes": SECRET_NOTE}, 422, "notes: expected a list"),
    "notes missing": ({"note": [SECRET_NOTE]}, 422, "notes: is required"),
    "a note as a field name": ({"notes": [], SECRET_NOTE: 1}, 422, "(a field name): is not a field"),
    "not an object": ([SECRET_NOTE], 422, "expected a JSON object"),
    "a bad flag": ({"notes": ["x"], "sentences": SECRET_NOTE}, 422, "sentences: expected true or false"),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_bodies_get_a_clear_4xx_without_the_note(small: TestClient, fake: ContractFake, case: str) -> None:
    body, status, message = BAD_BODIES[case]
    seen = fake.notes_seen
    answer = small.post("/v1/suggest", json=body, headers=AUTH)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["detail"]
    assert no_secret(answer.text)
    assert fake.notes_seen == seen


def test_each_long_note_is_named_by_its_index(fake: ContractFake) -> None:
    limits = ApiLimits(max_notes=30, max_note_chars=20)
    with client_for(lambda: fake, limits) as c:
        c.app.state.api.warm.wait(10)  # type: ignore[attr-defined]
        notes = ["short"] * 30
        for i in (2, 5, 7):
            notes[i] = SECRET_NOTE
        answer = c.post("/v1/suggest", json={"notes": notes}, headers=AUTH)
    assert answer.status_code == 422 and "notes[2], notes[5], notes[7] are longer than 20" in answer.json()["detail"]
    assert no_secret(answer.text)


def test_many_bad_notes_are_summarised(small: TestClient) -> None:
    answer = small.post("/v1/suggest", json={"notes": list(range(50))}, headers=AUTH)
    assert answer.status_code == 422
    assert len(answer.json()["problems"]) == 20 and "30 more" in answer.json()["detail"]


def test_invalid_json_is_refused_without_echo(small: TestClient) -> None:
    answer = post_raw(small, ('{"notes": ["' + SECRET_NOTE + '",').encode())
    assert answer.status_code == 422 and "not valid JSON" in answer.json()["detail"]
    assert no_secret(answer.text)


def test_a_body_not_declared_as_json_is_refused(small: TestClient) -> None:
    answer = small.post("/v1/suggest", content=json.dumps({"notes": [SECRET_NOTE]}),
                        headers={**AUTH, "Content-Type": "text/plain"})
    assert answer.status_code == 415 and "application/json" in answer.json()["detail"] and no_secret(answer.text)


def test_a_body_over_the_limit_is_refused_before_parsing(small: TestClient, fake: ContractFake) -> None:
    big = json.dumps({"notes": [SECRET_NOTE] * 40}).encode()
    assert len(big) > SMALL.max_body_bytes
    answer = post_raw(small, big)
    assert answer.status_code == 413 and "at most 2,000" in answer.json()["detail"] and no_secret(answer.text)
    declared = post_raw(small, b'{"notes": []}', {"Content-Length": str(10**12)})
    assert declared.status_code == 413 and "1,000,000,000,000 bytes" in declared.json()["detail"]


@pytest.mark.parametrize(("length", "status", "message"), [
    ("abc", 400, "not a whole number"),
    ("-5", 400, "not a whole number"),
    ("5", 400, "longer than its Content-Length"),
    ("400", 400, "shorter than its Content-Length"),
])
def test_a_lying_content_length_is_refused(small: TestClient, length: str, status: int, message: str) -> None:
    answer = post_raw(small, json.dumps({"notes": [SECRET_NOTE]}).encode(), {"Content-Length": length})
    assert answer.status_code == status and message in answer.json()["detail"] and no_secret(answer.text)
    assert small.get("/v1/health").status_code == 200  # and the API goes on


def test_a_slow_batch_times_out_and_the_next_request_queues() -> None:
    slow = SlowFake()
    limits = ApiLimits(timeout_seconds=0.5, concurrency=1)
    with client_for(lambda: slow, limits) as c:
        c.app.state.api.warm.wait(10)  # type: ignore[attr-defined]
        first = c.post("/v1/suggest", json={"notes": [SECRET_NOTE]}, headers=AUTH)
        assert slow.entered.is_set()
        assert first.status_code == 503 and "longer than 0.5 s" in first.json()["detail"]
        # the first batch still holds the only slot: the next request waits its turn, then gives up
        second = c.post("/v1/suggest", json={"notes": ["Staff were kind."]}, headers=AUTH)
        assert second.status_code == 503 and "busy" in second.json()["detail"]
        assert c.get("/v1/health").status_code == 200  # health is never stuck behind a batch
        slow.release.set()
        for _ in range(100):  # the slot comes back when the batch ends
            answer = c.post("/v1/suggest", json={"notes": ["Staff were kind."]}, headers=AUTH)
            if answer.status_code == 200:
                break
        assert answer.status_code == 200
    assert no_secret(first.text + second.text)


def test_a_failing_suggester_answers_500_without_the_note(caplog: pytest.LogCaptureFixture) -> None:
    with client_for(BrokenFake) as c:
        c.app.state.api.warm.wait(10)  # type: ignore[attr-defined]
        answer = c.post("/v1/suggest", json={"notes": [SECRET_NOTE]}, headers=AUTH)
    assert answer.status_code == 500 and "ValueError" in answer.json()["detail"]
    assert no_secret(answer.text) and no_secret(caplog.text)
    assert "ValueError" in caplog.text


def test_limits_must_be_positive() -> None:
    from evidencenlp.errors import EvidenceNLPError

    with pytest.raises(EvidenceNLPError, match="max_notes, timeout_seconds"):
        ApiLimits(max_notes=0, timeout_seconds=-1)


def test_the_command_refuses_an_empty_token_from_the_environment() -> None:
    proc = subprocess.run([sys.executable, "-m", "evidencenlp", "api", "--port", "9"], capture_output=True,
                          text=True, env={**os.environ, TOKEN_ENV: "  "}, timeout=120)
    assert proc.returncode == 2 and f"{TOKEN_ENV} is set but empty" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_command_stops_when_the_models_cannot_load(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "evidencenlp", "api", "--models", str(tmp_path),
                           "--port", str(free_port())], capture_output=True, text=True,
                          env={**os.environ, TOKEN_ENV: TOKEN}, timeout=120)
    assert proc.returncode == 2 and "the API stopped: no trained classifier" in proc.stderr
    assert "Traceback" not in proc.stderr and TOKEN not in proc.stdout + proc.stderr


# -- the real process --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, body: dict[str, Any] | None = None, token: str | None = TOKEN) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow
def test_the_real_api_process_with_the_static_backend(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "api.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "evidencenlp", "api", "--backend", "static", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, TOKEN_ENV: TOKEN})
    try:
        deadline = time.monotonic() + 600  # a first run distils the static encoder into the test cache
        status = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, health = call(f"{base}/v1/health", token=None)
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(1)
        assert status == 200, (tmp_path / "api.log").read_text()
        assert health["backend"] == "static" and health["model_version"]
        assert call(f"{base}/v1/suggest", {"notes": ["x"]}, token="wrong")[0] == 401
        code, answer = call(f"{base}/v1/suggest", {"notes": [SECRET_NOTE, " ", "Medicines were stored safely."]})
        assert code == 200
        first, blank, third = answer["suggestions"]
        assert blank is None and set(first) == set(SuggestionOut.model_fields) == set(third)
        assert "07700 900123" not in first["text"]  # redacted, as by classify
        code, _ = call(f"{base}/v1/frameworks")
        assert code == 200
        # a Content-Length that promises more than is sent: answered in time, and the server goes on
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(f"POST /v1/suggest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                      "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"notes\": [".encode())
            s.shutdown(socket.SHUT_WR)
            s.recv(4096)
        assert call(f"{base}/v1/health", token=None)[0] == 200
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    text = (tmp_path / "api.log").read_text()
    assert no_secret(text) and TOKEN not in text and "Traceback" not in text
