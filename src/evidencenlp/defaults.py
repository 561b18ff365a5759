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
#: the encoder backends (see evidencenlp.encoder): the reference, its int8 ONNX export, a static distillation
BACKENDS: tuple[str, ...] = ("torch", "onnx-int8", "static")
BACKEND_HELP = ("Encoder backend: torch (reference), onnx-int8 (the same model quantised to 8-bit with onnxruntime, "
                "built and cached at first use; ~2x faster) or static (a model2vec distillation with its own heads, "
                "built at first use; far faster, less accurate). The model card compares them.")
#: worker processes of the local dask cluster that ``tag --engine dask`` starts when no --scheduler is given
DEFAULT_DASK_WORKERS = 2
#: the static backend's heads: word TF-IDF for key question and direction only (character n-grams cost more
#: per note than the static encoder itself, which would undo its speed)
STATIC_HEAD_PARAMS: dict[str, tuple[str, ...]] = {"text_tasks": ("key_question", "direction"), "char_tasks": ()}
#: orders in which the review queue can show notes
ORDERS: tuple[str, ...] = ("file", "uncertain")
#: service types an assessment or a corpus note can name
SERVICES: tuple[str, ...] = ("gp_practice", "care_home", "home_care", "acute_hospital", "mental_health",
                             "community", "dental", "ambulance", "hospice", "urgent_care")
