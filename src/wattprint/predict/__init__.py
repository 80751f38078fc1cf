"""Prediction of a training's totals from its first epochs or steps, and budgets."""
