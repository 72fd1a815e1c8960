"""The Jira agent: @mention -> analysis and estimate -> one comment (foundations; see docs)."""
