"""The ``hub`` command (DESIGN.md, "CLI contract").

Every failure ends with one line on stderr and a non-zero exit: 2 for bad configuration,
unreadable sources or a busy hub, 1 for anything unexpected (whose traceback is written to
a file named in that line).
"""

from __future__ import annotations

import sys
import tempfile
import traceback
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from pipelines.runtime import configure_prefect

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="golden-hub: consolidate customer sources into a golden record hub.")

EXIT_UNEXPECTED = 1
EXIT_BAD_INPUT = 2


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def preflight(config_path: Path) -> Any:
    """Load the config and check every source's files and columns before Prefect starts.

    Cheap (headers only), and it turns the common mistakes into one-line errors.
    """
    from pipelines import io
    from pipelines.config import load_config

    config = load_config(config_path)
    for source in config.sources:
        for path, columns in io.read_columns(config, source).items():
            io.check_columns(source, path, columns)
    if config.erasure_path is not None:  # a bad request stops the run before it starts
        from pipelines.golden.erasure import ErasureError, parse_requests

        try:
            parse_requests(io.read_csv_text(config.erasure_path), default_country=config.hub.default_country,
                           where=config.erasure_path.name)
        except ErasureError as exc:
            raise io.SourceError(str(exc)) from None
    return config


def run_flow(config_path: Path, as_of: date | None) -> dict[str, Any]:
    """Run ``consolidate`` with one-line error reporting; return the manifest."""
    from pipelines.config import ConfigError
    from pipelines.io import SourceError
    from pipelines.publish import LockError

    try:
        config = preflight(config_path)
    except (ConfigError, SourceError) as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    configure_prefect()
    from pipelines.flow import consolidate
    from pipelines.runtime import quiet_console_tracebacks

    quiet_console_tracebacks()
    try:
        return consolidate(str(config.path), as_of)
    except (ConfigError, SourceError, LockError) as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        log = Path(tempfile.gettempdir()) / "golden-hub-last-error.log"
        log.write_text(traceback.format_exc(), encoding="utf-8")
        first = (str(exc).splitlines() or [""])[0][:300]
        _fail(f"run failed: {type(exc).__name__}: {first} (traceback in {log}); the previous hub is untouched",
              EXIT_UNEXPECTED)
    raise AssertionError("unreachable")


def print_summary(manifest: dict[str, Any], out: Path) -> None:
    """What was published and where, in a few lines."""
    typer.echo(f"published run {manifest['run_id']} (as of {manifest['as_of']}) to {out}")
    for name, rows in manifest["outputs"].items():
        typer.echo(f"  {name:<32} {rows:>10,} rows")
    for name, s in manifest["sources"].items():
        reasons = ", ".join(f"{k} {v:,}" for k, v in s["reasons"].items()) or "none"
        typer.echo(f"  source {name:<10} {s['rows_in']:>9,} in  {s['accepted']:>9,} accepted  "
                   f"{s['quarantined']:>7,} quarantined ({reasons})")
    match = manifest.get("match")
    if match:
        typer.echo(f"  matching: {match['records']:,} records -> {match['golden_ids']:,} golden customers; "
                   f"{match['review_queue']:,} pairs for review ({match['model_source']} model)")
    for warning in manifest.get("warnings", []):
        typer.echo(f"  warning: {warning}")
    typer.echo(f"  total {manifest['timings']['total']:.1f} s; manifest: {out / 'manifest.json'}")


@app.command()
def run(
    config: Annotated[Path, typer.Option("--config", "-c", help="hub.yml to run")] = Path("hub.yml"),
    as_of: Annotated[str | None, typer.Option("--as-of", help="date for recency rules (YYYY-MM-DD)")] = None,
) -> None:
    """One consolidation run: ingest, cleanse, publish the hub atomically."""
    when = _parse_date(as_of)
    manifest = run_flow(config, when)
    from pipelines.config import load_config

    print_summary(manifest, load_config(config).out_dir)


@app.command()
def demo(
    customers: Annotated[int, typer.Option("--customers", "-n", min=10, help="number of people to generate")] = 5000,
    out: Annotated[Path, typer.Option("--out", "-o", help="folder for demo sources, hub.yml and the hub")] = Path(
        "data/demo"),
    seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same data)")] = 42,
) -> None:
    """Generate demo sources and hub.yml in OUT, then run the flow on them."""
    from pipelines.demo import generate_demo

    result = generate_demo(out, customers=customers, seed=seed)
    typer.echo(f"demo: {customers:,} people written to {out} (config {result.config})")
    manifest = run_flow(result.config, None)
    from pipelines.config import load_config

    print_summary(manifest, load_config(result.config).out_dir)


review_app = typer.Typer(no_args_is_help=True, help="Steward review of uncertain pairs.")
app.add_typer(review_app, name="review")


def _published(config_path: Path, name: str) -> tuple[Any, Path]:
    """The config and a file of its published hub; one-line failure if there is none yet."""
    from pipelines.config import ConfigError, load_config

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    path = config.out_dir / name
    if not path.exists():
        _fail(f"{path} not found: run `hub run --config {config_path}` first", EXIT_BAD_INPUT)
    return config, path


@review_app.command("export")
def review_export(
    config: Annotated[Path, typer.Option("--config", "-c", help="hub.yml")] = Path("hub.yml"),
    out: Annotated[Path | None, typer.Option("--out", "-o", help="CSV to write (default: review_queue.csv "
                                                                  "next to hub.yml)")] = None,
) -> None:
    """Write the review queue as CSV: both records side by side and an empty decision column."""
    from pipelines import io
    from pipelines.match.steward import SHEET_FIELDS, review_sheet

    hub, queue_path = _published(config, "review_queue.parquet")
    queue = io.read_frame(queue_path)
    keys = sorted(set(queue["record_key_l"]) | set(queue["record_key_r"]))
    cleansed = hub.out_dir / "cleansed_customers.parquet"
    columns = ["record_key", *[f for f in SHEET_FIELDS if f in io.parquet_columns(cleansed)]]
    sheet = review_sheet(queue, io.read_rows(cleansed, "record_key", keys, columns))
    target = out or hub.base_dir / "review_queue.csv"
    io.write_csv(sheet, target)
    typer.echo(f"{len(sheet):,} pairs to review written to {target}; fill `decision` with match or no_match, "
               f"then `hub review apply {target}`")


@review_app.command("apply")
def review_apply(
    sheet: Annotated[Path, typer.Argument(help="a review CSV with decisions filled in")],
    config: Annotated[Path, typer.Option("--config", "-c", help="hub.yml")] = Path("hub.yml"),
) -> None:
    """Store the sheet's decisions next to hub.yml; later runs honour them over the model."""
    from datetime import datetime, timezone

    from pipelines import io
    from pipelines.match.steward import DecisionError, merge_decisions

    hub, cleansed = _published(config, "cleansed_customers.parquet")
    try:
        filled = io.read_csv_text(sheet)
        known = io.read_table(cleansed, columns=["record_key"]).column("record_key").to_pylist()
        existing = io.read_decisions(hub.decisions_path)
        merged, count = merge_decisions(existing, filled, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                        known_keys=known)
    except io.SourceError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    except DecisionError as exc:
        _fail(f"{sheet}: {exc}", EXIT_BAD_INPUT)
    io.write_csv(merged, hub.decisions_path)
    typer.echo(f"{count:,} decisions applied; {len(merged):,} stored in {hub.decisions_path}; "
               f"they take effect on the next run")


@app.command()
def explain(
    key1: Annotated[str, typer.Argument(help="first record key, source:source_id (e.g. crm:000101)")],
    key2: Annotated[str, typer.Argument(help="second record key")],
    config: Annotated[Path, typer.Option("--config", "-c", help="hub.yml")] = Path("hub.yml"),
) -> None:
    """Why two published records match or not: each comparison's level and weight."""
    from pipelines import io
    from pipelines.match import features, model
    from pipelines.match.explain import waterfall

    hub, cleansed = _published(config, "cleansed_customers.parquet")
    manifest = io.read_json(hub.out_dir / "manifest.json")
    model_path = Path(manifest.get("match", {}).get("model", ""))
    if not model_path.is_file():
        _fail(f"the published run has no match model ({model_path}); run `hub run` first", EXIT_BAD_INPUT)
    records = io.read_rows(cleansed, "record_key", [key1, key2])
    found = set(records["record_key"])
    for key in (key1, key2):
        if key not in found:
            _fail(f"record {key} is not in the published hub (keys look like crm:000101)", EXIT_BAD_INPUT)
    if key1 == key2:
        _fail("give two different records", EXIT_BAD_INPUT)
    frame = features.match_frame(records).set_index("unique_id").loc[[key1, key2]].reset_index()
    table = model.explain(frame, io.read_json(model_path))
    left, right = min(key1, key2), max(key1, key2)
    scored = io.read_rows(hub.out_dir / "pairs.parquet", "record_key_l", [left])
    scored = scored[scored["record_key_r"] == right]
    if len(scored):  # the run's own weights, with term-frequency adjustments
        row = scored.iloc[0]
        table["mw"] = [w if c == "prior" else float(row.get(f"mw_{c}", w)) for c, w in zip(table["comparison"],
                                                                                          table["mw"])]
        note = f"weights as scored by run {manifest['run_id']} (found by blocking rule {row['match_key']})"
    else:
        note = ("this run did not keep the pair (no blocking rule put the two together, or it scored below "
                "match.pairs_threshold); weights recomputed without term-frequency adjustment")
    for line in waterfall(table, key1, key2, hub.match.threshold):
        typer.echo(line)
    typer.echo(note)
    crosswalk = io.read_rows(hub.out_dir / "crosswalk.parquet", "record_key", [key1, key2])
    ids = dict(zip(crosswalk["record_key"], crosswalk["golden_id"]))
    same = ids.get(key1) == ids.get(key2)
    typer.echo(f"published: {key1} -> {ids.get(key1)}, {key2} -> {ids.get(key2)} "
               f"({'same golden customer' if same else 'different golden customers'})")


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"--as-of: expected a date as YYYY-MM-DD, got {value!r}", EXIT_BAD_INPUT)
    return None


def main() -> None:  # pragma: no cover - console entry for `python -m pipelines.cli`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
