"""``python -m pqltools`` runs the ``pql`` command line."""

from pqltools.cli import main

main()
