"""The user's projects as context: an index of code, docs and Q&A sets that grounds the jobs."""
