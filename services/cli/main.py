"""The `rapport` command line: `dev`, `emit`, `tail`, `status`, `dlq replay`, `rebuild`, `bench`, `bench-stages` and
`bench-appends`."""

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Rapport: touchpoints in, live customer views out.")
KAFKA_SECURITY = (
    "Kafka security, as the services': RAPPORT_KAFKA_SECURITY_PROTOCOL (PLAINTEXT by default, SSL, SASL_PLAINTEXT, "
    "SASL_SSL), RAPPORT_KAFKA_SASL_MECHANISM, _SASL_USERNAME, _SASL_PASSWORD and _SSL_CAFILE, from the environment."
)
# Operator commands find the broker alike: --bootstrap, else RAPPORT_KAFKA_BOOTSTRAP, else the running `rapport dev`.
DataDir = Annotated[Path, typer.Option(help="Data directory of a running `rapport dev`.")]
DatabaseUrl = Annotated[str | None, typer.Option(envvar="RAPPORT_DATABASE_URL", help="postgresql+asyncpg://…")]
Bootstrap = Annotated[str | None, typer.Option(envvar="RAPPORT_KAFKA_BOOTSTRAP", help="Kafka bootstrap servers")]


@app.command()
def dev(
    experience_port: Annotated[int, typer.Option(help="HTTP port of the experience (write) service.")] = 8080,
    projection_port: Annotated[int, typer.Option(help="HTTP port of the projection (read) service.")] = 8081,
    kafka_port: Annotated[int, typer.Option(help="Port of the embedded Kafka-compatible broker.")] = 9092,
    data_dir: Annotated[Path, typer.Option(help="Where PostgreSQL keeps its data and the logs go.")] = Path(".rapport"),
    projection_workers: Annotated[int, typer.Option(min=1, max=4, help="Projection processes in one group.")] = 1,
    demo: Annotated[bool, typer.Option(help="Seed a B2C family and a B2B buying team.")] = False,
    api_key: Annotated[str | None, typer.Option(help="Development key with every scope; made if absent.")] = None,
) -> None:
    """Run the whole system on embedded PostgreSQL and an embedded broker; Ctrl-C stops it."""
    from services.cli.dev import DevOptions, run_dev

    options = DevOptions(experience_port, projection_port, kafka_port, data_dir, projection_workers, demo, api_key)
    raise typer.Exit(run_dev(options))


@app.command(epilog=KAFKA_SECURITY)
def emit(
    customer: Annotated[str, typer.Option(help="The customer id.")],
    channel: Annotated[str, typer.Option(help="store, web, app, email, phone, chat, …")] = "store",
    kind: Annotated[str, typer.Option(help="purchase, visit, support_case, complaint, review, …")] = "visit",
    sentiment: Annotated[float | None, typer.Option(help="-1 (awful) .. 1 (delighted)")] = None,
    emotion: Annotated[str | None, typer.Option(help="A short label, e.g. relieved")] = None,
    note: Annotated[str | None, typer.Option(help="Free text (personal data)")] = None,
    via: Annotated[str, typer.Option(help="http (POST /v1/events) or kafka (cx.intake.v1)")] = "http",
    url: Annotated[str, typer.Option(help="Experience service base URL")] = "http://127.0.0.1:8080",
    bootstrap: Bootstrap = None,
    data_dir: DataDir = Path(".rapport"),
    api_key: Annotated[str | None, typer.Option(envvar="RAPPORT_API_KEY", help="Key with events:write")] = None,
) -> None:
    """Record one touchpoint, as an upstream system would."""
    from services.cli.emit import build_touchpoint, send_http, send_kafka
    from services.cli.endpoints import resolve_bootstrap
    from services.cli.kafka_security import kafka_security

    event = build_touchpoint(customer, channel, kind, sentiment, emotion, note)
    if via == "kafka":
        send_kafka(resolve_bootstrap(data_dir, bootstrap), event, kafka_security())
    else:
        send_http(url, event, api_key)


@app.command(epilog=KAFKA_SECURITY)
def tail(
    topic: Annotated[str, typer.Argument(help="e.g. cx.customer-views.v1, cx.events.v1, cx.intake.dlq.v1")],
    bootstrap: Bootstrap = None,
    data_dir: DataDir = Path(".rapport"),
    from_beginning: Annotated[bool, typer.Option(help="Start at the oldest record, not the newest.")] = True,
    count: Annotated[int | None, typer.Option(help="Stop after this many records.")] = None,
    idle_exit: Annotated[float | None, typer.Option(help="Stop after this many quiet seconds.")] = None,
) -> None:
    """Print a topic's records in readable form (key, offset, headers, a summary of the value)."""
    import asyncio

    from services.cli.endpoints import resolve_bootstrap
    from services.cli.kafka_security import kafka_security
    from services.cli.tail import tail_topic

    bootstrap = resolve_bootstrap(data_dir, bootstrap)
    asyncio.run(tail_topic(bootstrap, topic, from_beginning, count, idle_exit, kafka_security()))


dlq_app = typer.Typer(no_args_is_help=True, help="Dead-lettered intake records.")
app.add_typer(dlq_app, name="dlq")


@app.command(epilog=KAFKA_SECURITY)
def status(data_dir: DataDir = Path(".rapport"), database_url: DatabaseUrl = None, bootstrap: Bootstrap = None) -> None:
    """Show positions, relay backlog, projection lag per partition and dead-letter counts by reason."""
    import asyncio

    from services.cli.endpoints import resolve
    from services.cli.kafka_security import kafka_security
    from services.cli.status import collect, show

    database_url, bootstrap = resolve(data_dir, database_url, bootstrap)
    show(asyncio.run(collect(database_url, bootstrap, kafka_security())))


@dlq_app.command(
    "replay",
    help="Send dead-lettered records back to cx.intake.v1 after a fix (a contract change, a linked identity).\n\n"
    "Each reason keeps its own replay position, and replays without --reason keep another: a replay for one reason "
    "never uses up another reason's records, and a second run for the same reason resumes where the last stopped. "
    "A record replayed twice (by reason, then unfiltered) is stored once; one still invalid is dead-lettered again.",
    epilog=KAFKA_SECURITY,
)
def dlq_replay(
    reason: Annotated[str | None, typer.Option(help="Only records dead-lettered for this reason.")] = None,
    from_beginning: Annotated[bool, typer.Option(help="Ignore where the last replay of this reason stopped.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Only list what would be replayed.")] = False,
    data_dir: DataDir = Path(".rapport"),
    bootstrap: Bootstrap = None,
) -> None:
    import asyncio

    from services.cli.dlq import replay
    from services.cli.endpoints import resolve_bootstrap
    from services.cli.kafka_security import kafka_security

    bootstrap = resolve_bootstrap(data_dir, bootstrap)
    count = asyncio.run(replay(bootstrap, reason, from_beginning, dry_run, security=kafka_security()))
    typer.echo(f"{'would replay' if dry_run else 'replayed'} {count} record(s)")


@app.command()
def rebuild(
    data_dir: DataDir = Path(".rapport"),
    database_url: DatabaseUrl = None,
    bootstrap: Bootstrap = None,
    event_log_url: Annotated[str | None, typer.Option(help="Experience service base URL (its event log).")] = None,
    api_key: Annotated[str | None, typer.Option(envvar="RAPPORT_API_KEY", help="A key with admin.")] = None,
) -> None:
    """Replay the whole event store into fresh views (after a fold or settings change), while the system runs.

    Views are rebuilt beside the live ones and swapped in at once; projection workers pause only for the swap,
    readers not at all. Views that changed are published again on the view topics.
    """
    from services.cli.endpoints import resolve, resolve_experience_url
    from services.cli.rebuild import development_key, run_rebuild
    from services.projection.settings import ProjectionSettings

    database_url, bootstrap = resolve(data_dir, database_url, bootstrap)
    settings = ProjectionSettings(
        database_url=database_url, kafka_bootstrap=bootstrap,
        event_log_url=resolve_experience_url(data_dir, event_log_url),
        event_log_api_key=api_key or development_key(data_dir),
    )  # fmt: skip
    run_rebuild(settings)


@app.command()
def bench(
    events: Annotated[int, typer.Option(help="Touchpoints to offer.")] = 60_000,
    customers: Annotated[int, typer.Option(help="Distinct customers they belong to.")] = 5_000,
    rate: Annotated[int, typer.Option(help="Events/s offered for the freshness run.")] = 2_000,
    baseline_events: Annotated[int, typer.Option(help="Events for the naive baseline.")] = 3_000,
    projection_workers: Annotated[int, typer.Option(min=1, max=4)] = 2,
    intake_events: Annotated[int, typer.Option(help="Touchpoints offered at once on cx.intake.v1.")] = 100_000,
    intake_customers: Annotated[int, typer.Option(help="Distinct customers of the intake backlog.")] = 10_000,
) -> None:
    """Measure throughput and freshness end to end against a naive baseline, on a fresh embedded system."""
    from services.cli.bench import BenchOptions, run_bench

    run_bench(
        BenchOptions(
            events,
            customers,
            rate,
            baseline_events,
            projection_workers,
            intake_events=intake_events,
            intake_customers=intake_customers,
        )
    )


@app.command("bench-stages")
def bench_stages(
    events: Annotated[int, typer.Option(help="Touchpoints to fold.")] = 60_000,
    customers: Annotated[int, typer.Option(help="Distinct customers they belong to.")] = 5_000,
    batch: Annotated[int, typer.Option(help="Events a batch.")] = 1_000,
) -> None:
    """Where a projection worker's CPU goes, stage by stage, on a fresh embedded PostgreSQL (no broker)."""
    from services.cli.bench_stages import run_stages

    run_stages(events, customers, batch)


@app.command("bench-appends")
def bench_appends(
    delay_ms: Annotated[float, typer.Option(help="One-way delay the proxy adds to each message.")] = 0.5,
    producers: Annotated[int, typer.Option(help="Concurrent producers, one touchpoint a request each.")] = 8,
    seconds: Annotated[float, typer.Option(help="How long each phase runs.")] = 10.0,
) -> None:
    """Single-event appends with PostgreSQL here and a network hop away: what an append's round trips cost."""
    from services.cli.bench_appends import run_appends

    run_appends(delay_ms, producers, seconds)


if __name__ == "__main__":
    app()
