"""Suite tooling: the `govit` command, the dev runner, embedded NATS, the demo and the timeline.

The only package that imports services (by name, when a command needs one); shared/ is the
library the services use and imports neither services nor govit.
"""
