"""Hosting plugin instances of tenants: the runtime of one tenant and its service backends."""
