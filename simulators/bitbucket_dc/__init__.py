"""Bitbucket Data Center simulator (``/rest/api/1.0``, Code Insights, git over HTTP)."""
