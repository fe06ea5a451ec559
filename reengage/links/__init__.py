"""Outside services as the engine sees them: what a provider declares, and the interfaces its clients keep."""
