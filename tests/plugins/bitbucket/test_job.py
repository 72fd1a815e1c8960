"""Which clone URLs the review job may fetch with the instance's credential."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plugins.bitbucket.job import clone_url_allowed


@pytest.mark.parametrize(
    ("clone", "api", "allowed"),
    [
        ("https://bitbucket.org/acme/shop.git", "https://api.bitbucket.org", True),
        ("https://api.bitbucket.org/acme/shop.git", "https://api.bitbucket.org", True),
        ("https://git.example.com/scm/SHOP/svc.git", "https://git.example.com", True),
        ("http://127.0.0.1:8900/bitbucket/acme/shop.git", "http://127.0.0.1:8900/bitbucket", True),
        # another host, another port, user info, a downgrade, another scheme: never
        ("https://evil.example/acme/shop.git", "https://api.bitbucket.org", False),
        ("http://127.0.0.1:9999/x.git", "http://127.0.0.1:8900/bitbucket", False),
        ("https://u:p@bitbucket.org/acme/shop.git", "https://api.bitbucket.org", False),
        ("http://bitbucket.org/acme/shop.git", "https://api.bitbucket.org", False),
        ("ssh://git@bitbucket.org/acme/shop.git", "https://api.bitbucket.org", False),
        ("file:///etc/passwd", "https://api.bitbucket.org", False),
    ],
)
def test_only_the_servers_own_host(clone: str, api: str, allowed: bool) -> None:
    assert clone_url_allowed(clone, api) is allowed


def test_the_job_asks_for_the_analyzers_the_settings_switch_on() -> None:
    from plugins.bitbucket.events import Actor, EventKind, PullRequestEvent, RepoRef
    from plugins.bitbucket.job import ReviewJob
    from plugins.bitbucket.repo_settings import Effective, ReviewSettings
    from sandbox.analysis.models import Tool

    event = PullRequestEvent(
        flavour="dc", event_key="pr:opened", kind=EventKind.OPENED,
        repo=RepoRef(owner="SHOP", slug="svc"), pr_id=1, title="t", state="OPEN",
        source_branch="f", target_branch="main", head_commit="a" * 40,
        author=Actor(id="1", name="alice"), actor=Actor(id="1", name="alice"),
    )  # fmt: skip
    settings = ReviewSettings.model_validate({"analyzers": {"semgrep": False, "dataflow": False}})
    job = ReviewJob(event=event, head="a" * 40, base="b" * 40, clone_url="http://x/r.git",
                    settings=Effective(settings=settings, source="instance defaults"))  # fmt: skip
    assert job.analyzers() == ("ruff", "bandit")
    assert all(Tool(name) for name in ReviewSettings().analyzers.tools())  # names the engine knows


def test_links_out_of_the_checkout_are_removed_before_the_analysis(tmp_path: Path) -> None:
    from plugins.bitbucket.job import drop_outward_links

    root, outside = tmp_path / "checkout", tmp_path / "host"
    (root / "pkg").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.py").write_text("x = 1\n")
    (root / "app.py").write_text("x = 1\n")
    (root / "passwd.py").symlink_to("/etc/passwd")
    (root / "pkg" / "up.py").symlink_to("../../host/secret.py")
    (root / "hostdata").symlink_to(outside)
    (root / "loop").symlink_to(root / "loop")
    (root / "pkg" / "same.py").symlink_to("../app.py")  # inside: kept
    (root / ".git").mkdir()
    (root / ".git" / "x").symlink_to("/etc/passwd")  # git's own tree is not analysed
    assert drop_outward_links(root) == ["hostdata", "loop", "passwd.py", "pkg/up.py"]
    assert (root / "pkg" / "same.py").is_symlink() and (outside / "secret.py").is_file()
    assert (root / ".git" / "x").is_symlink()


def _large_report(count: int) -> dict[str, object]:
    """A report with ``count`` findings (a third each high, medium, low), about 500 bytes each."""
    from tests.plugins.bitbucket.findings_data import REPORT

    sql = REPORT["findings"][0]
    severities = ("low", "medium", "high")
    findings = [
        sql | {"path": f"pkg/m{i % 400}.py", "start_line": i + 1, "fingerprint": f"{i:032x}",
               "severity": severities[i % 3], "message": f"finding {i} " + "x" * 200}
        for i in range(count)
    ]  # fmt: skip
    return REPORT | {"findings": findings, "changed_files": [f"pkg/m{i}.py" for i in range(400)]}


def test_a_report_within_the_bound_is_kept_whole() -> None:
    from plugins.bitbucket.job import bound_report
    from tests.plugins.bitbucket.findings_data import REPORT

    assert bound_report(REPORT) is REPORT


def test_a_large_report_keeps_the_most_severe_findings_and_says_what_it_left_out() -> None:
    import json

    from plugins.bitbucket.job import MAX_REPORT_BYTES, bound_report

    report = _large_report(6000)  # about 3.5 MB of JSON: over NATS's 1 MB default payload
    assert len(json.dumps(report)) > 3 * MAX_REPORT_BYTES
    bounded = bound_report(report)
    assert len(json.dumps(bounded).encode()) <= MAX_REPORT_BYTES
    trimmed = bounded["trimmed"]
    kept = bounded["findings"]
    assert trimmed["found"] == 6000 and trimmed["kept"] == len(kept) > 0
    assert sum(trimmed["dropped"].values()) == 6000 - len(kept)
    # every high finding is kept before any medium one, and no low one is kept here
    assert all(f["severity"] == "high" for f in kept[:2000]) and "low" in trimmed["dropped"]
    assert not any(f["severity"] == "low" for f in kept)
    assert bounded["changed_files"] == report["changed_files"]  # what was reviewed is whole
    assert bounded["rules"] == report["rules"]  # the kept findings' rule


def test_a_trimmed_report_is_stated_in_the_summary_and_resolves_nothing() -> None:
    from plugins.bitbucket.job import bound_report
    from plugins.bitbucket.ledger import Ledger
    from plugins.bitbucket.render import summary_comment
    from plugins.bitbucket.repo_settings import Effective, ReviewSettings
    from plugins.bitbucket.review import compose
    from tests.plugins.bitbucket.test_review import EVENT

    settings = Effective(settings=ReviewSettings(), source="instance defaults")
    first = compose(EVENT, "h1", settings, bound_report(_large_report(30)), Ledger(key="k"))
    ledger = Ledger(key="k")
    for number, f in enumerate(first.plan.post, start=100):
        ledger = ledger.posted(f, number, "h1")
    bounded = bound_report(_large_report(30), max_bytes=8 * 1024)
    review = compose(EVENT, "h2", settings, bounded, ledger)
    assert not review.plan.resolve  # the findings left out are not "fixed"
    [problem] = review.summary.problems
    left = 30 - bounded["trimmed"]["kept"]
    assert "the analysis found 30 findings" in problem and f"the {left} least severe" in problem
    assert "(8 KiB)" in problem and "resolves no earlier comment" in problem
    assert problem in summary_comment(review.summary)


def _guard(allow: str = "", config_url: str = "https://api.bitbucket.org") -> Any:
    from core.egress import AllowList
    from core.egress_transport import HostPermissions
    from plugins.bitbucket.job import FetchGuard
    from plugins.bitbucket.plugin import BitbucketPlugin

    permissions = BitbucketPlugin.load_manifest().permissions
    config = {"deployment": "cloud", "base_url": config_url}
    return FetchGuard(AllowList.parse(allow.split(",")), HostPermissions.build(permissions, config))


@pytest.mark.parametrize(
    ("clone", "config_url", "why"),
    [
        # a base URL on the host's loopback, the metadata service, a LAN address, a name
        # resolving to loopback, an IPv6 form of loopback, a decimal spelling of 127.0.0.1
        (
            "http://127.0.0.1:8900/bitbucket/a/b.git",
            "http://127.0.0.1:8900/bitbucket",
            "127.0.0.1 refused: it is a loopback address",
        ),
        ("http://169.254.169.254/a/b.git", "http://169.254.169.254", "a cloud metadata address"),
        ("https://10.2.0.7/scm/A/b.git", "https://10.2.0.7", "a private address"),
        ("http://localhost:8900/a/b.git", "http://localhost:8900", "loopback address"),
        ("http://[::ffff:127.0.0.1]:80/a.git", "http://[::ffff:127.0.0.1]", "loopback"),
        ("http://2130706433/a.git", "http://2130706433", "loopback"),
        # a host neither the manifest nor the config names
        ("https://git.example.com/a.git", "https://api.bitbucket.org", "do not name this host"),
    ],
)
async def test_the_fetch_refuses_what_the_egress_guard_refuses(
    clone: str, config_url: str, why: str
) -> None:
    from core.egress import EgressRefused

    with pytest.raises(EgressRefused, match=why) as refused:
        await _guard(config_url=config_url).git_config(clone)
    assert refused.value.detail.startswith(f"refusing to fetch {clone}: ")


async def test_an_allowed_destination_pins_git_to_its_checked_address() -> None:
    guard = _guard("127.0.0.1:8900", "http://127.0.0.1:8900/bitbucket")
    config = await guard.git_config("http://127.0.0.1:8900/bitbucket/a/b.git")
    assert config == {
        "http.curloptResolve": "127.0.0.1:8900:127.0.0.1",
        "http.followRedirects": "false",
        "protocol.allow": "never",
        "protocol.http.allow": "always",
        "protocol.https.allow": "always",
    }
    with pytest.raises(Exception, match="loopback"):  # the exception is for that port only
        await guard.git_config("http://127.0.0.1:8901/bitbucket/a/b.git")


def _run(store: Any = None) -> Any:
    from plugin_sdk.jobs import JobRun

    extra = {} if store is None else {"store": store}
    return JobRun(id="j-1", kind="review", payload={}, tenant_id="t", instance_id="i", config={},
                  attempt=1, **extra)  # fmt: skip


async def test_a_report_too_large_for_the_result_is_kept_whole_in_the_instances_store() -> None:
    import json

    from plugin_sdk.memory import MemoryKeyValueStore
    from plugins.bitbucket.job import MAX_REPORT_BYTES, deliverable
    from tests.plugins.bitbucket.findings_data import REPORT

    now = [0.0]
    store = MemoryKeyValueStore(clock=lambda: now[0])
    assert await deliverable(_run(store), REPORT) == {"analysis": REPORT}  # small: in the result
    assert await store.keys() == []
    report = _large_report(6000)
    result = await deliverable(_run(store), report)
    assert result == {"analysis_key": "report:j-1"} and len(json.dumps(result)) < 100
    assert await store.get("report:j-1") == report  # whole: no finding left out
    now[0] += 7 * 24 * 3600.0  # kept for a week (the apply's retries, a replay), then gone
    assert await store.get("report:j-1") is None
    # a host that gives jobs no store: the report is bounded instead
    bounded = await deliverable(_run(), report)
    assert bounded["analysis"]["trimmed"]["found"] == 6000
    assert len(json.dumps(bounded).encode()) <= MAX_REPORT_BYTES
