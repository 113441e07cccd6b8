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
