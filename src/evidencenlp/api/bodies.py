"""The JSON bodies of the suggestion API (pydantic models): what it accepts, and what it answers.

The answer models document the output contract (``Suggestion.to_dict()``, README "Output
contract") for the OpenAPI description; the routes send the contract's dictionaries as they are.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SuggestIn(BaseModel):
    """``POST /v1/suggest``: the notes, and what to compute for them."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"notes": ["Call bell in room 14 rang for 11 minutes before anyone answered.", ""]}]})

    notes: list[str | None] = Field(description="The notes, one string each; a blank note (or null) gets null.")
    sentences: bool = Field(True, description="Per-sentence suggestions for multi-sentence notes (the `sentences` "
                                              "field). false is faster and leaves the list empty.")
    evidence: bool = Field(True, description="Every explaining framework sentence (the `evidence` list). false "
                                             "keeps only the first, which belongs to the suggested statement.")


class LabelOut(BaseModel):
    """A suggested label and its calibrated probability."""

    label: str
    score: float


class BandOut(LabelOut):
    """The suggested band, with the probability of every band."""

    probabilities: dict[str, float]


class EvidenceOut(BaseModel):
    """A framework sentence that explains a suggestion."""

    framework: str
    item: str
    band: str | None
    text: str
    similarity: float
    weak: bool = Field(False, description="True when the similarity is below the model's weak-match threshold.")


class SpanOut(BaseModel):
    """Where a topic's evidence is in the (redacted) note: character offsets, and the text there."""

    start: int
    end: int
    text: str | None = None


class TopicOut(BaseModel):
    """One thing the note is about (README, "Topics"): main topic first; one topic for a single-topic note."""

    key_question: LabelOut
    statement: LabelOut
    band: BandOut
    direction: LabelOut | None
    score: float
    evidence: SpanOut
    spans: list[list[int]]


class SentenceOut(BaseModel):
    """The suggestion for one sentence of a multi-sentence note."""

    text: str
    key_question: LabelOut
    statement: LabelOut
    band: BandOut
    evidence: EvidenceOut | None
    needs_review: bool


class SuggestionOut(BaseModel):
    """One note's suggestion: the output contract (README, "Output contract")."""

    text: str = Field(description="The note, redacted.")
    reason: str | None = Field(description="null when assessed; no_content or not_english when the tool abstained.")
    key_question: LabelOut | None
    key_questions: list[LabelOut]
    statement: LabelOut | None
    statement_top3: list[LabelOut]
    evidence_category: LabelOut | None
    band: BandOut | None
    direction: LabelOut | None
    principles: list[LabelOut]
    evidence: list[EvidenceOut]
    sentences: list[SentenceOut]
    topics: list[TopicOut]
    needs_review: bool
    model_version: str
    redactions: dict[str, int]


class SuggestOut(BaseModel):
    """One suggestion per note, in the order of the notes; null for a blank note."""

    suggestions: list[SuggestionOut | None]


class HealthOut(BaseModel):
    """Whether the API can suggest: ``ready`` (200), or ``loading`` / ``failed`` (503, with ``detail``)."""

    status: str = Field(description="ready, loading or failed")
    detail: str | None = None
    model_version: str | None = None
    backend: str | None = None
    load_seconds: float | None = None


class FrameworkOut(BaseModel):
    """A loaded framework."""

    id: str
    title: str
    version: str
    publisher: str
    primary: bool = Field(description="true for the framework that declares the label space")
    counts: dict[str, int]


class FrameworksOut(BaseModel):
    """The frameworks in use and the label space suggestions come from."""

    frameworks: list[FrameworkOut]
    label_space: dict[str, Any] = Field(description="framework, key_questions, statements, bands, "
                                                    "evidence_categories, principles (each with id, title and "
                                                    "its text from the framework file) and directions")
    model_version: str | None = Field(description="the model's id once it is loaded, else null")
    limits: dict[str, float | int] = Field(description="the bounds on one request")


class ProblemOut(BaseModel):
    """Where a request body does not fit, and what was expected (never the value sent)."""

    where: str
    problem: str


class ErrorOut(BaseModel):
    """Every error: one clear line, and for a body that does not fit, each problem."""

    detail: str
    problems: list[ProblemOut] | None = None
