"""The Bitbucket review agent (Cloud and Data Center); status: foundations, see docs/agents/bitbucket.md."""
