"""Summaries and reports of runs (text, JSON; later Markdown, HTML, LaTeX and model cards)."""
