"""Helpers shared by the service benchmarks (an isolated ``up``, load generators)."""
