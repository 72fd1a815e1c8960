"""Floor 4: Ray actors (directory, tenant hosts, event relays). Names live in naming.py."""
