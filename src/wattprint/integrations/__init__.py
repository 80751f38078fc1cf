"""Framework callbacks: measure, predict and budget a training from inside the framework's own loop.

- ``wattprint.integrations.lightning.WattprintCallback`` — PyTorch Lightning (``pip install wattprint[lightning]``)
- ``wattprint.integrations.transformers.WattprintCallback`` — Hugging Face ``transformers`` ``Trainer``
  (``wattprint[transformers]``)
- ``wattprint.integrations.keras.WattprintCallback`` — Keras 3, any backend (``wattprint[keras]``)

Each module imports its framework when it is imported; this package imports none. See docs/predict.md.
"""
