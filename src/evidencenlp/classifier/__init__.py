"""The classify stage: :class:`EvidenceClassifier` (a plain scikit-learn estimator) and its parts.

- :mod:`~evidencenlp.classifier.estimator`: the estimator (validated parameters; embeddings, the framework
  index, origins and sample weights passed in; no I/O);
- :mod:`~evidencenlp.classifier.joint`: the joint key question × statement maths and its temperature;
- :mod:`~evidencenlp.classifier.thresholds`: the review thresholds and how they are chosen;
- :mod:`~evidencenlp.classifier.risk`: the review risk model (how likely a suggestion is right);
- :mod:`~evidencenlp.classifier.persistence`: ``heads.npz`` + ``heads.json`` (save / load, no pickle).
"""

from evidencenlp.classifier.estimator import (
    FEEDBACK_ORIGIN,
    FRAMEWORK_ORIGIN,
    ROUTED_TASKS,
    ClassifierOutput,
    EvidenceClassifier,
    source_sample_weights,
    with_source_weight,
)
from evidencenlp.classifier.joint import (
    agree_with_direction,
    align,
    decide,
    direction_confidence,
    fit_joint_temperature,
    joint,
    softmax,
    statement_ranking,
)
from evidencenlp.classifier.names import (
    ARRAYS_FILE,
    DIRECTION_TASK,
    FORMAT,
    META_FILE,
    PRINCIPLES_TASK,
    READABLE_FORMATS,
    REVIEW_KEY,
)
from evidencenlp.classifier.persistence import load_classifier, save_classifier
from evidencenlp.classifier.risk import RISK_FEATURES, RiskModel, risk_features
from evidencenlp.classifier.thresholds import DEFAULT_THRESHOLDS, ThresholdChoice, choose_thresholds

__all__ = ["ARRAYS_FILE", "DEFAULT_THRESHOLDS", "DIRECTION_TASK", "FEEDBACK_ORIGIN", "FORMAT", "FRAMEWORK_ORIGIN",
           "META_FILE", "PRINCIPLES_TASK", "READABLE_FORMATS", "REVIEW_KEY", "RISK_FEATURES", "ROUTED_TASKS",
           "ClassifierOutput", "EvidenceClassifier", "RiskModel", "ThresholdChoice", "agree_with_direction", "align",
           "decide", "choose_thresholds",
           "direction_confidence", "fit_joint_temperature", "joint", "load_classifier", "risk_features", "save_classifier",
           "softmax", "source_sample_weights", "statement_ranking", "with_source_weight"]
