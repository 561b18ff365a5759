"""User-facing errors. The CLI prints these as one clear message, never a traceback."""

from __future__ import annotations


class EvidenceNLPError(Exception):
    """Base class for errors caused by the user's input or environment (not by a bug)."""


class FrameworkError(EvidenceNLPError):
    """A framework file is missing, unreadable or does not match the schema."""


class InputFileError(EvidenceNLPError):
    """An input table cannot be read, or lacks what the command needs."""


class ModelError(EvidenceNLPError):
    """A trained model is missing, corrupt, or does not fit the encoder/frameworks in use."""


class DataError(EvidenceNLPError):
    """Labelled data has wrong or missing labels."""
