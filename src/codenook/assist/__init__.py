"""What the assistant does: conversations, jobs and the tools they use."""
