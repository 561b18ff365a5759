"""``python -m evidencenlp`` runs the command line."""

from evidencenlp.cli import main

main()
