"""The ids of the framework files the package knows by name, and the crosswalk's file name."""

#: the id of CQC's Single Assessment Framework file, preferred as the primary framework when present
SAF_ID = "cqc-saf-2023"
V6_ID = "cqc-pcc-v6-draft"
KLOE_ID = "cqc-kloe-healthcare-2018"
PRINCIPLES_ID = "kingsfund-outstanding-2026"
CROSSWALK_FILE = "crosswalk.yaml"
#: schema and consistency problems listed in one error message at most
MAX_ERRORS_SHOWN = 10
