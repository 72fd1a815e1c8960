"""The Bitbucket review agent (Cloud and Data Center); foundations: docs/agents/bitbucket.md."""
