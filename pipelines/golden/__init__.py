"""Golden record: survivorship with lineage, households and organisations, change feed."""
