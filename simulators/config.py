"""Configuration shared by every simulator sub-app (one model, passed into each app factory)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class SimulatorConfig(BaseModel):
    """What every simulator needs to know about where it runs and whom it accepts."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field("http://127.0.0.1:8900", description="public URL of the combined server")
    user_email: str = Field("demo@example.com", description="demo user (basic auth user name)")
    api_token: str = Field("demo-token", description="demo API token (basic auth password)")
    pat: str = Field("demo-pat", description="demo personal access token (Data Center bearer)")
    oauth_client_id: str = Field("demo-client", description="OAuth 2.0 client id")
    oauth_client_secret: str = Field("demo-secret", description="OAuth 2.0 client secret")
    access_token_ttl_s: int = Field(
        3600, ge=1, description="lifetime of issued OAuth access tokens"
    )
    data_dir: Path = Field(Path(".data/simulators"), description="git repositories and other state")
