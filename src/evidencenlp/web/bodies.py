"""The JSON bodies the API accepts (pydantic models)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from evidencenlp.review.decisions import ANY, MAX_RATIONALE
from evidencenlp.review.models import Labels
from evidencenlp.review.names import BadNameError, inspector_name


class LabelsIn(BaseModel):
    """Labels the inspector confirms (the key question may be left out: it follows the statement)."""

    key_question: str | None = None
    statement: str
    evidence_category: str
    band: str
    principles: list[str] = Field(default_factory=list)

    def to_labels(self) -> Labels:
        """As the store's :class:`Labels`."""
        return Labels(self.key_question or "", self.statement, self.evidence_category, self.band,
                      tuple(self.principles))


class DecisionIn(BaseModel):
    """Who decides, and (for confirm) what. ``based_on``: the latest decision id the page showed."""

    inspector: str = Field(min_length=1, max_length=200)
    labels: LabelsIn | None = None
    rationale: str | None = Field(default=None, max_length=MAX_RATIONALE)
    based_on: int | None = None

    @field_validator("inspector")
    @classmethod
    def _visible_name(cls, value: str) -> str:
        """The name trimmed; refused (422) when it holds invisible or text-reordering characters."""
        try:
            return inspector_name(value)
        except BadNameError as exc:  # as pydantic's ValueError, so the API answers 422 naming the field
            raise ValueError(str(exc)) from None

    def seen(self) -> object:
        """``based_on`` when the page sent it (even as null), else :data:`ANY` (do not check)."""
        return self.based_on if "based_on" in self.model_fields_set else ANY


class ImportIn(BaseModel):
    """Import a file already on this computer (loopback servers only)."""

    path: str
    text_column: str = "text"
    assessment: str | None = None
    location: str | None = None
    service_type: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    id_column: str | None = None
    location_column: str | None = None
    date_column: str | None = None
