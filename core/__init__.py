"""shopagent: an offline-first customer-service agent for online shops.

Sub-packages: ``shopagent.agent`` (dialogue, store, service, CLI), ``shopagent.speech`` (ASR/TTS),
``shopagent.retrieval`` (Chroma search) and ``shopagent.fusion`` (multimodal product vectors).
This root package holds what they share: settings, the model registry and logging.
"""

import os

# Nothing in shopagent may reach a model hub at run time. Set before transformers or
# huggingface_hub is imported anywhere so a stray hub call fails at once instead of retrying.
for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # chromadb

__version__ = "0.1.0"
