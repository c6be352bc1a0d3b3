"""``liftoff kafka`` and ``liftoff app``: the embedded broker and the entry app in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from liftoff.cli.common import console, one_line_errors, serve_until_stopped, stop_on_signals
from liftoff.config import disable_telemetry, get_settings, streamed_sources
from liftoff.local.services import home_broker, running_warehouse


@one_line_errors
def kafka_command() -> None:
    """Run the embedded Kafka broker (KRaft, one node) in the foreground until Ctrl-C.

    Its log folder is $LIFTOFF_HOME/kafka; each stream source's topic (pos.sales) is made if
    missing (CreateTime timestamps, so the simulator can replay past days: python -m sales_api.pos).
    """
    from liftoff.stream.topics import create_topic, source_topics

    settings = get_settings()
    broker = home_broker(settings)
    stop_on_signals()
    try:
        with console.status("starting Kafka"):
            broker.start()
        topics = source_topics(streamed_sources(settings))
        for topic in topics:
            create_topic(broker.bootstrap_servers, topic)
        named = ", ".join(topics) or "none"
        console.print(f"Kafka on [bold]{broker.bootstrap_servers}[/], topics {named}  (Ctrl-C stops it)")
        serve_until_stopped(
            "Kafka",
            lambda: (
                None
                if broker.process.poll() is None
                else f"the Kafka broker exited; see {broker.root / 'broker.log'}"
            ),
        )
    except KeyboardInterrupt:  # while it was starting
        console.print("stopping Kafka")
    finally:
        broker.stop()


@one_line_errors
def entry_app(
    port: Annotated[int, typer.Option(help="Port to serve the app on.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 in a container).")] = "127.0.0.1",
) -> None:
    """Start the sales entry app and the dashboards (Streamlit) on the warehouse.

    With LIFTOFF_ANALYST_URL and LIFTOFF_ENTRY_URL (a deployment whose bootstrap made the
    roles) it logs in as those only; else it bootstraps the warehouse as its owner first.
    """
    import os
    import subprocess
    import sys

    from liftoff.config import TELEMETRY_OFF
    from liftoff.entry.launch import app_env, streamlit_command

    disable_telemetry()
    settings = get_settings()
    if settings.analyst_url and settings.entry_url:  # a deployment's roles, made by its bootstrap
        console.print(
            f"entry app on [bold]http://{host}:{port}[/]  ·  the analyst's and entry writer's logins"
        )
        os.execvpe(sys.executable, streamlit_command(port, host), {**os.environ, **TELEMETRY_OFF})
    with running_warehouse(settings) as target:
        env = app_env(settings, target)
        console.print(f"entry app on [bold]http://{host}:{port}[/]  ·  warehouse {target.safe_str()}")
        subprocess.run(streamlit_command(port, host), env=env, check=False)
