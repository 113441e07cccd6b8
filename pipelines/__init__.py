"""golden-hub: a batch customer-data-integration pipeline.

Public surface: :func:`pipelines.config.load_config` and the Prefect flow
:func:`pipelines.flow.consolidate`. Everything else is internal.
"""

__version__ = "0.1.0"
