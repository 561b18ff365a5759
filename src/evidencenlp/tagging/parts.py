"""The parts folder of a tagging run, owned here once for both engines (local and dask).

Each finished chunk (local) or partition (dask) is saved as ``part-NNNNNN.parquet`` in a hidden
folder beside the output (``.OUTPUT.parts/``) together with a manifest. When every part is done they
are assembled into the output (written to a temporary name, then renamed) and the folder is removed;
the local engine appends each part to that temporary file as it is saved (:class:`LiveAssembly`), so
little is left to do at the end.
An interrupted run leaves the parts; a resumed run checks the manifest matches — a SHA-256 of the
whole input and every setting that changes the output — so a resume never mixes two inputs or two
settings. The folder is only created with the first finished part, so a run that fails before it
leaves nothing behind. This module also holds the overwrite, ``--force`` and ``--resume`` checks and
their messages. No message contains note text.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evidencenlp.errors import InputFileError
from evidencenlp.tabular import FORMATS, ChunkedWriter, table_format
from evidencenlp.tagging.chunk import TagSummary

MANIFEST = "manifest.json"


def parts_dir(output: Path) -> Path:
    """The hidden folder of finished chunks for ``output``."""
    return output.with_name(f".{output.name}.parts")


def _input_identity(path: Path) -> dict[str, object]:
    """Path, size and a SHA-256 of the whole file (streamed), so any edit anywhere is seen."""
    stat = path.stat()
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"input": str(path.resolve()), "size": stat.st_size, "sha256": digest.hexdigest()}


def make_manifest(path: Path, text_column: str, chunk_rows: int, redact: bool, prefix: str,
                  model_version: str, evidence_category: str | None = None, delimiter: str | None = None,
                  sheet: str | None = None, encoding: str = "utf-8") -> dict[str, Any]:
    """The manifest of a run on the input ``path``: its identity (path, size, SHA-256) and every setting
    that changes the output. An engine may add its own keys (dask: ``engine``, ``partitions``)."""
    return {**_input_identity(path), "text_column": text_column, "chunk_rows": chunk_rows, "redact": redact,
            "prefix": prefix, "model_version": model_version, "evidence_category": evidence_category,
            "delimiter": delimiter, "sheet": sheet, "encoding": encoding}


def finished_parts(folder: Path) -> list[Path]:
    """The saved parts in ``folder``, in part-number order (none when the folder does not exist)."""
    return sorted(folder.glob("part-*.parquet"))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_stale_temp_files(output: Path) -> list[Path]:
    """Remove temporary outputs (``.OUT.<pid>.writing``/``.tmp``) left by a process that is gone."""
    removed = []
    for tmp in [*output.parent.glob(f".{output.name}.*.writing"), *output.parent.glob(f".{output.name}.*.tmp")]:
        pid = tmp.name[len(output.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and (int(pid) == os.getpid() or not _pid_alive(int(pid))):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    folder = parts_dir(output)
    if folder.is_dir():
        for tmp in folder.glob(".part-*.tmp"):
            tmp.unlink(missing_ok=True)
    return removed


def _sibling_parts(input_path: Path, output: Path) -> list[Path]:
    """Parts folders of the same output name in another format, left by a run on the same input."""
    found = []
    for ext in sorted(set(FORMATS)):
        other = output.with_suffix(ext)
        folder = parts_dir(other)
        if other == output or not folder.is_dir():
            continue
        try:
            saved = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if saved.get("input") == str(input_path.resolve()):
            found.append(folder)
    return found


# -- overwrite, --force and --resume ----------------------------------------------------------------


class AlreadyComplete(InputFileError):
    """``--resume`` found the output written and no interrupted run: there is nothing to do.

    Not a failure: the caller reports it and leaves the output as it is (``--force`` tags again).
    """


def check_resume_target(output: Path, resume: bool, force: bool) -> None:
    """With ``resume`` (and no ``force``): raise :class:`AlreadyComplete` when ``output`` exists and no
    interrupted run's parts are beside it, so a finished output is never tagged and written again."""
    if resume and not force and output.exists() and not parts_dir(output).exists():
        raise AlreadyComplete(f"{output}: already complete (no interrupted run to resume); left unchanged — pass "
                              "--force to tag the input again")


def check_output(output: Path, resume: bool, force: bool) -> None:
    """Refuse to overwrite an output or an interrupted run's parts unless asked (nothing is removed here).

    Raises :class:`AlreadyComplete` (see :func:`check_resume_target`) or :class:`InputFileError` naming
    the flag to pass.
    """
    check_resume_target(output, resume, force)
    if resume or force:
        return
    folder = parts_dir(output)
    if folder.exists():
        raise InputFileError(f"{output}: an earlier run was interrupted (its finished chunks are in {folder}); "
                             "pass --resume to continue it, or --force to start again")
    if output.exists():
        raise InputFileError(f"{output}: already exists; pass --force to overwrite it")


def _saved_manifest(folder: Path) -> dict[str, Any]:
    try:
        saved = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputFileError(f"{folder}: the saved progress is unreadable; run again with --force") from None
    if not isinstance(saved, dict):
        raise InputFileError(f"{folder}: the saved progress is unreadable; run again with --force")
    return saved


def open_parts(output: Path, manifest: dict[str, Any], resume: bool, force: bool, engine: str,
               not_compared: Collection[str] = ("chunk_rows",)) -> dict[str, Any] | None:
    """Check the output and the parts folder before a run; return the interrupted run's manifest when
    resuming it, else None (an earlier folder is removed: ``--force``).

    A resumed run must be of the same ``engine`` and have the same manifest, apart from the keys in
    ``not_compared`` (the engine compares those itself). A new folder is *not* created here (see
    :func:`save_part`): a run that fails before its first part must leave nothing behind.
    """
    check_output(output, resume, force)
    folder = parts_dir(output)
    if not folder.exists():
        return None
    if not resume:
        shutil.rmtree(folder)
        return None
    saved = _saved_manifest(folder)
    before = saved.get("engine", "local")
    if before != engine:
        raise InputFileError(f"{output}: cannot resume: the interrupted run used --engine {before}; resume it "
                             f"with --engine {before}, or run again with --force to start again")
    differs = sorted(k for k in manifest if k not in not_compared and k != "engine" and saved.get(k) != manifest[k])
    if differs:
        raise InputFileError(f"{output}: cannot resume: {', '.join(differs)} differ from the interrupted run; "
                             "run again with --force to start again")
    return saved


def saved_rows(folder: Path) -> dict[int, int]:
    """Part number -> rows of every saved part in ``folder`` (an unreadable part is a one-line error)."""
    done: dict[int, int] = {}
    for path in finished_parts(folder):
        try:
            number = int(path.stem.split("-", 1)[1])
            done[number] = pq.ParquetFile(path).metadata.num_rows
        except (ValueError, OSError, pa.ArrowException):
            raise InputFileError(f"{folder}: the saved progress is unreadable ({path.name}); run again with "
                                 "--force") from None
    return done


# -- saving, assembling -----------------------------------------------------------------------------


def write_error(output: Path, exc: OSError) -> InputFileError:
    """The one-line error for an output or part that cannot be written (the disk is full, …)."""
    why = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else (exc.strerror or type(exc).__name__)
    return InputFileError(f"{output}: cannot write the output: {why}; the finished chunks are kept — free space "
                          "and run again with --resume")


def save_part(output: Path, manifest: dict[str, Any], number: int, frame: pd.DataFrame, *, source: object,
              rows: str) -> Path:
    """Save one finished chunk as part ``number`` of ``output`` (creating the folder and its manifest with
    the first one; the part is written to a temporary name, then renamed); returns the part's path.

    A write that fails is one line (:func:`write_error`); rows Arrow cannot store are one line naming
    ``source`` (the input) and ``rows`` (e.g. ``rows 1–5``).
    """
    folder = parts_dir(output)
    try:
        if not folder.exists():
            folder.mkdir(parents=True)
            (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        tmp = folder / f".part-{number:06d}.tmp"
        frame.to_parquet(tmp, index=False)
        part = tmp.replace(folder / f"part-{number:06d}.parquet")
    except OSError as exc:
        raise write_error(output, exc) from None
    except (pa.ArrowException, OverflowError) as exc:
        raise InputFileError(f"{source}: {rows} cannot be stored ({type(exc).__name__}: mixed or unsupported cell "
                             "types)") from None
    return part


def _unified_schema(parts: list[Path]) -> pa.Schema:
    """One schema for all parts: a column whose type differs between parts becomes text (or float)."""
    return _unify([pq.read_schema(p) for p in parts])


def _unify(schemas: list[pa.Schema]) -> pa.Schema:
    """:func:`_unified_schema` of the parts with these schemas (the first one's column order)."""
    fields = []
    for name in schemas[0].names:
        types = {s.field(name).type for s in schemas} - {pa.null()}
        if len(types) <= 1:
            fields.append(pa.field(name, types.pop() if types else pa.string()))
        elif types <= {pa.int64(), pa.float64(), pa.int32(), pa.float32()}:
            fields.append(pa.field(name, pa.float64()))
        else:
            fields.append(pa.field(name, pa.string()))
    return pa.schema(fields)


def _iter_parts(parts: list[Path], schema: pa.Schema | None) -> Iterator[pd.DataFrame]:
    for part in parts:
        table = pq.read_table(part)
        if schema is not None:
            table = table.cast(schema)
        yield table.to_pandas()


def assemble(output: Path) -> int:
    """Join the finished parts into ``output`` (atomically) and remove the parts folder.

    Returns the number of characters removed because an .xlsx cannot hold them.
    """
    folder = parts_dir(output)
    parts = finished_parts(folder)
    if not parts:
        raise InputFileError(f"{output}: there are no tagged rows to write")
    clean_stale_temp_files(output)
    writer = ChunkedWriter(output)
    schema = _unified_schema(parts) if table_format(output) == "parquet" else None
    try:
        for frame in _iter_parts(parts, schema):
            writer.write(frame)
    except BaseException:
        writer.abort()
        raise
    return _publish(writer, output)


def _publish(writer: ChunkedWriter, output: Path) -> int:
    """Close ``writer`` (its file replaces ``output`` atomically; dropped if closing fails) and remove the
    parts folder; returns the characters an .xlsx could not hold."""
    try:
        writer.close()
    except BaseException:
        writer.abort()
        raise
    shutil.rmtree(parts_dir(output))
    return writer.removed_characters


#: the output formats assembled live (an .xlsx output is assembled at the end)
_LIVE_FORMATS = ("csv", "tsv", "jsonl", "parquet")


class LiveAssembly:
    """:func:`assemble` done part by part while the run goes on, so little is left to do at its end.

    :meth:`add` each finished part, in order, as soon as it is saved: it is read back and appended to
    the output's temporary file exactly as :func:`assemble` would append it. :meth:`finish` then only
    publishes that file and removes the parts folder. For a parquet output :func:`assemble` casts every
    part to one schema unified over all parts, which is not known before the last one; as long as a
    new part leaves the unified schema as it was, what was written stands. Should a part change it (a
    column that was all numbers gets text), or anything go wrong while writing, the live file is
    dropped and :meth:`finish` runs :func:`assemble` itself, so the output and any error are the same
    as without this class, byte for byte. An .xlsx output is always assembled at the end.
    """

    def __init__(self, output: Path) -> None:
        self.output = output
        fmt = table_format(output)
        # not for .xlsx: a workbook dropped half-written (an error later in the run) complains on stderr
        self._writer: ChunkedWriter | None = ChunkedWriter(output) if fmt in _LIVE_FORMATS else None
        self._parquet = fmt == "parquet"
        self._schemas: list[pa.Schema] = []
        self._schema: pa.Schema | None = None
        self._added: list[str] = []

    def add(self, part: Path) -> None:
        """Append the saved part ``part`` (the next in order) to the live output, or give up quietly."""
        writer = self._writer
        if writer is None:
            return
        try:
            schema = None
            if self._parquet:
                self._schemas.append(pq.read_schema(part))
                schema = _unify(self._schemas)
                if self._schema is not None and not schema.equals(self._schema):
                    self.abort()
                    return
                self._schema = schema
            (frame,) = _iter_parts([part], schema)
            writer.write(frame)
            self._added.append(part.name)
        except Exception:  # the same problem is met, and reported, by assemble() at the end
            self.abort()

    def abort(self) -> None:
        """Drop the live output (the parts are kept)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.abort()

    def finish(self) -> int:
        """Publish the output (atomically) and remove the parts folder; :func:`assemble` when the live
        output does not hold exactly the finished parts. Returns the characters an .xlsx could not hold."""
        writer = self._writer
        if writer is None or not self._added or self._added != [p.name for p in finished_parts(parts_dir(self.output))]:
            self.abort()
            return assemble(self.output)
        self._writer = None
        return _publish(writer, self.output)


def finish_output(input_path: Path, output: Path, summary: TagSummary, started: float,
                  live: LiveAssembly | None = None) -> TagSummary:
    """The last step of a run (either engine): assemble the parts into ``output`` (or publish what
    ``live`` assembled while the run went on), remove other runs' leftover parts of the same input,
    and record the seconds since ``started``."""
    try:
        summary.removed_characters = live.finish() if live is not None else assemble(output)
    except OSError as exc:
        raise write_error(output, exc) from None
    for old in _sibling_parts(input_path, output):
        shutil.rmtree(old, ignore_errors=True)
    summary.seconds = time.perf_counter() - started
    return summary
