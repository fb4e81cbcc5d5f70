"""`python -m govit.cli`: the `govit` command (what `govit up` runs each service with)."""

from govit.cli import main

main()
