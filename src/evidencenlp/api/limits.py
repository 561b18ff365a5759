"""How much one request to the suggestion API may ask for, and how long it may take.

Everything here is plain data (no web framework), so the command line can show the defaults in its
``--help`` without importing FastAPI.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from evidencenlp.errors import EvidenceNLPError

#: notes in one request (pxtextmining's API capped a request at the same number of comments)
DEFAULT_MAX_NOTES = 1_000
#: characters in one note (a long inspection paragraph is a few thousand)
DEFAULT_MAX_NOTE_CHARS = 20_000
#: characters in all the notes of one request together
DEFAULT_MAX_TOTAL_CHARS = 2_000_000
#: bytes of one request body, checked before it is parsed (JSON escapes can make a body larger than its text)
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
#: seconds one request may take, from reading its body through waiting for a free slot to the answer
DEFAULT_TIMEOUT_SECONDS = 60.0
#: batches suggested at the same time (the rest wait their turn): one per 2 CPU cores is the default
DEFAULT_CONCURRENCY = 1


@dataclass(frozen=True)
class ApiLimits:
    """Bounds on one request. All must be positive; :class:`EvidenceNLPError` says which is not.

    ``max_notes``: notes in the ``notes`` list; ``max_note_chars``: characters in one note;
    ``max_total_chars``: characters in all notes together; ``max_body_bytes``: the size of the
    request body, refused before parsing; ``timeout_seconds``: reading the body, waiting for a free
    slot and suggesting, together; ``concurrency``: batches suggested at once (others queue).
    """

    max_notes: int = DEFAULT_MAX_NOTES
    max_note_chars: int = DEFAULT_MAX_NOTE_CHARS
    max_total_chars: int = DEFAULT_MAX_TOTAL_CHARS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    concurrency: int = DEFAULT_CONCURRENCY

    def __post_init__(self) -> None:
        bad = [name for name, value in asdict(self).items() if not value > 0]
        if bad:
            raise EvidenceNLPError(f"API limits must be positive: {', '.join(bad)}")

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready form (shown by ``GET /v1/frameworks`` and in the OpenAPI description)."""
        return asdict(self)
