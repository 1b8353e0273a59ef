"""Tools the assistant's tasks use: the sandbox (later: linters, local documentation)."""
