"""Code Insights: reports and annotations on a commit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from simulators.bitbucket_cloud import serialize as s
from simulators.bitbucket_cloud.deps import (
    BitbucketError,
    JsonBody,
    JsonList,
    current_principal,
    get_repo,
    resolve_commit,
)
from simulators.bitbucket_cloud.state import CloudState, new_uuid, now_iso

REPORTS = "/2.0/repositories/{workspace}/{slug}/commit/{commit}/reports"
REPORT = REPORTS + "/{report_id}"
ENUMS = {
    "report_type": {"SECURITY", "COVERAGE", "TEST", "BUG"},
    "result": {"PASSED", "FAILED", "PENDING"},
}
ANNOTATION_ENUMS = {
    "annotation_type": {"VULNERABILITY", "CODE_SMELL", "BUG"},
    "severity": {"CRITICAL", "HIGH", "MEDIUM", "LOW"},
    "result": {"PASSED", "FAILED", "SKIPPED", "IGNORED"},
}


def _check(body: dict[str, Any], enums: dict[str, set[str]], required: tuple[str, ...]) -> None:
    for key in required:
        if body.get(key) in (None, ""):
            raise BitbucketError(400, f"{key}: This field is required.")
    for key, allowed in enums.items():
        if body.get(key) is not None and body[key] not in allowed:
            raise BitbucketError(400, f"{key}: must be one of {sorted(allowed)}")


def insights_router(state: CloudState) -> APIRouter:
    """Routes under ``.../commit/{commit}/reports``."""
    router = APIRouter(dependencies=[Depends(current_principal)])

    def _key(workspace: str, slug: str, commit: str) -> tuple[str, str]:
        repo = get_repo(state, workspace, slug)
        return repo.full_name, resolve_commit(repo, commit)

    def _report(
        workspace: str, slug: str, commit: str, report_id: str
    ) -> tuple[tuple[str, str, str], dict[str, Any]]:
        full_name, full = _key(workspace, slug, commit)
        key = (full_name, full, report_id)
        if key not in state.reports:
            raise BitbucketError(404, f"Report {report_id} not found")
        return key, state.reports[key]

    @router.put(REPORT)
    def put_report(
        workspace: str,
        slug: str,
        commit: str,
        report_id: str,
        request: Request,
        body: JsonBody,
    ) -> dict[str, Any]:
        _check(body, ENUMS, ("title", "report_type"))
        if len(body.get("data") or []) > 10:
            raise BitbucketError(400, "data: at most 10 elements")
        full_name, full = _key(workspace, slug, commit)
        key = (full_name, full, report_id)
        old = state.reports.get(key, {})
        api = s.Urls.of(request, state).api
        href = f"{api}/repositories/{full_name}/commit/{full}/reports/{report_id}"
        state.reports[key] = body | {
            "type": "report",
            "uuid": old.get("uuid", new_uuid()),
            "external_id": report_id,
            "commit_hash": full,
            "created_on": old.get("created_on", now_iso()),
            "updated_on": now_iso(),
            "links": {"self": s.link(href)},
        }
        state.annotations.setdefault(key, {})
        return state.reports[key]

    @router.get(REPORTS)
    def list_reports(workspace: str, slug: str, commit: str, request: Request) -> dict[str, Any]:
        full_name, full = _key(workspace, slug, commit)
        found = [r for (n, c, _), r in state.reports.items() if (n, c) == (full_name, full)]
        return s.page(found, request)

    @router.get(REPORT)
    def get_report(workspace: str, slug: str, commit: str, report_id: str) -> dict[str, Any]:
        return _report(workspace, slug, commit, report_id)[1]

    @router.delete(REPORT, status_code=204)
    def delete_report(workspace: str, slug: str, commit: str, report_id: str) -> Response:
        key, _ = _report(workspace, slug, commit, report_id)
        del state.reports[key]
        state.annotations.pop(key, None)
        return Response(status_code=204)

    def _store(
        key: tuple[str, str, str], annotation_id: str, body: dict[str, Any], href: str
    ) -> dict[str, Any]:
        _check(body, ANNOTATION_ENUMS, ("annotation_type", "summary"))
        old = state.annotations[key].get(annotation_id, {})
        stored = body | {
            "type": "report_annotation",
            "external_id": annotation_id,
            "uuid": old.get("uuid", new_uuid()),
            "created_on": old.get("created_on", now_iso()),
            "updated_on": now_iso(),
            "links": {"self": s.link(f"{href}/annotations/{annotation_id}")},
        }
        state.annotations[key][annotation_id] = stored
        return stored

    @router.post(REPORT + "/annotations")
    def bulk(
        workspace: str,
        slug: str,
        commit: str,
        report_id: str,
        request: Request,
        body: JsonList,
    ) -> list[dict[str, Any]]:
        key, report = _report(workspace, slug, commit, report_id)
        if not 1 <= len(body) <= 100:
            raise BitbucketError(400, "between 1 and 100 annotations per request")
        for item in body:  # validate all before storing any, like the real bulk endpoint
            _check(item, ANNOTATION_ENUMS, ("external_id", "annotation_type", "summary"))
        return [
            _store(key, item["external_id"], item, report["links"]["self"]["href"]) for item in body
        ]

    @router.get(REPORT + "/annotations")
    def list_annotations(
        workspace: str, slug: str, commit: str, report_id: str, request: Request
    ) -> dict[str, Any]:
        key, _ = _report(workspace, slug, commit, report_id)
        return s.page(list(state.annotations[key].values()), request, 100)

    @router.put(REPORT + "/annotations/{annotation_id}")
    def put_annotation(
        workspace: str,
        slug: str,
        commit: str,
        report_id: str,
        annotation_id: str,
        body: JsonBody,
    ) -> dict[str, Any]:
        key, report = _report(workspace, slug, commit, report_id)
        return _store(key, annotation_id, body, report["links"]["self"]["href"])

    @router.get(REPORT + "/annotations/{annotation_id}")
    def get_annotation(
        workspace: str, slug: str, commit: str, report_id: str, annotation_id: str
    ) -> dict[str, Any]:
        key, _ = _report(workspace, slug, commit, report_id)
        if annotation_id not in state.annotations[key]:
            raise BitbucketError(404, f"Annotation {annotation_id} not found")
        return state.annotations[key][annotation_id]

    @router.delete(REPORT + "/annotations/{annotation_id}", status_code=204)
    def delete_annotation(
        workspace: str, slug: str, commit: str, report_id: str, annotation_id: str
    ) -> Response:
        key, _ = _report(workspace, slug, commit, report_id)
        if state.annotations[key].pop(annotation_id, None) is None:
            raise BitbucketError(404, f"Annotation {annotation_id} not found")
        return Response(status_code=204)

    return router
