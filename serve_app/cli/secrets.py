"""`dcoder-integrations secrets ...`: rotate the key that encrypts plugin secrets at rest."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.crypto import SecretBox
    from core.settings import Settings

    Subparsers = argparse._SubParsersAction[Any]


def _rotate_key(args: argparse.Namespace) -> int:
    from core.crypto import SecretBox, key_id_of
    from core.errors import IntegrationsError
    from core.keys import add_secrets_key, drop_old_secrets_keys, secrets_keys
    from core.settings import load_settings

    try:
        settings = load_settings()
        if not args.no_new_key:
            print(f"added key {key_id_of(add_secrets_key(settings))} (newest)")
        box = SecretBox(secrets_keys(settings, create=False))
        rows, rewrapped, left = asyncio.run(_rewrap(settings, box))
        print(
            f"re-encrypted {rewrapped} ciphertext(s) of {rows} secret(s) with {box.newest_key_id}"
        )
        if args.drop_old:
            if left:
                print(f"error: {left} ciphertext(s) still use old keys; kept them", file=sys.stderr)
                return 1
            print(f"dropped {drop_old_secrets_keys(settings)} old key(s)")
    except IntegrationsError as err:
        print(f"error: {err.detail}", file=sys.stderr)
        return 1
    return 0


async def _rewrap(settings: Settings, box: SecretBox) -> tuple[int, int, int]:
    """Migrate, re-encrypt; return (secret rows, ciphertexts re-encrypted, still on old keys)."""
    from core.credentials import credentials_not_under, rewrap_credentials
    from core.db import Database, apply_migrations
    from core.endpoints import database_url
    from core.llm_store import rewrap_llm_keys
    from core.secret_store import count_not_under, count_secrets, rewrap_all

    db = Database(database_url(settings), settings.database)
    try:
        await apply_migrations(db)
        rewrapped = await rewrap_all(db, box) + await rewrap_credentials(db, box)
        rewrapped += await rewrap_llm_keys(db, box)  # tenants' own LLM keys
        old = await count_not_under(db, box.newest_key_id)
        old += await credentials_not_under(db, box.newest_key_id)
        return await count_secrets(db), rewrapped, old
    finally:
        await db.close()


def register(subparsers: Subparsers) -> None:
    """Add the ``secrets`` command group."""
    group = subparsers.add_parser("secrets", help="secrets encrypted at rest")
    group.set_defaults(func=lambda _args: (group.print_help(), 2)[1])
    commands = group.add_subparsers(dest="secrets_command", metavar="SUBCOMMAND")
    rotate = commands.add_parser(
        "rotate-key",
        help="add a new secrets key and re-encrypt every stored secret with it",
        description="Adds a new newest key to <data dir>/secrets.key, then re-encrypts every "
        "stored secret and instance credential with it. Restart running services afterwards so "
        "they load the new key. Prints counts only, never values.",
    )
    rotate.add_argument(
        "--no-new-key",
        action="store_true",
        help="re-encrypt with the current newest key (e.g. after editing DCODER_SECRETS_KEY)",
    )
    rotate.add_argument(
        "--drop-old",
        action="store_true",
        help="afterwards remove the old keys from the key file (when nothing uses them)",
    )
    rotate.set_defaults(func=_rotate_key)
