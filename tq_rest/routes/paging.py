"""Shared parameters of list routes, and the cursor headers of a page."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Path, Query, Request

from tq_rest.jsonio import JsonResponse

ObjectId = Annotated[
    uuid.UUID, Path(description="A task, project or workflow id (UUID).")
]
Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page (default 50).")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=64,
        description="The X-Next-Cursor of the previous page; absent for the first.",
    ),
]

# gRPC request field -> the REST parameter a client sent, for error messages.
LIST_ALIASES = {"page_token": "cursor", "page_size": "limit", "project_id": "project"}

PAGE_HEADERS: dict[str, Any] = {
    "X-Next-Cursor": {
        "description": "Cursor of the next page; absent on the last page.",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'The next page as `<…?cursor=…>; rel="next"`.',
        "schema": {"type": "string"},
    },
}


def page_response(request: Request, items: list[Any], next_cursor: str) -> JsonResponse:
    """Return a JSON array; with a next page, the cursor travels in headers."""
    headers = {}
    if next_cursor:
        url = request.url.include_query_params(cursor=next_cursor)
        headers["X-Next-Cursor"] = next_cursor
        headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    return JsonResponse(items, headers=headers)
