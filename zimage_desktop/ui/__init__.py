"""Qt views over the engine, model manager and history."""
