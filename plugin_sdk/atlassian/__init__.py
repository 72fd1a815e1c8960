"""Pieces every Atlassian agent shares: ADF <-> text, wiki markup -> text, issue-key extraction."""

from plugin_sdk.atlassian.adf import adf_to_text, is_adf, mention_ids, text_to_adf
from plugin_sdk.atlassian.keys import issue_keys
from plugin_sdk.atlassian.wiki import wiki_to_text

__all__ = ["adf_to_text", "is_adf", "issue_keys", "mention_ids", "text_to_adf", "wiki_to_text"]
