"""The Monte-Carlo engine (model-agnostic), its random streams, and the trial glue."""
