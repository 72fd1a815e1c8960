"""Floor 1: settings, errors, contracts, database, bus, LLM gateway, embedded servers."""
