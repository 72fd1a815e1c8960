"""generic-webhook: a tenant-defined connector turning signed JSON webhooks into events."""
