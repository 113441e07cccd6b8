"""Process-wide settings for running Prefect here (DESIGN.md, "Pitfalls").

Call :func:`configure_prefect` before ``prefect`` is imported: Prefect reads its settings
at import time.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

PREFECT_DEFAULTS: dict[str, str] = {
    # The temporary server's first start runs DB migrations and took > 20 s here.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    # Analytics try the network, which this kind of machine does not have.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
}


def configure_prefect() -> None:
    """Set Prefect defaults unless the environment already chose; keep PREFECT_HOME per user cache."""
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if "PREFECT_HOME" not in os.environ:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        os.environ["PREFECT_HOME"] = str(cache / "golden-hub" / "prefect")
    # Prefect's SQLite database cannot be created in a folder that does not exist.
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)


class _NoTraceback(logging.Filter):
    """Drops tracebacks from console records: the CLI reports failures in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


def quiet_console_tracebacks() -> None:
    """Keep Prefect's console logs but without tracebacks (the API log keeps them).

    The console handler sits on the root logger; Prefect's API handler runs before it on
    the run loggers, so it still receives the full record.
    """
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _NoTraceback) for f in handler.filters):
            handler.addFilter(_NoTraceback())
