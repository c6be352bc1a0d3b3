"""Run the demo API: ``python -m sales_api --port 8765 [--dirty-fraction 0.05]``."""

from __future__ import annotations

import argparse

import uvicorn

from sales_api.app import SalesApiSettings, create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--dirty-fraction", type=float, default=None)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    overrides = {
        k: v for k, v in {"dirty_fraction": args.dirty_fraction, "seed": args.seed}.items() if v is not None
    }
    app = create_app(SalesApiSettings(**overrides))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
