"""Default settings shared by the library and the command line, in a module that imports nothing heavy.

The CLI reads its option defaults from here so that ``--help`` and bad-input errors answer without
importing scikit-learn, torch or spaCy.
"""

from __future__ import annotations

#: inverse L2 strength of the logistic-regression heads
DEFAULT_C = 0.01
#: folds of the grouped cross-validation
DEFAULT_FOLDS = 5
#: rows per chunk when tagging: large enough for the encoder's length sorting; memory stays bounded
DEFAULT_CHUNK_ROWS = 4096
#: the models ``evaluate`` compares, in the order they are shown (the model under test first)
MODEL_NAMES: tuple[str, ...] = ("heads", "majority", "tfidf_svm", "zero_shot")
MODEL_TITLES: dict[str, str] = {"heads": "trained heads", "majority": "majority class",
                                "tfidf_svm": "TF-IDF + LinearSVC", "zero_shot": "zero-shot cosine"}
