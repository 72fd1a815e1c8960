"""In-memory state of one simulated Confluence site: spaces and pages with versions and labels."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from simulators.auth import demo_account_id
from simulators.config import SimulatorConfig


def iso_now() -> str:
    """Now as Confluence writes timestamps (ISO 8601, milliseconds, Z)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ConfluenceError(Exception):
    """A request the real product refuses (rendered per API version by the routes)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Version:
    """One version of a page."""

    number: int
    when: str
    by: str
    message: str
    minor_edit: bool
    title: str
    body: str


@dataclass
class Page:
    """A page: the current title/body plus the full version list."""

    id: str
    space_key: str
    title: str
    body: str
    parent_id: str | None
    versions: list[Version]
    labels: list[str] = field(default_factory=list)
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    @property
    def version(self) -> Version:
        """The current (latest) version."""
        return self.versions[-1]


@dataclass
class Space:
    """A global space."""

    id: str
    key: str
    name: str
    homepage_id: str | None = None


@dataclass
class ConfluenceState:
    """Everything one Confluence site holds; starts with the ``DEMO`` space."""

    config: SimulatorConfig
    spaces: dict[str, Space] = field(default_factory=dict)
    pages: dict[str, Page] = field(default_factory=dict)
    next_id: int = 65536

    def __post_init__(self) -> None:
        self.add_space("DEMO", "Demo space")

    def reset(self) -> None:
        """Back to a site with only the demo space."""
        self.__init__(config=self.config)  # type: ignore[misc]  # re-running init is the reset

    @property
    def site(self) -> str:
        """Absolute URL of the wiki (the combined server mounts it at ``/wiki``)."""
        return self.config.base_url.rstrip("/") + "/wiki"

    @property
    def account_id(self) -> str:
        """The demo user's account id (shared with Jira)."""
        return demo_account_id(self.config)

    def new_id(self) -> str:
        """A fresh numeric id as a string."""
        self.next_id += 1
        return str(self.next_id)

    def add_space(self, key: str, name: str) -> Space:
        """Create a space with an empty home page."""
        space = Space(self.new_id(), key, name)
        self.spaces[key] = space
        space.homepage_id = self.create_page(key, name + " Home", "", None).id
        return space

    def space(self, key_or_id: str) -> Space:
        """A space by key or id; raises 404."""
        found = self.spaces.get(key_or_id) or next(
            (s for s in self.spaces.values() if s.id == key_or_id), None
        )
        if found is None:
            raise ConfluenceError(404, f"No space with key : {key_or_id}")
        return found

    def page(self, page_id: str) -> Page:
        """A page by id; raises 404."""
        found = self.pages.get(page_id)
        if found is None:
            raise ConfluenceError(404, f"No content found with id: ContentId{{id={page_id}}}")
        return found

    def create_page(self, space_key: str, title: str, body: str, parent_id: str | None) -> Page:
        """Create a page (titles are unique within a space)."""
        space = self.spaces.get(space_key)
        if space is None:
            raise ConfluenceError(404, f"No space with key : {space_key}")
        if not title.strip():
            raise ConfluenceError(400, "A page must have a title")
        if any(p.space_key == space_key and p.title == title for p in self.pages.values()):
            raise ConfluenceError(
                400,
                "A page with this title already exists: A page already exists with the "
                "same TITLE in this space",
            )
        if parent_id is not None:
            self.page(parent_id)
        first = Version(1, iso_now(), self.account_id, "", False, title, body)
        page = Page(self.new_id(), space_key, title, body, parent_id, [first])
        self.pages[page.id] = page
        return page

    def update_page(
        self, page: Page, number: int, title: str, body: str, message: str = ""
    ) -> Page:
        """Write a new version; ``number`` must be exactly the current one plus one (409)."""
        current = page.version.number
        if number != current + 1:
            raise ConfluenceError(
                409, f"Version must be incremented on update. Current version is: {current}"
            )
        clash = any(
            p.space_key == page.space_key and p.title == title and p.id != page.id
            for p in self.pages.values()
        )
        if clash:
            raise ConfluenceError(400, "A page with this title already exists")
        page.title, page.body = title, body
        page.versions.append(
            Version(number, iso_now(), self.account_id, message, False, title, body)
        )
        return page

    def children(self, page_id: str) -> list[Page]:
        """Direct child pages, in creation order."""
        return [p for p in self.pages.values() if p.parent_id == page_id]

    def ancestors(self, page: Page) -> list[Page]:
        """Ancestors from the root down to the parent."""
        chain: list[Page] = []
        parent = page.parent_id
        while parent is not None:
            chain.insert(0, self.page(parent))
            parent = chain[0].parent_id
        return chain
