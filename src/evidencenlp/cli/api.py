"""``evidencenlp api`` — the suggestion API for other systems (dashboards, pipelines), on this computer's port."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from evidencenlp.api.limits import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_NOTE_CHARS,
    DEFAULT_MAX_NOTES,
    DEFAULT_TIMEOUT_SECONDS,
)
from evidencenlp.cli._app import app, backend_option, console, ensure_port_free, err_console, fail

#: a token shorter than this from the environment is accepted with a warning
SHORT_TOKEN = 16
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@app.command("api")
def api(
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS",
                             help="Address to listen on: 127.0.0.1 (this computer only), or an address of this "
                                  "computer / 0.0.0.0 to serve other computers (put it behind a TLS proxy: the "
                                  "token travels in every request)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, metavar="1-65535", help="Port to listen on."),
    backend: str = backend_option(),
    models: Path = typer.Option(None, "--models", metavar="FOLDER",
                                help="Folder with trained heads (default: the project's models/)."),
    max_notes: int = typer.Option(DEFAULT_MAX_NOTES, "--max-notes", min=1, metavar="N",
                                  help="Most notes one request may send."),
    max_note_chars: int = typer.Option(DEFAULT_MAX_NOTE_CHARS, "--max-note-chars", min=1, metavar="N",
                                       help="Most characters one note may have."),
    timeout: float = typer.Option(DEFAULT_TIMEOUT_SECONDS, "--timeout", min=0.1, metavar="SECONDS",
                                  help="Most seconds one request may take (reading, queueing and suggesting)."),
    concurrency: int = typer.Option(DEFAULT_CONCURRENCY, "--concurrency", min=1, metavar="N",
                                    help="Batches suggested at the same time; further requests wait their turn."),
    threads: int | None = typer.Option(None, "--threads", min=1, metavar="N",
                                help="CPU threads the torch encoder uses for a batch (torch backend; default: "
                                     "torch's own, one per core). Requests of up to 4 notes always use one: "
                                     "with more, a short request waits for every thread and the idle ones spin."),
) -> None:
    """Serve suggestions over HTTP: POST /v1/suggest, GET /v1/health, GET /v1/frameworks (docs at /docs).

    The models are loaded once, at start-up (GET /v1/health answers 200 when they are ready). Every
    endpoint but health needs 'Authorization: Bearer TOKEN': the token is read from
    EVIDENCENLP_API_TOKEN, or generated and printed here once. Notes are never logged.
    """
    try:
        import uvicorn

        from evidencenlp.api.app import create_api
    except ModuleNotFoundError as exc:
        raise fail(f"the API needs the web extra ({exc.name} is missing): pip install 'evidencenlp[web]'") from None
    from evidencenlp.api import TOKEN_ENV, ApiLimits, new_token
    from evidencenlp.tagging import SuggesterSpec

    given = os.environ.get(TOKEN_ENV)
    if given is not None and not given.strip():
        raise fail(f"{TOKEN_ENV} is set but empty; set a long random token or unset it to have one generated")
    token = given.strip() if given else new_token()
    ensure_port_free(host, port, "is another server using it? Try another --port")
    limits = ApiLimits(max_notes=max_notes, max_note_chars=max_note_chars, timeout_seconds=timeout,
                       concurrency=concurrency)
    server: uvicorn.Server | None = None

    def stop(reason: str) -> None:  # the models cannot load: a service without them must not look alive
        if server is not None:
            server.should_exit = True

    if backend == "torch":
        _torch_threads(threads)
    web = create_api(SuggesterSpec(models=models, backend=backend), token, limits, on_load_failure=stop)
    server = uvicorn.Server(uvicorn.Config(web, host=host.strip("[]"), port=port, log_level="info",
                                           access_log=True, timeout_graceful_shutdown=5))
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    console.print(f"Suggestion API: [bold]http://{shown}:{port}/v1/[/]  docs: http://{shown}:{port}/docs  "
                  f"(backend {backend}; loading the models, GET /v1/health says when they are ready)",
                  highlight=False, soft_wrap=True)
    if given:
        console.print(f"Access token: the one in {TOKEN_ENV}.", highlight=False)
    else:  # printed once, here; never logged
        console.print(f"Access token (send 'Authorization: Bearer TOKEN'; set {TOKEN_ENV} to choose your own):\n"
                      f"  {token}", highlight=False, soft_wrap=True)
    if len(token) < SHORT_TOKEN:
        err_console.print(f"[yellow]The token in {TOKEN_ENV} is short ({len(token)} characters); use a long random "
                          "one.[/]", highlight=False)
    if host not in LOOPBACK:
        err_console.print("[yellow]The API is reachable from other computers.[/] Serve it behind HTTPS (a reverse "
                          "proxy): the token is sent with every request.", highlight=False)
    err_console.print("Press Ctrl+C to stop.")
    server.run()
    warm = web.state.api.warm
    if warm.state == "failed":
        raise fail(f"the API stopped: {warm.error}")


def _torch_threads(threads: int | None) -> None:
    """One thread for requests of a few notes, ``threads`` (default: torch's own) for batches."""
    from evidencenlp.api import threads as policy

    try:
        import torch
    except ModuleNotFoundError:  # the torch backend's own loading says what is missing
        return
    policy.configure(threads or torch.get_num_threads())
