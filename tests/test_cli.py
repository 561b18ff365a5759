"""The command line as a user runs it: real processes, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evidencenlp", *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_classify_json_from_stdin() -> None:
    note = "Staff told us they had raised concerns about night staffing twice and nothing changed."
    proc = run("classify", "-", "--format", "json", stdin=note)
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["text"] == note and d["evidence"] and "needs_review" in d
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_classify_table_and_empty_note() -> None:
    proc = run("classify", "Hand gel dispensers were empty on the ward.")
    assert proc.returncode == 0 and "band" in proc.stdout and "confirm or correct" in proc.stdout
    empty = run("classify", "-", stdin="   ")
    assert empty.returncode == 2 and "empty" in empty.stderr and "Traceback" not in empty.stderr


@pytest.mark.slow  # CI also tags the bundled example as its main job
def test_tag_example_file(tmp_path: Path) -> None:
    out = tmp_path / "tagged.xlsx"
    proc = run("tag", str(REPO / "examples" / "notes.csv"), "-o", str(out), "--text-column", "text")
    assert proc.returncode == 0, proc.stderr
    assert "25 rows" in proc.stderr and "1 blank" in proc.stderr and "rows/s" in proc.stderr
    frame = pd.read_excel(out)
    assert len(frame) == 25 and frame["id"].tolist()[:3] == ["N001", "N002", "N003"]
    assert "943 476 5919" not in " ".join(frame["text"].fillna(""))


@pytest.mark.parametrize("args,expected", [
    (["tag", "missing.csv", "-o", "out.csv"], "missing.csv: file not found"),
    (["tag", "{example}", "-o", "out.csv", "--text-column", "note"], "no column 'note'; columns found: 'id'"),
    (["tag", "{example}", "-o", "out.docx"], "unsupported file type '.docx'"),
    (["frameworks", "validate", "nope.yaml"], "nope.yaml: file not found"),
])
def test_user_mistakes_get_one_clear_line(tmp_path: Path, args: list[str], expected: str) -> None:
    args = [a.replace("{example}", str(REPO / "examples" / "notes.csv")) for a in args]
    args = [str(tmp_path / a) if a.startswith(("out.", "missing.", "nope.")) else a for a in args]
    proc = run(*args)
    assert proc.returncode == 2
    assert expected in proc.stderr.replace("\n", " ") or expected in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.slow
def test_works_with_the_network_unreachable(tmp_path: Path) -> None:
    """Load encoder + heads and classify with every socket connection refused and no hub variables set."""
    guard = tmp_path / "sitecustomize.py"
    guard.write_text(
        "import socket\n"
        "def _refuse(*a, **k):\n    raise OSError('network disabled for this test')\n"
        "socket.socket.connect = _refuse\nsocket.socket.connect_ex = _refuse\nsocket.create_connection = _refuse\n",
        encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(PYTHONPATH=f"{tmp_path}{os.pathsep}{env.get('PYTHONPATH', '')}", HTTPS_PROXY="http://127.0.0.1:9",
               HTTP_PROXY="http://127.0.0.1:9")
    proc = subprocess.run([sys.executable, "-m", "evidencenlp", "classify", "Medicines were stored safely.",
                           "--format", "json"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["statement"]["label"]


def test_version_names_the_package_and_the_model() -> None:
    from typer.testing import CliRunner

    import evidencenlp
    from evidencenlp.cli import app

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith(f"evidencenlp {evidencenlp.__version__} (model heads-")


def test_command_registration_fails_loudly_on_a_missing_or_broken_module(tmp_path, monkeypatch) -> None:
    """A command module that cannot be imported raises at registration; its command never just vanishes."""
    import sys

    import pytest

    from evidencenlp.cli import COMMAND_MODULES, app, register_commands

    with pytest.raises(ModuleNotFoundError, match="evidencenlp.cli.no_such_command"):
        register_commands(("no_such_command",))
    package = tmp_path / "brokencli"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "broken.py").write_text("import evidencenlp_module_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="evidencenlp_module_that_does_not_exist"):
        register_commands(("broken",), package="brokencli")
    sys.modules.pop("brokencli", None)
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups if g.name}
    assert {"tag", "classify", "train", "assess", "api"} <= names
    # every public module of the cli package is a registered command module (none forgotten, none extra)
    from pathlib import Path

    import evidencenlp.cli as cli_package
    folder = Path(cli_package.__file__).parent
    assert set(COMMAND_MODULES) == {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}


def _commands() -> list[tuple[list[str], object]]:
    from typer.main import get_command

    from evidencenlp.cli import app

    found: list[tuple[list[str], object]] = []

    def walk(cmd: object, path: list[str]) -> None:
        found.append((path, cmd))
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return found


@pytest.mark.parametrize("path,command", _commands(), ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_help_at_80_columns_shows_every_option_name_whole(path: list[str], command: object) -> None:
    import re

    from typer.testing import CliRunner

    from evidencenlp.cli import app

    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    names = [o for p in getattr(command, "params", []) for o in (*p.opts, *p.secondary_opts) if o.startswith("-")]
    cut = [n for n in names if not re.search(re.escape(n) + r"(?![\w-])", result.output)]
    assert not cut, f"option names cut at 80 columns: {cut}"


@pytest.mark.parametrize("stdin,args,expected", [
    (b"The bell \xff\xfe rang late", ["-"], "standard input is not UTF-8 text (invalid byte 0xff at byte 9)"),
    (b"", ["bad \udcff arg"], "the note given is not UTF-8 text"),
])
def test_classify_refuses_text_that_is_not_utf8_in_one_line(stdin: bytes, args: list[str], expected: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "evidencenlp", "classify", *args], input=stdin, capture_output=True,
                          env={**os.environ, "PYTHONUTF8": "1"}, timeout=300)
    err = proc.stderr.decode("utf-8", errors="replace")
    assert proc.returncode == 2 and expected in " ".join(err.split()), err
    assert "Traceback" not in err and "rang" not in err
