"""Tools the assistant's jobs use: linters, code extraction, diffs, docs, the sandbox."""
