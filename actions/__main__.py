"""`python -m actions`: the action server, refusing production with development secrets.

Checks the settings first (`bot.settings`), then runs rasa-sdk's server on ACTION_SERVER_PORT
with the actions of this package.
"""
from __future__ import annotations

import sys

from rasa_sdk.__main__ import main_from_args
from rasa_sdk.endpoint import create_argument_parser

from bot.settings import InsecureSettings, get_settings


def main(argv: list[str] | None = None) -> int:
    try:
        settings = get_settings()
    except InsecureSettings as error:
        print(f"action server: {error}", file=sys.stderr)
        return 2
    args = create_argument_parser().parse_args(
        ["--actions", "actions", "--port", str(settings.action_server_port), *(argv or [])]
    )
    main_from_args(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
