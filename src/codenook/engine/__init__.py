"""The engine: given messages or a prompt, stream tokens. Keeps no records, knows no screen."""
