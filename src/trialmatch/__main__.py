"""``python -m trialmatch``: the command line."""

from trialmatch.cli import main

main()
