"""Cloud simulator: resolving threads, /2.0/user with real account names, files at a commit."""

from __future__ import annotations

import httpx

from tests.plugins.bitbucket.repos import REVIEW_YAML, account, cloud_pr
from tests.simulators.conftest import SimServer


def _as(sim: SimServer, username: str) -> httpx.Client:
    me = account(sim, username)
    return httpx.Client(
        base_url=sim.url + "/bitbucket/2.0", auth=(me.email, me.api_token), timeout=10
    )


def test_resolve_and_reopen_follow_the_contract(sim: SimServer) -> None:
    made = cloud_pr(sim)
    base = f"/repositories/{made.repo.full_name}/pullrequests/{made.pr_id}/comments"
    with _as(sim, "dcoder-agent") as http:
        inline = http.post(
            base, json={"content": {"raw": "x"}, "inline": {"path": "app.py", "to": 6}}
        )
        general = http.post(base, json={"content": {"raw": "general"}})
        reply = http.post(
            base, json={"content": {"raw": "r"}, "parent": {"id": inline.json()["id"]}}
        )
        cid = inline.json()["id"]
        resolved = http.post(f"{base}/{cid}/resolve")
        assert resolved.status_code == 200 and resolved.json()["type"] == "comment_resolution"
        assert resolved.json()["user"]["display_name"] == "dcoder Agent"
        assert http.post(f"{base}/{cid}/resolve").status_code == 409  # already resolved
        shown = http.get(f"{base}/{cid}").json()
        assert shown["resolution"]["user"]["nickname"] == "dcoder-agent"
        assert http.post(f"{base}/{general.json()['id']}/resolve").status_code == 403  # not on diff
        assert http.post(f"{base}/{reply.json()['id']}/resolve").status_code == 403  # a reply
        assert http.delete(f"{base}/{cid}/resolve").status_code == 204
        assert "resolution" not in http.get(f"{base}/{cid}").json()
        assert http.delete(f"{base}/{cid}/resolve").status_code == 404  # not resolved
        me = http.get("/user").json()
        assert me["account_id"] == account(sim, "dcoder-agent").account_id
        assert me["display_name"] == "dcoder Agent" and me["type"] == "user"


def test_src_returns_raw_bytes_at_a_commit(sim: SimServer) -> None:
    made = cloud_pr(sim)
    with _as(sim, "alice") as http:
        src = f"/repositories/{made.repo.full_name}/src"
        assert http.get(f"{src}/main/.dcoder/review.yaml").content == REVIEW_YAML.encode()
        pr = http.get(f"/repositories/{made.repo.full_name}/pullrequests/{made.pr_id}").json()
        head = pr["source"]["commit"]["hash"]
        assert http.get(f"{src}/{head}/.dcoder/review.yaml").text == "max_comments: 0\n"
        missing = http.get(f"{src}/main/nope.txt")
        assert missing.status_code == 404 and missing.json()["type"] == "error"
        assert http.get(f"{src}/main/.dcoder").status_code == 404  # directories are not listed
