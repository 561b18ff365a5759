"""The names the classifier's parts share: the extra tasks beside the taxonomy's, and the saved files."""

PRINCIPLES_TASK = "principles"
DIRECTION_TASK = "direction"
FORMAT = "evidencenlp-heads/2"
READABLE_FORMATS: tuple[str, ...] = ("evidencenlp-heads/1", FORMAT)
ARRAYS_FILE = "heads.npz"
META_FILE = "heads.json"
#: key of ``ClassifierOutput.proba`` holding ``(n, 2)`` review confidences (key question right, direction right)
REVIEW_KEY = "review"
