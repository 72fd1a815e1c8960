"""Confluence through ``atlassian.Confluence`` (v1) and raw v2; Graph through raw httpx."""

from __future__ import annotations

import uuid

import httpx
import pytest
from atlassian import Confluence
from requests import HTTPError

from tests.simulators.conftest import SimServer


def test_confluence_create_update_twice_then_conflict(sim: SimServer) -> None:
    wiki = Confluence(
        url=sim.url + "/wiki", username=sim.config.user_email, password=sim.config.api_token
    )
    title = "Release notes " + uuid.uuid4().hex[:6]
    page = wiki.create_page("DEMO", title, "<p>v1</p>")
    assert wiki.update_page(page["id"], title, "<p>v2</p>")["version"]["number"] == 2
    assert wiki.update_page(page["id"], title, "<p>v3</p>")["version"]["number"] == 3
    stale = {
        "type": "page",
        "title": title,
        "version": {"number": 3},
        "body": {"storage": {"value": "<p>x</p>", "representation": "storage"}},
    }
    with pytest.raises(HTTPError) as info:
        wiki.put(f"rest/api/content/{page['id']}", data=stale)
    assert info.value.response.status_code == 409
    body = wiki.get_page_by_id(page["id"], expand="body.storage")["body"]["storage"]["value"]
    assert body == "<p>v3</p>"
    wiki.create_page("DEMO", title + " child", "<p>c</p>", parent_id=page["id"])
    assert [c["title"] for c in wiki.get_page_child_by_type(page["id"])] == [title + " child"]
    wiki.set_page_label(page["id"], "ai-generated")
    assert (
        wiki.cql(f'space = DEMO AND label = "ai-generated" AND title ~ "{title}"')["totalSize"]
        == 2 - 1
    )


def test_confluence_v2_pages_version_rule(sim: SimServer) -> None:
    with sim.client() as http:
        space = http.get("/wiki/api/v2/spaces", params={"keys": "DEMO"}).json()["results"][0]
        storage = {"representation": "storage", "value": "<p>a</p>"}
        made = http.post(
            "/wiki/api/v2/pages",
            json={
                "spaceId": space["id"],
                "status": "current",
                "title": "v2 " + uuid.uuid4().hex[:6],
                "body": storage,
            },
        )
        page = made.json()
        update = {"id": page["id"], "status": "current", "title": page["title"], "body": storage}
        ok = http.put(f"/wiki/api/v2/pages/{page['id']}", json={**update, "version": {"number": 2}})
        assert ok.status_code == 200 and ok.json()["version"]["number"] == 2
        again = http.put(
            f"/wiki/api/v2/pages/{page['id']}", json={**update, "version": {"number": 2}}
        )
        assert again.status_code == 409 and again.json()["errors"][0]["code"] == "CONFLICT"


def test_graph_token_site_page_publish_and_upload(sim: SimServer) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": sim.config.oauth_client_id,
        "client_secret": sim.config.oauth_client_secret,
        "scope": "https://graph.microsoft.com/.default",
    }
    token = httpx.post(f"{sim.url}/login/tenant-a/oauth2/v2.0/token", data=form).json()[
        "access_token"
    ]
    with httpx.Client(
        base_url=sim.url + "/graph/v1.0", headers={"Authorization": f"Bearer {token}"}
    ) as graph:
        site = graph.get("/sites/contoso.sharepoint.com:/sites/demo").json()
        page = graph.post(
            f"/sites/{site['id']}/pages",
            json={
                "@odata.type": "#microsoft.graph.sitePage",
                "name": "notes.aspx",
                "title": "Notes",
                "pageLayout": "article",
            },
        ).json()
        path = f"/sites/{site['id']}/pages/{page['id']}/microsoft.graph.sitePage"
        assert graph.patch(path, json={"title": "Notes 2"}).status_code == 200
        assert graph.post(path + "/publish").status_code == 204
        published = graph.get(f"/sites/{site['id']}/pages/{page['id']}").json()
        assert (
            published["publishingState"]["level"] == "published" and published["title"] == "Notes 2"
        )
        url = f"/sites/{site['id']}/drive/root:/docs/readme.md:/content"
        first = graph.put(url, content=b"# hi", headers={"Content-Type": "text/plain"})
        second = graph.put(url, content=b"# hi again", headers={"Content-Type": "text/plain"})
        assert (first.status_code, second.status_code) == (201, 200)
        assert second.json()["size"] == len(b"# hi again")
    basic = httpx.get(
        f"{sim.url}/graph/v1.0/sites/x", auth=(sim.config.user_email, sim.config.api_token)
    )
    assert basic.status_code == 401
