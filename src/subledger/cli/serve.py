"""``subledger serve`` (the HTTP service) and ``subledger api-client`` (its OAuth 2.0 clients).

FastAPI and uvicorn are imported when ``serve`` runs, never at start-up: ``subledger --help`` must stay fast.
"""

from typing import Annotated

import typer

from subledger.cli.common import STATE, CommandError, app, engine, out, print_json, register

api_client_app = typer.Typer(help="Clients of the HTTP service: create.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(api_client_app, name="api-client")


@register(api_client_app, "create")
def create_client(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The client id.")],
    actor: Annotated[str, typer.Option("--actor", metavar="ACTOR", help="The actor the client's requests act as.")],
) -> None:
    """Create an API client acting as ACTOR; prints its secret, the only time it is shown."""
    from subledger.api import Books
    from subledger.http.clients import create_client as create

    bound = engine()
    Books(engine=bound, actor=actor).actor  # noqa: B018  (an unknown actor is refused now, not at first request)
    made = create(bound, name, actor)
    if STATE.json:
        print_json({"success": True, "clientId": made.client_id, "clientSecret": made.client_secret, "actor": actor})
        return
    out(f"client_id: {made.client_id}")
    out(f"client_secret: {made.client_secret}")
    out(f"actor: {made.actor} (the secret is shown only now: keep it)")


@register(app, "serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free port).")] = 8080,
    token_ttl: Annotated[int, typer.Option("--token-ttl", help="Seconds an access token lives.")] = 3600,
    max_body: Annotated[int, typer.Option("--max-body", help="Largest request body, in bytes.")] = 1 << 20,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds an operation may take before 503.")] = 30.0,
    graceful: Annotated[
        int, typer.Option("--graceful", help="Seconds requests in flight get to finish on shutdown.")
    ] = 30,
) -> None:
    """Serve the reference product's REST API over the book (Ctrl-C or SIGTERM: requests in flight finish)."""
    import logging
    import sys

    import uvicorn

    from subledger.http.app import create_app

    service = create_app(engine(), token_ttl=token_ttl, max_body=max_body, timeout=timeout)
    _can_listen(host, port)
    # The access log's handler lives as long as the server: a refused start adds none, and none outlives the run.
    access = logging.getLogger("subledger.http")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    try:
        uvicorn.run(
            service,
            host=host,
            port=port,
            access_log=False,  # ours is one JSON line per request (subledger.http.access)
            timeout_keep_alive=5,
            timeout_graceful_shutdown=graceful,
            log_level="info",
        )
    finally:
        access.removeHandler(handler)


def _can_listen(host: str, port: int) -> None:
    """One line if the server cannot listen on ``host`` and ``port`` (a port in use, an address not of this
    machine): uvicorn would log the error amid its start-up lines and exit 3, the status of a task partly done. The
    socket is bound as uvicorn binds its own, then closed for uvicorn to bind."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {host} port {port}: {exc.strerror or exc}: give another --host or --port",
                code="cannot-listen",
            ) from None
