"""A small plugin used by the harness tests (events, upgrade, configure checks)."""
