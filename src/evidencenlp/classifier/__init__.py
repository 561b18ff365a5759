"""The classify stage: :class:`EvidenceClassifier` (a plain scikit-learn estimator) and its parts.

- :mod:`~evidencenlp.classifier.estimator`: the estimator (validated parameters; embeddings, the framework
  index, origins and sample weights passed in; no I/O);
- :mod:`~evidencenlp.classifier.joint`: the joint key question × statement maths and its temperature;
- :mod:`~evidencenlp.classifier.thresholds`: the review thresholds and how they are chosen;
- :mod:`~evidencenlp.classifier.persistence`: ``heads.npz`` + ``heads.json`` (save / load, no pickle).
"""

from evidencenlp.classifier.estimator import (
    FEEDBACK_ORIGIN,
    FRAMEWORK_ORIGIN,
    ROUTED_TASKS,
    ClassifierOutput,
    EvidenceClassifier,
    source_sample_weights,
)
from evidencenlp.classifier.joint import (
    agree_with_direction,
    align,
    direction_confidence,
    fit_joint_temperature,
    joint,
    softmax,
)
from evidencenlp.classifier.names import (
    ARRAYS_FILE,
    DIRECTION_TASK,
    FORMAT,
    META_FILE,
    PRINCIPLES_TASK,
    READABLE_FORMATS,
)
from evidencenlp.classifier.persistence import load_classifier, save_classifier
from evidencenlp.classifier.thresholds import DEFAULT_THRESHOLDS, ThresholdChoice, choose_thresholds

__all__ = ["ARRAYS_FILE", "DEFAULT_THRESHOLDS", "DIRECTION_TASK", "FEEDBACK_ORIGIN", "FORMAT", "FRAMEWORK_ORIGIN",
           "META_FILE", "PRINCIPLES_TASK", "READABLE_FORMATS", "ROUTED_TASKS", "ClassifierOutput",
           "EvidenceClassifier", "ThresholdChoice", "agree_with_direction", "align", "choose_thresholds",
           "direction_confidence", "fit_joint_temperature", "joint", "load_classifier", "save_classifier", "softmax",
           "source_sample_weights"]
