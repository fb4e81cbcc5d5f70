"""The five govit services; each owns its stage and its own database."""
