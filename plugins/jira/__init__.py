"""The Jira agent: @mention -> analysis and estimate -> one comment (see docs/agents/jira.md)."""
