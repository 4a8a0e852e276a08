"""The three problems, their closed forms and critical points: numpy only, no torch.

Modules: ``problems``, ``solvers``, ``paper``, ``paths``, ``critical``, ``assumptions``.
"""
