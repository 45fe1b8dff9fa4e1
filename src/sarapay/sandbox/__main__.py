"""`python -m sarapay.sandbox serve [--port N] [--state FILE] [--latency-ms N]`.

The first stdout line is exactly `SANDBOX_URL=http://127.0.0.1:PORT` (flushed) so a parent started
with `--port 0` learns the port.
"""

from __future__ import annotations

import argparse
import signal
import sys

from .server import SandboxServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sarapay.sandbox", description="Local Stripe-compatible sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the sandbox on 127.0.0.1")
    serve.add_argument("--port", type=int, default=12111, help="port (0 picks a free one)")
    serve.add_argument("--state", metavar="FILE", help="load state from FILE and save it there on every change")
    serve.add_argument("--latency-ms", type=int, default=0, help="delay added to every API request")
    args = parser.parse_args(argv)

    server = SandboxServer(port=args.port, latency_ms=args.latency_ms, state_file=args.state)
    print(f"SANDBOX_URL={server.url}", flush=True)
    # SIGTERM stops as cleanly as Ctrl-C: the state file is written after every change anyway.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
