"""``subledger serve`` (the HTTP service) and ``subledger api-client`` (its OAuth 2.0 clients).

FastAPI and uvicorn are imported when ``serve`` runs, never at start-up: ``subledger --help`` must stay fast.
"""

from typing import TYPE_CHECKING, Annotated

import typer

from subledger.cli.common import STATE, CommandError, app, engine, out, print_json, register

if TYPE_CHECKING:
    import socket

api_client_app = typer.Typer(help="Clients of the HTTP service: create.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(api_client_app, name="api-client")


@register(api_client_app, "create")
def create_client(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The client id.")],
    actor: Annotated[str, typer.Option("--actor", metavar="ACTOR", help="The actor the client's requests act as.")],
) -> None:
    """Create an API client acting as ACTOR; prints its secret, the only time it is shown (needs Manage Actors)."""
    from subledger.api import Books
    from subledger.http.clients import create_client as create
    from subledger.operations.actors import MANAGE

    bound = engine()
    # A client's secret acts with ACTOR's permissions: handing them out is managing actors, as a grant is. Who runs
    # the command is --actor before the subcommand (or SUBLEDGER_ACTOR); the --actor after it is the client's.
    Books(engine=bound, actor=STATE.actor).actor.require(MANAGE, document=name)
    Books(engine=bound, actor=actor).actor  # noqa: B018  (an unknown actor is refused now, not at first request)
    made = create(bound, name, actor)
    if STATE.json:
        print_json({"success": True, "clientId": made.client_id, "clientSecret": made.client_secret, "actor": actor})
        return
    out(f"client_id: {made.client_id}")
    out(f"client_secret: {made.client_secret}")
    out(f"actor: {made.actor} (the secret is shown only now: keep it)")


DAY = 86_400
#: An access token's expiry is stored as a 32-bit count of seconds (``api_tokens.expires_at``): a year keeps it
#: well inside that, where a longer life could not be stored and the token request failed.
MAX_TOKEN_TTL = 365 * DAY


def _seconds(value: float) -> float:
    # A range is not enough: 'nan' passes every comparison.
    if not 0 < value <= DAY:
        raise typer.BadParameter(f"must be more than 0 and at most {DAY} seconds, not {value:g}")
    return value


@register(app, "serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free port).")] = 8080,
    token_ttl: Annotated[
        int, typer.Option("--token-ttl", min=1, max=MAX_TOKEN_TTL, help="Seconds an access token lives.")
    ] = 3600,
    max_body: Annotated[int, typer.Option("--max-body", min=1, help="Largest request body, in bytes.")] = 1 << 20,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            callback=_seconds,
            help="Seconds an operation may take before 503 (more than 0, at most a day).",
        ),
    ] = 30.0,
    graceful: Annotated[
        int,
        typer.Option("--graceful", min=0, max=DAY, help="Seconds requests in flight get to finish on shutdown."),
    ] = 30,
) -> None:
    """Serve the reference product's REST API over the book (Ctrl-C or SIGTERM: requests in flight finish)."""
    import logging
    import socket
    import sys

    import uvicorn

    from subledger.http.app import create_app
    from subledger.http.protocol import HTTP_PROTOCOL

    bound = engine()
    service = create_app(bound, token_ttl=token_ttl, max_body=max_body, timeout=timeout)
    sockets = _listen(host, port)
    config = uvicorn.Config(
        service,
        http=HTTP_PROTOCOL,  # a request uvicorn cannot parse answered in the envelope
        access_log=False,  # ours is one JSON line per request (subledger.http.access)
        timeout_keep_alive=5,
        timeout_graceful_shutdown=graceful,
        log_level="info",
    )
    url = _url(host, sockets[0])

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:  # uvicorn says where it runs only for sockets it bound itself
                logging.getLogger("uvicorn.error").info("Uvicorn running on %s (Press CTRL+C to quit)", url)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            await super().shutdown(sockets)
            # The book's connections are closed once the requests in flight are done, before uvicorn re-raises the
            # signal that stopped it (which ends the process there): SQLite checkpoints its WAL as the last one
            # closes, so the file alone holds the book again (a copy of books.db taken after the server stopped
            # lacked its last writes) and no -wal or -shm file is left beside it.
            bound.dispose()

    server = Server(config)
    # The access log's handler lives as long as the server: a refused start adds none, and none outlives the run.
    access = logging.getLogger("subledger.http")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    try:
        server.run(sockets=sockets)
    except KeyboardInterrupt:  # a second Ctrl-C: uvicorn stopped without waiting, as asked
        pass
    finally:
        access.removeHandler(handler)
        for sock in sockets:
            sock.close()


def _listen(host: str, port: int) -> list["socket.socket"]:
    """The listening sockets, bound here and handed to uvicorn: one line if the server cannot listen on ``host`` and
    ``port`` (a name that does not resolve, a port in use, an address not of this machine), where uvicorn would log
    the error amid its start-up lines and exit 3, the status of a task partly done. Bound as uvicorn (asyncio's
    create_server) binds: every address ``host`` resolves to (``""``: every interface), IPv6 sockets IPv6 only;
    bound once, so no other process can take the port between a check and the server's own bind, and with
    ``--port 0`` every address gets the first one's port (asyncio would pick one per address)."""
    import socket

    def refused(why: object) -> CommandError:
        return CommandError(
            f"cannot listen on {host or 'every interface'} port {port}: {why}: give another --host or --port",
            code="cannot-listen",
        )

    try:
        found = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot encode (an empty label, too long)
        raise refused(getattr(exc, "strerror", None) or exc) from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(found):  # /etc/hosts may list an address twice
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            given = sockets[0].getsockname()[1] if len(sockets) > 1 else port
            sock.bind((address[0], given, *address[2:]))
            sock.listen(2048)  # uvicorn's backlog
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise refused(exc.strerror or exc) from None
    return sockets


def _url(host: str, sock: "socket.socket") -> str:
    """The address a client uses, as uvicorn says it (``--port 0``: the port the system gave)."""
    shown, port = host or "0.0.0.0", sock.getsockname()[1]
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
