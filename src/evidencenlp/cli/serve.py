"""``evidencenlp serve`` — the review page in the browser, served from this computer."""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

import typer

from evidencenlp.cli._app import app, backend_option, console, ensure_port_free, err_console, fail
from evidencenlp.errors import EvidenceNLPError

DEFAULT_MAX_UPLOAD_MB = 20
DEFAULT_MAX_ROWS = 50_000
ALL_INTERFACES = ("0.0.0.0", "::", "[::]", "")
#: how to find this computer's address when it cannot be found here
FIND_ADDRESS = ("find this computer's address with `ip -4 addr` (Linux), `ipconfig` (Windows) or "
                "`ipconfig getifaddr en0` (macOS)")


def _interface_addresses() -> list[str]:
    """IPv4 addresses of this computer's network interfaces (Linux: read with ioctl; no traffic is sent)."""
    found: list[str] = []
    if sys.platform.startswith("linux"):
        import fcntl
        import struct

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _, name in socket.if_nameindex():
                try:  # SIOCGIFADDR
                    packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name[:15].encode()))
                except OSError:  # an interface without an IPv4 address
                    continue
                found.append(socket.inet_ntoa(packed[20:24]))
    return found


def _hostname_addresses() -> list[str]:
    """Addresses the computer's name resolves to (from the hosts file or DNS)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []
    return [str(info[4][0]) for info in infos]


def machine_addresses() -> list[str]:
    """This computer's addresses that other computers can reach (no loopback, no link-local), best first."""
    out: list[str] = []
    for source in (_interface_addresses, _hostname_addresses):
        try:
            candidates = source()
        except OSError:
            continue
        for address in candidates:
            try:
                ip = ipaddress.ip_address(address.split("%")[0])
            except ValueError:
                continue
            if ip.is_loopback or ip.is_link_local or ip.is_unspecified or str(ip) in out:
                continue
            out.append(str(ip))
    return sorted(out, key=lambda a: (ipaddress.ip_address(a).version, a))


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


@app.command()
def serve(
    db: Path = typer.Option(..., "--db", metavar="FILE",
                            help="Review database file (created if missing), e.g. review.sqlite."),
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS",
                             help="Address to listen on: 127.0.0.1 (this computer only), an address of this "
                                  "computer, or 0.0.0.0 (all its addresses). Anything but 127.0.0.1/localhost "
                                  "requires an access token."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, metavar="1-65535", help="Port to listen on."),
    inspector: str = typer.Option(None, "--inspector", envvar="EVIDENCENLP_INSPECTOR", metavar="NAME",
                                  help="Default inspector name shown on the page."),
    models: Path = typer.Option(None, "--models", metavar="FOLDER",
                                help="Folder with trained heads (default: the project's models/)."),
    max_upload_mb: int = typer.Option(DEFAULT_MAX_UPLOAD_MB, "--max-upload-mb", min=1, max=2048, metavar="1-2048",
                                      help="Largest file the page accepts for upload, in MB."),
    max_rows: int = typer.Option(DEFAULT_MAX_ROWS, "--max-rows", min=1, metavar="N",
                                 help="Most rows one import from the page may have."),
    backend: str = backend_option(),
) -> None:
    """Serve the review page in the browser: confirm or correct suggestions with single keys.

    The page shows a queue of notes, each suggestion with the framework sentence that explains it,
    progress, a summary and an indicative rating per key question, file import (with progress and
    Cancel) and export. Bound to 127.0.0.1 by default (only this computer). With any other --host an
    access token is generated and printed; the page and API require it. An uploaded file is deleted
    as soon as its import ends, is cancelled or the server stops.
    """
    import uvicorn

    from evidencenlp.encoder import load_embedder
    from evidencenlp.web import LOOPBACK_HOSTS, create_app, is_loopback, new_token

    embedder = load_embedder(backend)  # one embedder for imports and the assessment panel (loads at first use)
    loopback = is_loopback(host)
    token = None if loopback else new_token()
    if inspector is not None:
        from evidencenlp.review.names import inspector_name

        try:
            inspector = inspector_name(inspector)
        except EvidenceNLPError as exc:
            raise fail(f"--inspector: {exc}") from None
    from evidencenlp.tagging import SuggesterSpec

    load_suggester = SuggesterSpec(models=models, embedder=embedder).load  # on the first import that needs it
    web = create_app(db, suggester=load_suggester, models=models, inspector=inspector, token=token,
                     allowed_hosts=LOOPBACK_HOSTS if loopback else None, allow_path_import=loopback,
                     max_upload_bytes=max_upload_mb * 1024 * 1024, max_rows=max_rows, embedder=embedder)
    ensure_port_free(host, port, "is another `evidencenlp serve` running? Try --port 8766")
    suffix = f"?token={token}" if token else ""
    if loopback:
        console.print(f"Review page for {db}: [bold]{_url(host, port)}[/]  (this computer only)", highlight=False,
                      soft_wrap=True)
    elif host.strip("[]") in ALL_INTERFACES:
        addresses = machine_addresses()
        console.print(f"Review page for {db}, listening on all interfaces of this computer:", highlight=False)
        for address in addresses:
            console.print(f"  [bold]{_url(address, port)}{suffix}[/]", highlight=False, soft_wrap=True)
        if not addresses:
            console.print(f"  http://ADDRESS:{port}/{suffix}", highlight=False, soft_wrap=True)
            err_console.print(f"No network address found here: {FIND_ADDRESS}, and put it in place of ADDRESS.",
                              highlight=False)
    else:
        console.print(f"Review page for {db}: [bold]{_url(host.strip('[]'), port)}{suffix}[/]", highlight=False,
                      soft_wrap=True)
    if token:
        err_console.print("[yellow]The page is reachable from other computers.[/] Share the address above (it "
                          "carries the access token) only with the inspectors who should use it.", highlight=False)
    err_console.print("Press Ctrl+C to stop. Every decision is saved as it is made.")
    uvicorn.run(web, host=host.strip("[]"), port=port, log_level="warning", access_log=False)
