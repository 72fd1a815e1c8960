"""Floor 5: the Ray Serve ingress, its routers and the command line."""
