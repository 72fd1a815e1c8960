"""The combined simulator (one per session, real HTTP on a free port) for the HTTP helper tests."""

from tests.simulators.conftest import SimServer, sim

__all__ = ["SimServer", "sim"]
