"""Local Atlassian and Microsoft Graph simulators that speak the official contracts."""
