"""What `bench load` found and fixed: concurrent turns share one text encoder and one local LLM."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from shopagent.agent.models import LlamaCppChat, ModelBusy
from shopagent.agent.writer import ReplyWriter, ReplyPlan
from shopagent.fusion.text import TextEncoder
from shopagent.settings import Settings


@pytest.mark.slow
def test_concurrent_encodes_are_merged_and_equal_to_one_by_one(agent_settings: Settings) -> None:
    encoder = TextEncoder.load(agent_settings)
    texts = [f"where is order W{1000000 + 7 * i}" if i % 2 else f"a red tote bag, size {i}" for i in range(24)]
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    calls: list[int] = []
    forward = encoder._batches._forward
    encoder._batches._forward = lambda batch: calls.append(len(batch)) or forward(batch)  # count passes only
    try:
        with ThreadPoolExecutor(12) as pool:
            together = np.stack(list(pool.map(lambda t: encoder.encode([t])[0], texts)))
    finally:
        encoder._batches._forward = forward
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert sum(calls) == len(texts) and len(calls) < len(texts)  # some calls shared a forward pass


def test_a_busy_local_model_gives_the_template_at_once() -> None:
    chat = LlamaCppChat(model_path="/nonexistent.gguf", max_wait_s=0.05)  # never loaded: busy first
    writer = ReplyWriter(chat)
    plan = ReplyPlan("Your order {order_id} is {status}.", {"order_id": "#W1234567", "status": "delivered"})
    holder = threading.Thread(target=chat._lock.acquire)  # another shopper's reply holds the model
    holder.start()
    holder.join()
    with pytest.raises(ModelBusy):
        chat.invoke("hello")
    assert writer.write(plan) == "Your order #W1234567 is delivered."
    assert writer.stats.fallback == 1 and writer.stats.llm == 0
