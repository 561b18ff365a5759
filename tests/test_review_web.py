"""The review web app's API (FastAPI TestClient), its access token and host checks, and `serve`."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest_review import NOTES, BlockingSuggester, FakeSuggester, StraySuggester, write_notes
from evidencenlp.cli import app as cli_app
from evidencenlp.review.queries import EXPORT_EXTRA_COLUMNS
from evidencenlp.taxonomy import default_taxonomy
from evidencenlp.training_data import CORPUS_COLUMNS
from evidencenlp.web import TOKEN_COOKIE, InlineJobRunner, ThreadJobRunner, create_app, is_loopback

JSON = {"content-type": "application/json"}


def finished(client: TestClient, job: dict, timeout: float = 30) -> dict:
    """The job as ``/api/jobs`` reports it once it has finished (a bounded wait on the runner's event)."""
    runner = client.app.state.runner  # type: ignore[attr-defined]
    status = runner.wait(job["id"], timeout)
    assert status is not None and status.state != "running", f"job still running after {timeout} s"
    return client.get(f"/api/jobs/{job['id']}").json()


def upload(client: TestClient, path: Path, **params: str) -> dict:
    res = client.post("/api/upload", params={"filename": path.name, **params}, content=path.read_bytes(),
                      headers={"content-type": "application/octet-stream"})
    assert res.status_code == 200, res.text
    return finished(client, res.json())


@pytest.fixture()
def client(tmp_path: Path):
    """The app with a synchronous job runner: an import is done when its request answers."""
    web = create_app(tmp_path / "review.sqlite", suggester=FakeSuggester(), inspector="Default Person",
                     allowed_hosts=None, runner=InlineJobRunner())
    with TestClient(web) as c:
        yield c


@pytest.fixture()
def loaded(client: TestClient, tmp_path: Path) -> TestClient:
    job = upload(client, write_notes(tmp_path / "notes.csv"), assessment="Oak", service_type="care_home",
                 location="Leeds")
    assert job["state"] == "done", job
    return client


def queue(client: TestClient, **params: str) -> list[dict]:
    return client.get("/api/queue", params=params).json()["items"]


def test_page_and_static_files_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "Evidence review" in page.text
    assert 'src="/static/app.js"' in page.text and "http" not in page.text.split("<body>")[1].split("<dialog")[0]
    for name, kind in (("app.js", "javascript"), ("app.css", "css")):
        res = client.get(f"/static/{name}")
        assert res.status_code == 200 and kind in res.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    meta = client.get("/api/meta").json()
    assert meta["inspector"] == "Default Person" and meta["assessments"] == []
    assert len(meta["vocabulary"]["statements"]) == 34 and len(meta["vocabulary"]["evidence_categories"]) == 6


def test_upload_import_queue_and_note(loaded: TestClient, tmp_path: Path) -> None:
    meta = loaded.get("/api/meta").json()
    (a,) = meta["assessments"]
    assert (a["name"], a["location"], a["service_type"]) == ("Oak", "Leeds", "care_home")
    assert a["progress"]["total"] == len(NOTES) and a["progress"]["pending"] == len(NOTES)
    items = queue(loaded, assessment_id=str(a["id"]))
    assert [i["source_row"] for i in items] == list(range(1, len(NOTES) + 1))
    note = loaded.get(f"/api/notes/{items[3]['note_id']}").json()
    assert "[NAME]" in note["text"] and "Jones" not in note["text"]
    assert note["suggestion"]["evidence"][0]["text"].startswith("We statement for")
    assert note["status"] == "pending" and note["history"] == []
    # a second upload of the same file adds nothing
    job = upload(loaded, tmp_path / "notes.csv", assessment="Oak")
    assert job["summary"]["already"] == len(NOTES) and job["summary"]["imported"] == 0
    # filters and order
    flagged = queue(loaded, filter="needs_review")
    assert flagged and all(i["needs_review"] for i in flagged)
    uncertain = queue(loaded, order="uncertain")
    assert [i["confidence"] for i in uncertain] == sorted(i["confidence"] for i in uncertain)


def test_confirm_correct_skip_undo_and_history(loaded: TestClient) -> None:
    a, b, c = (i["note_id"] for i in queue(loaded)[:3])
    res = loaded.post(f"/api/notes/{a}/confirm", json={"inspector": "Ann", "based_on": None})
    assert res.status_code == 200 and res.json()["status"] == "accepted"
    labels = {**{k: loaded.get(f"/api/notes/{b}").json()["suggestion"][k]["label"]
                 for k in ("statement", "evidence_category")}, "band": "inadequate", "principles": []}
    res = loaded.post(f"/api/notes/{b}/confirm", json={"inspector": "Ann", "labels": labels, "rationale": "log gaps"})
    body = res.json()
    assert body["status"] == "corrected" and body["current"]["band"] == "inadequate"
    assert body["current"]["key_question"] == labels["statement"].split(".")[0]
    assert body["current"]["rationale"] == "log gaps" and body["current"]["client"] == "web"
    assert loaded.post(f"/api/notes/{c}/skip", json={"inspector": "Ann"}).json()["status"] == "skipped"
    undone = loaded.post(f"/api/notes/{b}/undo", json={"inspector": "Ann"}).json()
    assert undone["status"] == "pending" and [d["action"] for d in undone["history"]] == ["corrected", "undone"]
    res = loaded.post(f"/api/notes/{b}/undo", json={"inspector": "Ann"})
    assert res.status_code == 400 and "nothing to undo" in res.json()["detail"]
    progress = loaded.get("/api/queue").json()["progress"]
    assert (progress["accepted"], progress["skipped"], progress["pending"]) == (1, 1, len(NOTES) - 2)


def test_errors_are_clear(loaded: TestClient) -> None:
    a = queue(loaded)[0]["note_id"]
    assert loaded.post(f"/api/notes/{a}/confirm", json={"inspector": "Ann", "based_on": None}).status_code == 200
    stale = loaded.post(f"/api/notes/{a}/confirm", json={"inspector": "Bob", "based_on": None})
    assert stale.status_code == 409 and "reload" in stale.json()["detail"]
    bad = loaded.post(f"/api/notes/{a}/confirm", json={"inspector": "Ann", "labels": {
        "statement": "safe.nope", "evidence_category": "processes", "band": "good"}})
    assert bad.status_code == 400 and "unknown quality statement" in bad.json()["detail"]
    assert loaded.get("/api/notes/9999").status_code == 404
    assert loaded.post(f"/api/notes/{a}/skip", json={"inspector": ""}).status_code == 422
    form = loaded.post(f"/api/notes/{a}/skip", content="inspector=x",
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415  # a cross-site form cannot post decisions
    res = loaded.post("/api/upload", params={"filename": "notes.pdf"}, content=b"x",
                      headers={"content-type": "application/octet-stream"})
    assert res.status_code == 400 and "unsupported file type" in res.json()["detail"]
    assert loaded.get("/api/queue", params={"filter": "nope"}).status_code == 400


def test_an_upload_answers_with_the_finished_job_when_the_runner_is_synchronous(client: TestClient,
                                                                                 tmp_path: Path) -> None:
    path = write_notes(tmp_path / "notes.csv")
    res = client.post("/api/upload", params={"filename": path.name}, content=path.read_bytes(),
                      headers={"content-type": "application/octet-stream"})
    job = res.json()
    assert (job["state"], job["source"], job["rows_done"], job["rows_total"]) == ("done", "notes.csv", len(NOTES),
                                                                                len(NOTES))
    assert job["summary"]["imported"] == len(NOTES) and job["error"] is None
    assert client.get(f"/api/jobs/{job['id']}").json() == job
    assert client.get("/api/jobs/nope").status_code == 404


def test_the_default_runner_imports_in_a_background_thread(tmp_path: Path) -> None:
    web = create_app(tmp_path / "review.sqlite", suggester=FakeSuggester(), allowed_hosts=None)
    assert isinstance(web.state.runner, ThreadJobRunner)
    with TestClient(web) as c:
        job = upload(c, write_notes(tmp_path / "notes.csv"), assessment="Threaded")
        assert job["state"] == "done" and job["summary"]["imported"] == len(NOTES)
        assert job["rows_done"] == job["rows_total"] == len(NOTES)


def test_import_job_reports_a_missing_column(client: TestClient, tmp_path: Path) -> None:
    job = upload(client, write_notes(tmp_path / "notes.csv"), text_column="body")
    assert job["state"] == "failed" and "no column 'body'" in job["error"] and "'text'" in job["error"]


def test_path_import_only_on_loopback(tmp_path: Path) -> None:
    notes = write_notes(tmp_path / "notes.csv")
    local = create_app(tmp_path / "a.sqlite", suggester=FakeSuggester(), allowed_hosts=None)
    with TestClient(local) as c:
        res = c.post("/api/import", json={"path": str(notes), "assessment": "P"})
        assert res.status_code == 200
        assert finished(c, res.json())["summary"]["imported"] == len(NOTES)
        missing = c.post("/api/import", json={"path": str(tmp_path / "nope.csv")})
        assert missing.status_code == 400 and "file not found" in missing.json()["detail"]
    shared = create_app(tmp_path / "b.sqlite", suggester=FakeSuggester(), allowed_hosts=None,
                        allow_path_import=False)
    with TestClient(shared) as c:
        res = c.post("/api/import", json={"path": str(notes)})
        assert res.status_code == 400 and "only possible" in res.json()["detail"]


def test_summary_and_export(loaded: TestClient) -> None:
    ids = [i["note_id"] for i in queue(loaded)]
    for nid in ids[:3]:
        loaded.post(f"/api/notes/{nid}/confirm", json={"inspector": "Ann"})
    kqs = {k["key_question"]: k for k in loaded.get("/api/summary").json()["key_questions"]}
    assert kqs["safe"]["confirmed"] == 3 and kqs["caring"]["confirmed"] == 0
    assert {s["id"] for s in kqs["safe"]["statements"]} == {
        "safe.learning-culture", "safe.safeguarding", "safe.medicines-optimisation"}
    res = loaded.get("/api/export", params={"format": "csv", "assessment_id": "1"})
    assert res.status_code == 200 and "confirmed-Oak.csv" in res.headers["content-disposition"]
    lines = res.text.strip().splitlines()
    assert lines[0] == ",".join([*CORPUS_COLUMNS, *EXPORT_EXTRA_COLUMNS]) and len(lines) == 4
    assert ",care_home,Oak,notes.csv,1,N001," in lines[1] and ",accepted,Ann," in lines[1]
    jsonl = loaded.get("/api/export", params={"format": "jsonl"})
    assert len(jsonl.text.strip().splitlines()) == 3
    assert loaded.get("/api/export", params={"format": "xlsx"}).status_code == 422


# -- stored suggestions of any age ----------------------------------------------------------------

def _stray_client(tmp_path: Path, stray: str) -> TestClient:
    web = create_app(tmp_path / f"{stray}.sqlite", suggester=StraySuggester(stray), allowed_hosts=None,
                     runner=InlineJobRunner())
    client = TestClient(web)
    assert upload(client, write_notes(tmp_path / "notes.csv"), assessment="Old")["state"] == "done"
    return client


def test_accepting_a_suggestion_outside_its_key_question_records_the_statements_own(tmp_path: Path) -> None:
    taxonomy = default_taxonomy()
    with _stray_client(tmp_path, "key_question") as c:
        a, b = (i["note_id"] for i in queue(c)[:2])
        s = c.get(f"/api/notes/{a}").json()["suggestion"]
        own = taxonomy.key_question_of(s["statement"]["label"])
        assert s["key_question"]["label"] != own
        res = c.post(f"/api/notes/{a}/confirm", json={"inspector": "Ann", "based_on": None})
        assert res.status_code == 200, res.text
        assert res.json()["status"] == "accepted" and res.json()["current"]["key_question"] == own
        # what the page sends: the suggested labels (stray key question included), here with another band
        s = c.get(f"/api/notes/{b}").json()["suggestion"]
        band = next(x for x in taxonomy.bands if x != s["band"]["label"])
        labels = {"key_question": s["key_question"]["label"], "statement": s["statement"]["label"],
                  "evidence_category": s["evidence_category"]["label"], "band": band, "principles": []}
        res = c.post(f"/api/notes/{b}/confirm", json={"inspector": "Ann", "labels": labels})
        assert res.status_code == 200, res.text
        current = res.json()["current"]
        assert res.json()["status"] == "corrected" and current["band"] == band
        assert current["key_question"] == taxonomy.key_question_of(s["statement"]["label"])


def test_any_stored_suggestion_is_shown_and_answered_without_a_server_error(tmp_path: Path) -> None:
    with _stray_client(tmp_path, "statement") as c:
        nid = queue(c)[0]["note_id"]
        assert c.get(f"/api/notes/{nid}").status_code == 200
        res = c.post(f"/api/notes/{nid}/confirm", json={"inspector": "Ann"})
        assert res.status_code == 400 and "unknown quality statement" in res.json()["detail"]
        # a payload of an older version, missing most of its parts
        db = c.app.state.db_path  # type: ignore[attr-defined]
        with closing(sqlite3.connect(db)) as raw, raw:
            raw.execute("INSERT INTO suggestions (note_id, created_at, model_version, confidence, needs_review, "
                        "payload) VALUES (?, '2024-01-01T00:00:00Z', 'old', 0.5, 0, ?)",
                        (nid, json.dumps({"statement": {"label": "safe.learning-culture", "score": 0.5}})))
        assert c.get(f"/api/notes/{nid}").json()["suggestion"]["statement"]["label"] == "safe.learning-culture"
        res = c.post(f"/api/notes/{nid}/confirm", json={"inspector": "Ann"})
        assert res.status_code == 400 and "unknown evidence category" in res.json()["detail"]
        assert c.post(f"/api/notes/{nid}/skip", json={"inspector": "Ann"}).json()["status"] == "skipped"


def test_an_abstention_is_shown_and_can_be_labelled_by_hand(tmp_path: Path) -> None:
    with _stray_client(tmp_path, "abstain") as c:
        nid = queue(c, order="uncertain")[0]["note_id"]
        note = c.get(f"/api/notes/{nid}").json()
        assert note["suggestion"]["reason"] == "no_content" and note["suggestion"]["statement"] is None
        res = c.post(f"/api/notes/{nid}/confirm", json={"inspector": "Ann"})
        assert res.status_code == 400 and "no suggestion to accept" in res.json()["detail"]
        labels = {"statement": "safe.learning-culture", "evidence_category": "processes", "band": "good"}
        res = c.post(f"/api/notes/{nid}/confirm", json={"inspector": "Ann", "labels": labels})
        assert res.status_code == 200 and res.json()["status"] == "corrected"


# -- access control -------------------------------------------------------------------------------

def test_token_is_required_when_not_loopback(tmp_path: Path) -> None:
    web = create_app(tmp_path / "r.sqlite", suggester=FakeSuggester(), token="s3cret-token", allowed_hosts=None)
    with TestClient(web) as c:
        assert c.get("/api/meta").status_code == 401
        page = c.get("/")
        assert page.status_code == 401 and "access token" in page.text.lower()
        assert c.get("/static/app.js").status_code == 401
        assert c.get("/api/meta", headers={"x-access-token": "wrong"}).status_code == 401
        assert c.get("/api/meta", headers={"x-access-token": "s3cret-token"}).status_code == 200
        assert c.get("/api/meta", headers={"authorization": "Bearer s3cret-token"}).status_code == 200
        first = c.get("/?token=s3cret-token", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/"
        assert "httponly" in first.headers["set-cookie"].lower() and "samesite=strict" in first.headers[
            "set-cookie"].lower()
        assert c.cookies.get(TOKEN_COOKIE) == "s3cret-token"
        assert c.get("/").status_code == 200 and c.get("/api/meta").status_code == 200  # the cookie now
        c.cookies.clear()
        assert c.post("/api/notes/1/skip", json={"inspector": "x"}).status_code == 401


def test_loopback_app_rejects_other_host_headers(tmp_path: Path) -> None:
    web = create_app(tmp_path / "r.sqlite", suggester=FakeSuggester())  # default: loopback hosts only
    with TestClient(web, base_url="http://127.0.0.1:8765") as c:
        assert c.get("/api/meta").status_code == 200
    with TestClient(web, base_url="http://localhost:8765") as c:
        assert c.get("/api/meta").status_code == 200
    with TestClient(web, base_url="http://evil.example:8765") as c:
        assert c.get("/api/meta").status_code == 400


@pytest.mark.parametrize(("host", "loop"), [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                            ("127.0.0.2", True), ("0.0.0.0", False), ("192.168.1.5", False),
                                            ("myhost.example", False)])
def test_is_loopback(host: str, loop: bool) -> None:
    assert is_loopback(host) is loop


def test_serve_generates_and_requires_a_token_off_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    monkeypatch.setattr("evidencenlp.cli.serve.ensure_port_free", lambda host, port, hint: None)
    runner = CliRunner()
    res = runner.invoke(cli_app, ["serve", "--db", str(tmp_path / "r.sqlite"), "--host", "0.0.0.0", "--port", "8999"])
    assert res.exit_code == 0, res.output
    assert "?token=" in res.output and started["host"] == "0.0.0.0" and started["access_log"] is False
    token = res.output.split("?token=")[1].split()[0]
    assert len(token) >= 24
    with TestClient(started["app"]) as c:
        assert c.get("/api/meta").status_code == 401
        assert c.get("/api/meta", headers={"x-access-token": token}).status_code == 200

    started.clear()
    res = runner.invoke(cli_app, ["serve", "--db", str(tmp_path / "r.sqlite")])
    assert res.exit_code == 0 and "token" not in res.output and started["host"] == "127.0.0.1"
    assert started["port"] == 8765
    with TestClient(started["app"], base_url="http://127.0.0.1:8765") as c:
        assert c.get("/api/meta").status_code == 200


# -- serving safely: bounded imports, uploads always deleted, clean errors ----------------------

def _uploads_left(root: Path) -> list[Path]:
    return [p for p in root.rglob("*")] if root.exists() else []


def _post_upload(client: TestClient, name: str, content: bytes, **params: str):
    return client.post("/api/upload", params={"filename": name, **params}, content=content,
                       headers={"content-type": "application/octet-stream"})


def test_out_of_range_ids_and_odd_upload_names_are_404_or_422_without_the_database_path(tmp_path: Path) -> None:
    db = tmp_path / "secret-folder" / "review.sqlite"
    db.parent.mkdir()
    web = create_app(db, suggester=FakeSuggester(), allowed_hosts=None, runner=InlineJobRunner(),
                     upload_dir=tmp_path / "uploads")
    notes = write_notes(tmp_path / "notes.csv").read_bytes()
    bodies: list[str] = []
    with TestClient(web, raise_server_exceptions=False) as c:
        def status(method: str, url: str, **kw: object) -> int:
            res = c.request(method, url, **kw)
            bodies.append(res.text)
            return res.status_code

        decision = {"json": {"inspector": "Ann"}}
        assert status("GET", "/api/notes/1") == 404
        assert status("GET", "/api/notes/9223372036854775807") == 404
        for bad in ("0", "-1", "99999999999999999999", "1e3", "abc", "1.5"):
            assert status("GET", f"/api/notes/{bad}") == 422, bad
            assert status("POST", f"/api/notes/{bad}/confirm", **decision) == 422, bad
        assert status("POST", "/api/notes/9223372036854775807/skip", **decision) == 404
        for url in ("/api/queue", "/api/summary", "/api/export", "/api/assessment"):
            assert status("GET", url, params={"assessment_id": "99999999999999999999"}) == 422, url
        assert status("GET", "/api/export", params={"assessment_id": "42"}) == 404
        assert status("GET", "/api/assessment", params={"assessment_id": "42"}) == 404
        assert status("GET", "/api/jobs/nope") == 404 and status("DELETE", "/api/jobs/nope") == 404
        assert status("POST", "/api/jobs/nope/cancel", json={}) == 404 and status("GET", "/api/jobs/" + "x" * 200) == 422
        assert status("GET", "/api/nothing-here") == 404 and status("GET", "/static/nope.js") == 404
        for name in ("a\x00b.csv", "notes\u202e.csv", "x" * 300 + ".csv", "", "..", "../", "tab\there.csv"):
            assert status("POST", "/api/upload", params={"filename": name}, content=notes,
                          headers={"content-type": "application/octet-stream"}) == 422, repr(name)
        for name, shown in (("../../etc/notes.csv", "notes.csv"), ("C:\\Users\\jo\\visit.csv", "visit.csv"),
                            ("résumé Ω 注意.csv", "résumé Ω 注意.csv")):
            res = _post_upload(c, name, notes, assessment=shown)
            bodies.append(res.text)
            assert res.status_code == 200 and res.json()["source"] == shown, res.text
            assert res.json()["state"] == "done", res.json()
        failed = _post_upload(c, "notes.csv", notes, text_column="body", assessment="X").json()
        bodies.append(str(failed))
        assert failed["state"] == "failed" and failed["error"].startswith("notes.csv: no column 'body'")
    leaks = [b for b in bodies if str(tmp_path) in b or "secret-folder" in b or "uploads" in b]
    assert leaks == []
    assert _uploads_left(tmp_path / "uploads") == []


def test_imports_are_bounded_in_bytes_and_rows(tmp_path: Path) -> None:
    notes = write_notes(tmp_path / "notes.csv")
    web = create_app(tmp_path / "r.sqlite", suggester=FakeSuggester(), allowed_hosts=None, runner=InlineJobRunner(),
                     max_upload_bytes=200, max_rows=3, upload_dir=tmp_path / "uploads")
    with TestClient(web) as c:
        big = _post_upload(c, "notes.csv", notes.read_bytes())
        assert big.status_code == 413 and "larger than" in big.json()["detail"]
    small = write_notes(tmp_path / "five.csv", ["A kind nurse."] * 5)
    web = create_app(tmp_path / "r.sqlite", suggester=FakeSuggester(), allowed_hosts=None, runner=InlineJobRunner(),
                     max_rows=3, upload_dir=tmp_path / "uploads")
    with TestClient(web) as c:
        many = _post_upload(c, "five.csv", small.read_bytes())
        assert many.status_code == 413 and "5 rows; at most 3 rows" in many.json()["detail"]
        assert c.get("/api/meta").json()["assessments"] == []  # nothing was stored
        path = c.post("/api/import", json={"path": str(small)})
        assert path.status_code == 413
    assert _uploads_left(tmp_path / "uploads") == []


def test_a_running_import_can_be_cancelled_and_its_upload_is_deleted(tmp_path: Path) -> None:
    slow = BlockingSuggester()
    uploads = tmp_path / "uploads"
    web = create_app(tmp_path / "r.sqlite", suggester=slow, allowed_hosts=None, upload_dir=uploads)
    with TestClient(web) as c:
        job = _post_upload(c, "notes.csv", write_notes(tmp_path / "notes.csv").read_bytes()).json()
        assert slow.entered.wait(10) and job["state"] == "running" and job["rows_total"] == len(NOTES)
        assert len(list(uploads.iterdir())) == 1  # the raw upload waits for its import
        cancelled = c.delete(f"/api/jobs/{job['id']}")
        assert cancelled.status_code == 200 and cancelled.json()["id"] == job["id"]
        slow.release.set()
        status = finished(c, job)
        assert status["state"] == "cancelled" and status["error"] == "cancelled"
        assert _uploads_left(uploads) == []
        assert c.post(f"/api/jobs/{job['id']}/cancel", json={}).json()["state"] == "cancelled"  # finished: nothing to do


def test_stopping_the_server_mid_import_deletes_the_upload_and_stale_uploads_go_at_start(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    stale = uploads / "4194999-abc123"  # a folder of a server that was killed (no such process)
    stale.mkdir(parents=True)
    (stale / "upload.csv").write_text("text\nraw unredacted note of Mrs Jones\n")
    other = uploads / "not-ours"
    other.mkdir()
    slow = BlockingSuggester()
    web = create_app(tmp_path / "r.sqlite", suggester=slow, allowed_hosts=None, upload_dir=uploads)
    assert not stale.exists() and other.exists()  # only folders this app owns are touched
    client = TestClient(web)
    with client:
        job = _post_upload(client, "notes.csv", write_notes(tmp_path / "notes.csv").read_bytes()).json()
        assert slow.entered.wait(10)
        assert len([p for p in uploads.iterdir() if p != other]) == 1
    # the server stopped while the import was still running: the raw upload is gone already
    assert [p for p in uploads.iterdir() if p != other] == []
    slow.release.set()
    status = web.state.runner.wait(job["id"], 10)
    assert status.state == "cancelled"


def test_serve_on_all_interfaces_prints_the_real_addresses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    started: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    monkeypatch.setattr("evidencenlp.cli.serve.ensure_port_free", lambda host, port, hint: None)
    monkeypatch.setattr("evidencenlp.cli.serve.machine_addresses", lambda: ["192.0.2.10", "2001:db8::5"])
    runner = CliRunner()
    args = ["serve", "--db", str(tmp_path / "r.sqlite"), "--host", "0.0.0.0", "--port", "8999",
            "--max-upload-mb", "5", "--max-rows", "100"]
    res = runner.invoke(cli_app, args)
    assert res.exit_code == 0, res.output
    token = res.output.split("?token=")[1].split()[0]
    assert f"http://192.0.2.10:8999/?token={token}" in res.output
    assert f"http://[2001:db8::5]:8999/?token={token}" in res.output
    assert "all interfaces" in res.output and "localhost" not in res.output and "0.0.0.0:8999" not in res.output
    context = started["app"].state.review
    assert (context.max_upload_bytes, context.max_rows) == (5 * 1024 * 1024, 100)

    monkeypatch.setattr("evidencenlp.cli.serve.machine_addresses", lambda: [])
    res = runner.invoke(cli_app, args)
    assert res.exit_code == 0 and "http://ADDRESS:8999/?token=" in res.output and "ip -4 addr" in res.output


def test_upload_keeps_the_id_location_and_date_columns(client: TestClient, tmp_path: Path) -> None:
    path = write_notes(tmp_path / "visit.csv", NOTES[:2], extra={"ref": ["R1", "R2"], "ward": ["W1", "W2"],
                                                                "seen": ["2025-01-01", "2025-01-02"]})
    job = upload(client, path, id_column="ref", location_column="ward", date_column="seen")
    assert job["summary"]["location_column"] == "ward"
    item = queue(client)[0]
    assert (item["source_id"], item["location"], item["note_date"]) == ("R1", "W1", "2025-01-01")
    note = client.get(f"/api/notes/{item['note_id']}").json()
    assert (note["source_id"], note["location"], note["note_date"]) == ("R1", "W1", "2025-01-01")


def test_assessment_panel_rates_each_key_question_and_links_its_notes(loaded: TestClient) -> None:
    before = loaded.get("/api/assessment", params={"assessment_id": "1"}).json()
    assert before["available"] and before["label"] == "indicative, for the inspector's judgement"
    assert before["indicative"].startswith("Indicative, for the inspector's judgement")
    safe = before["location"]["key_questions"]["safe"]
    assert {"rating", "score", "limited_by", "statements", "note_ids"} <= set(safe)
    ids = {i["note_id"] for i in queue(loaded)}
    assert safe["note_ids"] and set(safe["note_ids"]) <= ids
    linked = [n for s in safe["statements"] for n in s["notes"]]
    assert all(n["note_id"] in ids for n in linked)
    assert before["location"]["confirmed_notes"] == 0
    for nid in safe["note_ids"]:
        loaded.post(f"/api/notes/{nid}/confirm", json={"inspector": "Ann"})
    after = loaded.get("/api/assessment", params={"assessment_id": "1"}).json()
    assert after["location"]["confirmed_notes"] == len(safe["note_ids"])
    assert loaded.get("/api/assessment").json()["assessment_id"] == 1  # default: the latest assessment


# -- issue 19: a lying Content-Length, and inspector names that display reversed ---------------------------------


def test_body_shorter_than_its_content_length_is_one_log_line(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """The client announces 5,000 bytes, sends 12 and disconnects: a 400 and one warning, no traceback."""
    import asyncio
    import logging

    web = create_app(tmp_path / "review.sqlite", suggester=FakeSuggester(), allowed_hosts=None,
                     runner=InlineJobRunner(), upload_dir=tmp_path / "uploads")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/upload", "raw_path": b"/api/upload", "query_string": b"filename=notes.csv",
             "root_path": "", "server": ("127.0.0.1", 8765), "client": ("127.0.0.1", 5000),
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/octet-stream"),
                         (b"content-length", b"5000")]}
    messages = [{"type": "http.request", "body": b"id,text\n1,a\n", "more_body": True}, {"type": "http.disconnect"}]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    with caplog.at_level(logging.WARNING):
        asyncio.run(web(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 400
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1 and "Content-Length 5000" in records[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
    assert not list((tmp_path / "uploads").glob("*/*")), "the partial upload was kept"


@pytest.mark.parametrize("name", ["Ann\u202eeoJ", "Ann\u200bJoe", "Ann\u2066Joe\u2069", "Ann\nJoe", "\u200f"])
def test_inspector_names_with_hidden_characters_are_refused(loaded: TestClient, name: str) -> None:
    nid = queue(loaded)[0]["note_id"]
    res = loaded.post(f"/api/notes/{nid}/confirm", json={"inspector": name}, headers=JSON)
    assert res.status_code == 422 and "invisible or text-reordering" in res.text
    assert loaded.get("/api/summary").json()  # nothing stored, the app still answers
    ok = loaded.post(f"/api/notes/{nid}/confirm", json={"inspector": "  Ann\u200cJoe  "}, headers=JSON)
    assert ok.status_code == 200, ok.text  # a zero-width non-joiner is part of some names; spaces trimmed


def test_cli_review_and_serve_refuse_a_reversed_name(tmp_path: Path) -> None:
    runner = CliRunner()
    notes = write_notes(tmp_path / "notes.csv")
    for args in (["review", str(notes), "--db", str(tmp_path / "r.sqlite"), "--inspector", "Ann\u202eeoJ"],
                 ["serve", "--db", str(tmp_path / "r.sqlite"), "--inspector", "Ann\u202eeoJ"]):
        result = runner.invoke(cli_app, args)
        assert result.exit_code == 2, result.output
        assert "U+202E RIGHT-TO-LEFT OVERRIDE" in " ".join(result.output.split())
