"""Evaluation: measure a model, and codenook's jobs on it, on fixed suites of tasks.

Suites (HumanEval, Bash tasks, fill-in-the-middle on a repository) give tasks; a model
answers each, the sandbox checks the answer, and the store keeps every run with its
model hash, runtime, machine, settings and per-task outcomes, so runs can be compared.
"""
