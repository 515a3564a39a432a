"""Command line for the accounts database.

    python -m bot.accounts.cli migrate                  # create/upgrade the schema
    python -m bot.accounts.cli seed [--file demo.yml]   # load the demo data (idempotent)
    python -m bot.accounts.cli list                     # accounts and their users
    python -m bot.accounts.cli add-account ID --name N --type business --plan premier
                                [--tam-name N --tam-email E]
    python -m bot.accounts.cli add-user ID --account ACC --role admin --name N --email E [--licensed]

`--database-url` overrides `DATABASE_URL` for one call.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.accounts import repository
from bot.accounts.db import dispose_engines, session_scope
from bot.accounts.migrations import upgrade
from bot.accounts.seed import DEMO_FIXTURE, load_fixture, seed
from bot.database import migration_lock
from bot.settings import get_settings
from bot.entitlements import ACCOUNT_TYPES, PLANS, ROLES, entitlements


def _migrate(args: argparse.Namespace) -> int:
    upgrade(args.database_url)
    print("accounts schema is up to date")
    return 0


def _seed(args: argparse.Namespace) -> int:
    url = args.database_url or get_settings().database_url
    with migration_lock(url), session_scope(url) as session:
        result = seed(session, load_fixture(Path(args.file)))
    print(
        f"seeded {result.accounts_total} accounts ({result.accounts_created} new), "
        f"{result.users_total} users ({result.users_created} new)"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    with session_scope(args.database_url) as session:
        accounts = repository.list_accounts(session)
        users = repository.list_users(session)
    for account in accounts:
        tam = f", TAM {account.tam_name} <{account.tam_email}>" if account.tam_name else ""
        print(f"{account.id}  {account.name}  [{account.type}, {account.plan}{tam}]")
        for user in (u for u in users if u.account.id == account.id):
            rights = entitlements(account.type, account.plan, user.role, user.licensed)
            chat = rights.queue if rights.live_chat else f"no live chat ({rights.reason})"
            licence = "licensed" if user.licensed else "unlicensed"
            print(f"    {user.id}  {user.name} <{user.email}>  {user.role}, {licence}: {chat}")
    return 0


def _add_account(args: argparse.Namespace) -> int:
    if bool(args.tam_name) != bool(args.tam_email):
        print("--tam-name and --tam-email go together", file=sys.stderr)
        return 2
    with session_scope(args.database_url) as session:
        created = repository.upsert_account(
            session, args.id, args.name, args.type, args.plan,
            tam=(args.tam_name, args.tam_email) if args.tam_name else None,
        )
    print(f"account {args.id} {'added' if created else 'updated'}")
    return 0


def _add_user(args: argparse.Namespace) -> int:
    try:
        with session_scope(args.database_url) as session:
            created = repository.upsert_user(
                session, args.id, args.account, args.role, args.licensed, args.name, args.email
            )
    except LookupError as error:
        print(str(error), file=sys.stderr)
        return 1
    print(f"user {args.id} {'added' if created else 'updated'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.accounts.cli", description="Accounts database")
    parser.add_argument("--database-url", help="overrides DATABASE_URL")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="create or upgrade the schema").set_defaults(run=_migrate)

    seed_parser = commands.add_parser("seed", help="load the demo data (idempotent)")
    seed_parser.add_argument("--file", default=str(DEMO_FIXTURE))
    seed_parser.set_defaults(run=_seed)

    commands.add_parser("list", help="accounts, users and their live-chat queue").set_defaults(run=_list)

    account = commands.add_parser("add-account", help="add or update an account")
    account.add_argument("id")
    account.add_argument("--name", required=True)
    account.add_argument("--type", required=True, choices=ACCOUNT_TYPES)
    account.add_argument("--plan", default="standard", choices=PLANS)
    account.add_argument("--tam-name")
    account.add_argument("--tam-email")
    account.set_defaults(run=_add_account)

    user = commands.add_parser("add-user", help="add or update a user")
    user.add_argument("id")
    user.add_argument("--account", required=True)
    user.add_argument("--role", required=True, choices=ROLES)
    user.add_argument("--name", required=True)
    user.add_argument("--email", required=True)
    user.add_argument("--licensed", action="store_true")
    user.set_defaults(run=_add_user)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    finally:
        dispose_engines()


if __name__ == "__main__":
    sys.exit(main())
