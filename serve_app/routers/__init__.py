"""HTTP routers of the ingress; each reads the replica's Services from ``request.app.state``."""
