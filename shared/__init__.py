"""The suite's common library: contracts, bus, outbox/inbox, settings, auth, policy and glue."""
