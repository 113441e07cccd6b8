"""Identity resolution: match features, Splink comparisons, blocking, model, clustering."""
