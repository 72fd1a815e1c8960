"""Building blocks of the webhook and event pipeline: verify, limit, record, measure."""
