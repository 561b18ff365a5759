"""The terminal review flow: one note at a time, single-key decisions, resumable.

Keys (shown on screen):

========  ==============================================================
a, Enter  confirm what is shown (the suggestion, or your corrections)
1 2 3     use statement 1–3: 1 is the suggestion, 2 and 3 the alternatives (then Enter)
b 1 2 …   set the band (numbered best first, as listed on screen)
c 1 2 …   set the evidence category (in the order listed on screen)
s         skip the note (it comes back at the end, and in the next session)
u         undo your last decision (appends an undo; the note is shown again)
q         quit (every decision is already saved)
?         help
========  ==============================================================

Keys come from a :data:`~evidencenlp.tui.keys.KeyReader` — :func:`terminal_keys` for a real
terminal, :class:`StreamKeys` for a script or a test (both in :mod:`evidencenlp.tui.keys`) — so
the whole flow runs without a terminal. The bands,
categories and statements offered are the store's vocabulary (the frameworks), never a fixed list.
A decision the store refuses is shown as a message; the note stays on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from evidencenlp.review.models import Labels, Note, ReviewError
from evidencenlp.review.store import ReviewStore
from evidencenlp.tui.keys import KeyReader, StreamKeys, terminal_keys

__all__ = ["HELP", "KeyReader", "ReviewSession", "SessionResult", "StreamKeys", "terminal_keys"]

HELP = ("[a/Enter] confirm   [1] suggested statement  [2-3] alternative statement   [b] band   [c] evidence category   "
        "[s] skip   [u] undo   [q] quit   [?] help")


@dataclass
class SessionResult:
    """What one terminal session did (counts only)."""

    decided: int = 0
    accepted: int = 0
    corrected: int = 0
    skipped: int = 0
    undone: int = 0
    quit: bool = False
    remaining: int = 0
    notes_shown: list[int] = field(default_factory=list)


class ReviewSession:
    """Walk the queue of an assessment (or all notes): undecided first, then skipped ones."""

    def __init__(self, store: ReviewStore, inspector: str, keys: KeyReader, console: Console | None = None,
                 assessment_id: int | None = None, order: str = "file") -> None:
        if not inspector.strip():
            raise ReviewError("an inspector name is needed (--inspector NAME)")
        self.store = store
        self.inspector = inspector.strip()
        self.keys = keys
        self.console = console or Console()
        self.assessment_id = assessment_id
        self.order = order
        self.vocab = store.vocabulary
        self._decided_here: list[int] = []

    # -- flow ------------------------------------------------------------------------------------

    def run(self) -> SessionResult:
        """Show notes until the queue is done or the inspector quits; every decision is committed at once."""
        result = SessionResult()
        ids = [q.note_id for q in self.store.queue(self.assessment_id, self.order, statuses=("pending", "skipped"),
                                                  undecided_first=True)]
        if not ids:
            self.console.print("Nothing to review: every note has a decision. "
                               "Export with `evidencenlp review-export`.")
            return result
        pos = 0
        while pos < len(ids):
            note = self.store.note(ids[pos])
            result.notes_shown.append(note.id)
            outcome = self._review_note(note, pos, len(ids), result)
            if outcome == "quit":
                result.quit = True
                break
            if outcome == "next":
                pos += 1
            elif isinstance(outcome, int):  # undo: show that note again now, counted once in the walk
                before = [i for i in ids[:pos] if i != outcome]
                ids = before + [outcome] + [i for i in ids[pos:] if i != outcome]
                pos = len(before)
        result.remaining = self.store.progress(self.assessment_id)["pending"]
        self._goodbye(result)
        return result

    def _review_note(self, note: Note, pos: int, total: int, result: SessionResult) -> str | int:
        suggested = note.suggested_labels()
        draft = note.decided_labels() or (self.vocab.with_own_key_question(suggested) if suggested else None)
        message = ""
        while True:
            self._render(note, draft, suggested, pos, total, message)
            message = ""
            key = self.keys()
            if key in ("a", "enter"):
                if draft is None:
                    message = "This note has no suggestion to confirm; skip it (s)."
                    continue
                try:
                    decision = self.store.confirm(note.id, self.inspector, labels=draft, client="tui")
                except ReviewError as exc:
                    message = f"Not saved: {exc}"
                    continue
                self._count(result, decision.action)
                self._decided_here.append(note.id)
                return "next"
            if key in ("1", "2", "3"):
                top3 = (note.suggestion or {}).get("statement_top3") or []
                i = int(key) - 1
                if draft is None or i >= len(top3):
                    message = f"There is no alternative {key}."
                    continue
                statement = str(top3[i]["label"])
                draft = draft.replace(statement=statement, key_question=self.vocab.key_question_of(statement) or "")
                continue
            if key in ("b", "c"):
                draft, message = self._choose(key, draft)
                continue
            if key == "s":
                try:
                    self.store.skip(note.id, self.inspector, client="tui")
                except ReviewError as exc:
                    message = f"Not saved: {exc}"
                    continue
                self._count(result, "skipped")
                self._decided_here.append(note.id)
                return "next"
            if key == "u":
                target = self._decided_here.pop() if self._decided_here else \
                    self.store.last_decided_note(self.inspector, self.assessment_id)
                try:
                    undone = self.store.undo(target, self.inspector, client="tui") if target is not None else None
                except ReviewError as exc:
                    message = f"Not saved: {exc}"
                    continue
                if target is None or undone is None:
                    message = "Nothing of yours to undo."
                    continue
                result.undone += 1
                return target
            if key == "q":
                return "quit"
            if key in ("?", "h"):
                message = HELP
                continue
            message = f"Unknown key {key!r}. {HELP}"

    def _choose(self, kind: str, draft: Labels | None) -> tuple[Labels | None, str]:
        options = self.vocab.bands if kind == "b" else self.vocab.evidence_categories
        what = "band" if kind == "b" else "evidence category"
        if draft is None:
            return draft, "There is no suggestion to correct; skip it (s)."
        menu = "   ".join(f"[{i}] {o.title}" for i, o in enumerate(options, start=1))
        self.console.print(Text(f"Set {what}: {menu}   [Esc] cancel", style="bold cyan"))
        key = self.keys()
        if key.isdigit() and 1 <= int(key) <= len(options):
            chosen = options[int(key) - 1].id
            return (draft.replace(band=chosen) if kind == "b" else draft.replace(evidence_category=chosen)), ""
        return draft, f"No {what} chosen."

    @staticmethod
    def _count(result: SessionResult, action: str) -> None:
        result.decided += 1
        if action == "accepted":
            result.accepted += 1
        elif action == "corrected":
            result.corrected += 1
        elif action == "skipped":
            result.skipped += 1

    # -- display ---------------------------------------------------------------------------------

    def _render(self, note: Note, draft: Labels | None, suggested: Labels | None, pos: int, total: int,
                message: str) -> None:
        c = self.console
        if c.is_terminal:
            c.clear()
        progress = self.store.progress(self.assessment_id)
        head = Text()
        head.append(f"Note {pos + 1} of {total}", style="bold")
        head.append(f"  ·  {note.source_file} row {note.source_row}")
        for what, value in (("id", note.source_id), ("location", note.location), ("date", note.note_date)):
            if value:
                head.append(f"  ·  {what} {value}")
        head.append(f"  ·  {note.status}")
        if note.needs_review:
            head.append("  ·  ⚠ needs review", style="bold yellow")
        head.append(f"   (confirmed {progress['confirmed']} of {progress['total']}, skipped {progress['skipped']})",
                    style="dim")
        c.print(head)
        c.print(Panel(Text(note.text), title="note (redacted)", title_align="left"))
        s = note.suggestion
        if s is None or draft is None or suggested is None:
            reason = s.get("reason") if s else None
            c.print(f"No suggestion: the tool abstained ({reason})." if reason else "No suggestion stored for this note.")
        else:
            c.print(self._table(s, draft, suggested))
            c.print(self._why(s))
            c.print(self._alternatives(s, draft))
        if note.history:
            last = note.history[-1]
            c.print(Text(f"last decision: {last.action} by {last.inspector} at {last.decided_at}", style="dim"))
        if message:
            c.print(Text(message, style="bold red" if message.startswith(("Unknown", "No", "There", "Nothing"))
                         else "cyan"))
        c.print(Text(HELP, style="dim"))

    def _table(self, s: dict, draft: Labels, suggested: Labels) -> Table:
        v = self.vocab
        table = Table(show_header=True, header_style="bold", expand=False, title="suggestion", title_justify="left")
        table.add_column("")
        table.add_column("suggested")
        table.add_column("confidence", justify="right")
        table.add_column("your decision")

        def row(name: str, kind: str, mine: str, theirs: str, score: float | None) -> None:
            changed = mine != theirs
            table.add_row(name, v.title(kind, theirs), f"{score:.0%}" if score is not None else "",
                          Text(v.title(kind, mine) + (" (changed)" if changed else ""),
                               style="bold yellow" if changed else "green"))

        def score(task: str) -> float | None:  # payloads of older versions may lack a task
            part = s.get(task)
            return part.get("score") if isinstance(part, dict) else None

        row("key question", "key_questions", draft.key_question, suggested.key_question, score("key_question"))
        row("statement", "statements", draft.statement, suggested.statement, score("statement"))
        row("evidence", "evidence_categories", draft.evidence_category, suggested.evidence_category,
            score("evidence_category"))
        row("band", "bands", draft.band, suggested.band, score("band"))
        band = s.get("band")
        probs = (band.get("probabilities") if isinstance(band, dict) else None) or {}
        if probs:
            spread = "  ".join(f"{b.title} {probs[b.id]:.0%}" for b in v.bands if b.id in probs)
            table.add_row("", Text(spread, style="dim"), "", "")
        principles = ", ".join(v.title("principles", p) for p in draft.principles) or "—"
        table.add_row("principles", ", ".join(f"{v.title('principles', p['label'])} {p['score']:.0%}"
                                              for p in s.get("principles") or []) or "—", "", principles)
        return table

    def _why(self, s: dict) -> Panel:
        evidence = s.get("evidence") or []
        if not evidence:
            return Panel(Text("no framework sentence matched", style="dim"), title="why")
        e = evidence[0]
        body = Text()
        body.append(e["text"], style="bold")
        where = f"\n{e['framework']} · {e['item']}" + (f" · {e['band']}" if e.get("band") else "")
        body.append(where + f" · similarity {e['similarity']:.2f}", style="dim")
        if e.get("weak"):
            body.append(" (weak match)", style="bold yellow")
        return Panel(body, title="why: the framework sentence that explains it", title_align="left",
                     border_style="cyan")

    def _alternatives(self, s: dict, draft: Labels) -> Text:
        """The statements keys 1-3 choose: [1] is the suggestion itself (marked so), [2] and [3] the alternatives."""
        text = Text("statements: ", style="bold")
        for i, alt in enumerate(s.get("statement_top3") or [], start=1):
            style = "reverse" if alt["label"] == draft.statement else ""
            mark = "suggested: " if i == 1 else ("alternative: " if i == 2 else "")
            text.append(f"[{i}] {mark}{self.vocab.title('statements', alt['label'])} ({alt['label']}) "
                        f"{alt['score']:.0%}", style=style)
            text.append("   ")
        return text

    def _goodbye(self, result: SessionResult) -> None:
        p = self.store.progress(self.assessment_id)
        self.console.print(
            f"This session: {result.accepted} accepted, {result.corrected} corrected, {result.skipped} skipped, "
            f"{result.undone} undone. Overall: {p['confirmed']} of {p['total']} notes confirmed, "
            f"{p['pending']} without a decision, {p['skipped']} skipped.")
        if result.quit and (p["pending"] or p["skipped"]):
            self.console.print("Every decision is saved. Run the same command to carry on where you left off.")
