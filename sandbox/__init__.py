"""Sandboxed code analysis: isolated execution backends, the analysis engine and the review task."""
