"""Results: what came back, and whether the sequence (or a variant of a step) made the difference."""
