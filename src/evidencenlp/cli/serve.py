"""``evidencenlp serve`` — the review page in the browser, served from this computer."""

from __future__ import annotations

import socket
from pathlib import Path

import typer

from evidencenlp.cli._app import app, console, err_console, fail


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host.strip("[]"), port))
        except OSError as exc:
            raise fail(f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
                       "is another `evidencenlp serve` running? Try --port 8766") from None


@app.command()
def serve(
    db: Path = typer.Option(..., "--db", help="Review database file (created if missing), e.g. review.sqlite."),
    host: str = typer.Option("127.0.0.1", "--host",
                             help="Address to listen on. Anything but 127.0.0.1/localhost requires an access token."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
    inspector: str = typer.Option(None, "--inspector", envvar="EVIDENCENLP_INSPECTOR",
                                  help="Default inspector name shown on the page."),
    models: Path = typer.Option(None, "--models", help="Folder with trained heads (default: the project's models/)."),
) -> None:
    """Serve the review page in the browser: confirm or correct suggestions with single keys.

    The page shows a queue of notes, each suggestion with the framework sentence that explains it,
    progress, a summary per key question, file import and export. Bound to 127.0.0.1 by default (only this computer). With any other --host an access token is
    generated and printed; the page and API require it.
    """
    import uvicorn

    from evidencenlp.review.web import LOOPBACK_HOSTS, create_app, is_loopback, new_token

    loopback = is_loopback(host)
    token = None if loopback else new_token()
    web = create_app(db, models=models, inspector=inspector, token=token,
                     allowed_hosts=LOOPBACK_HOSTS if loopback else None, allow_path_import=loopback)
    _check_port(host, port)
    shown = host if host not in ("0.0.0.0", "::", "[::]") else socket.getfqdn()
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
    url = f"http://{shown}:{port}/"
    if token:
        console.print(f"Review page for {db}: [bold]{url}?token={token}[/]", highlight=False, soft_wrap=True)
        err_console.print("[yellow]The page is reachable from other computers.[/] Share the address above (it "
                          "carries the access token) only with the inspectors who should use it.", highlight=False)
    else:
        console.print(f"Review page for {db}: [bold]{url}[/]  (this computer only)", highlight=False, soft_wrap=True)
    err_console.print("Press Ctrl+C to stop. Every decision is saved as it is made.")
    uvicorn.run(web, host=host.strip("[]"), port=port, log_level="warning", access_log=False)
