"""The `dcoder-integrations` command line: one module per group of subcommands."""
