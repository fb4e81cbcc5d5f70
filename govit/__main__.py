"""`python -m govit`: the `govit` command."""

from govit.cli import main

main()
