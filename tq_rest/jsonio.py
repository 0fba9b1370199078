"""JSON responses rendered with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JsonResponse(Response):
    """A JSON response; orjson writes NaN and infinities as null."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Return the UTF-8 JSON text of content."""
        return orjson.dumps(content)
