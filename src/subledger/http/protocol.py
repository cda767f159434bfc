"""uvicorn's HTTP protocol, answering a request it cannot parse in the reference product's envelope.

A request that is not HTTP (a malformed request line or header, a bad or repeated Content-Length, a broken chunk)
never reaches the application: uvicorn answers it itself, 400 with the text/plain 'Invalid HTTP request
received.', no request id, no line in the access log. The class here answers it as the service answers every
malformed request (category 90, ``Zuora-Request-Id``) and logs it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from subledger.http.app import MALFORMED, failure_envelope, log_access


def _send_400_response(self: Any, msg: str) -> None:
    """uvicorn's hook for a request it could not parse (``send_400_response``, in each of its HTTP protocols): the
    connection is closed after it, so the bytes are written here rather than through the parser's state."""
    request_id = uuid.uuid4().hex
    message = f"malformed HTTP request: {msg.rstrip('.')}"
    body = json.dumps(failure_envelope(request_id, "request", [(MALFORMED, message)]), separators=(",", ":")).encode()
    head = (
        "HTTP/1.1 400 Bad Request\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n"
        f"zuora-request-id: {request_id}\r\n"
        f"zuora-track-id: {request_id}\r\n\r\n"
    )
    self.transport.write(head.encode("ascii") + body)
    self.transport.close()
    client = (self.client or ("", 0))[0]
    # Nothing of the request could be read: no method, path or size to log.
    log_access(
        request_id=request_id,
        track_id=request_id,
        client=client,
        actor=None,
        method=None,
        path=None,
        status=400,
        received=0,
        ms=0.0,
    )


#: The HTTP protocol ``subledger serve`` gives uvicorn (``uvicorn.Config(http=...)``): the one uvicorn would pick
#: (httptools if installed, else h11), its unparseable requests answered in the envelope.
HTTP_PROTOCOL: type[asyncio.Protocol] = type(
    "EnvelopedHTTPProtocol", (AutoHTTPProtocol,), {"send_400_response": _send_400_response}
)
