"""codenook: a private coding assistant that runs local models on your own machine."""

__version__ = "0.1.0"
