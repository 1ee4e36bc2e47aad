"""Run the emulator: ``python -m emulator --host 127.0.0.1 --port 8765``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import logging
import sys

from aiohttp import web

from emulator.app import create_app
from emulator.clock import Clock
from emulator.config import EmulatorOptions
from emulator.state import EmulatorState


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on")
    parser.add_argument(
        "--clock-speed", type=float, default=1.0, help="emulator seconds per real second"
    )
    parser.add_argument(
        "--public-origin", default=None, help="origin used in links, e.g. https://emu.example"
    )
    parser.add_argument(
        "--tick-interval",
        type=float,
        default=5.0,
        help="real seconds between background simulation steps (0: off)",
    )
    parser.add_argument(
        "--retry-delay-scale", type=float, default=1.0, help="multiplies webhook retry delays"
    )
    parser.add_argument(
        "--no-store-subscription",
        action="store_true",
        help="serve signals for unsubscribed vehicles too",
    )
    parser.add_argument(
        "--preconnect",
        action="store_true",
        help="connect the default user's vehicles with all permissions at start",
    )
    parser.add_argument("--log-level", default="INFO", help="logging level")
    return parser


def _banner(state: EmulatorState, origin: str) -> str:
    app = state.app
    return "\n".join(
        (
            f"Smartcar v3 emulator listening on {origin}",
            f"  Connect:        {origin}/oauth/authorize",
            f"  Token:          {origin}/oauth2/token",
            f"  Vehicle API:    {origin}/v3",
            f"  Admin:          {origin}/_emulator/state",
            f"  Client ID:      {app.client_id}",
            f"  Client secret:  {app.client_secret}",
            f"  Application ID: {app.application_id}",
            f"  AMT:            {app.amt}",
            f"  Clock:          {state.clock.as_dict()['now']} (speed {state.clock.speed})",
            "",
        )
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper())
    options = EmulatorOptions(
        tick_interval=args.tick_interval,
        retry_delay_scale=args.retry_delay_scale,
        store_requires_subscription=not args.no_store_subscription,
        public_origin=args.public_origin,
    )
    state = EmulatorState(clock=Clock(speed=args.clock_speed), options=options)
    if args.preconnect:
        state.connect()
    origin = args.public_origin or f"http://{args.host}:{args.port}"
    state.seen_origin = origin
    app = create_app(state)

    async def announce(_app: web.Application) -> None:
        sys.stdout.write(_banner(state, origin))
        sys.stdout.flush()

    app.on_startup.append(announce)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
