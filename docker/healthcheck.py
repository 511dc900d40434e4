"""The image's HEALTHCHECK: exit 0 when the board answers GET /healthz with {"status": "ok"}.

The slim Python image has no curl, so this is Python's urllib. With BOARD_AUTH_TOKEN set the
board refuses unauthenticated requests, so the token is sent as a bearer token.
BOARD_HEALTHCHECK_URL overrides the address (default http://127.0.0.1:6006/healthz).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

DEFAULT_URL = "http://127.0.0.1:6006/healthz"


def main() -> int:
    url = os.environ.get("BOARD_HEALTHCHECK_URL", DEFAULT_URL)
    token = os.environ.get("BOARD_AUTH_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=4) as response:
            body = json.loads(response.read())
    except (OSError, ValueError) as err:  # refused, timed out, 401, not JSON
        print(f"unhealthy: {url}: {err}", file=sys.stderr)
        return 1
    if body != {"status": "ok"}:
        print(f"unhealthy: {url} answered {body!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
