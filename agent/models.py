"""Every reply-writing LLM behind one LangChain chat-model interface.

``load_chat_model(settings)`` returns a LangChain ``BaseChatModel``:

* ``local``  — the bundled Qwen2.5 0.5B GGUF on llama.cpp, in process (:class:`LlamaCppChat`);
* ``openai`` — any OpenAI-compatible server by URL (vLLM, Ollama, llama.cpp server, OpenAI) via
  ``langchain_openai.ChatOpenAI``;
* ``none``   — no model: replies come from templates only (returns ``None``).

The model only phrases replies; what is said and done is decided in code (see ``writer.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from shopagent.registry import resolve_model
from shopagent.settings import Settings

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


def _to_chat(messages: list[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]


class ModelBusy(RuntimeError):
    """The local model is answering other shoppers; the caller falls back to the template."""


class LlamaCppChat(BaseChatModel):
    """A LangChain chat model over llama-cpp-python, loaded once per process.

    llama.cpp keeps the KV cache of the previous prompt and reuses its longest common prefix. The
    writer's prompt is the fixed system prompt plus one draft (no history), so every conversation
    shares the cached prefix and a reply pays prefill only for its draft (~25 tokens);
    :meth:`warm` fills that cache at start-up.

    One context answers one call at a time. A call that cannot have it within ``max_wait_s`` raises
    :class:`ModelBusy`, and the writer sends the template instead (counted as a fallback): under
    ``bench load`` with ten concurrent shoppers, an unbounded queue made every turn wait for all the
    replies ahead of it (p50 24 s, 0.1 turns/s), while the shop's answer was ready in milliseconds.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_threads: int = 2
    n_ctx: int = 4096
    max_tokens: int = 160
    temperature: float = 0.2
    seed: int = 7
    max_wait_s: float = 1.0
    _llama: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def _model(self) -> Any:
        if self._llama is None:
            from llama_cpp import Llama  # optional extra; imported only when the local model is used

            self._llama = Llama(
                model_path=self.model_path,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                seed=self.seed,
                verbose=False,
            )
        return self._llama

    def warm(self, messages: list[BaseMessage]) -> None:
        """Evaluate ``messages`` (the fixed system prompt) once, so the prefix cache already holds them
        and the first shopper's reply pays prefill only for its own draft (~2.5 s less on a busy box)."""
        with self._turn():
            self._model().create_chat_completion(messages=_to_chat(messages), max_tokens=1)

    def perf(self) -> dict[str, float]:
        """llama.cpp's own counters since load: prompt tokens evaluated (those the prefix cache did not
        cover) and tokens decoded, with the seconds each took; benchmarks report rates from them."""
        from llama_cpp import llama_perf_context

        data = llama_perf_context(self._model()._ctx.ctx)
        return {"prompt_tokens": data.n_p_eval, "prompt_s": data.t_p_eval_ms / 1000,
                "decode_tokens": data.n_eval, "decode_s": data.t_eval_ms / 1000}

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """Hold the one llama.cpp context, or raise ModelBusy after ``max_wait_s``."""
        if not self._lock.acquire(timeout=self.max_wait_s):
            raise ModelBusy(f"the local model stayed busy for {self.max_wait_s:g} s")
        try:
            yield
        finally:
            self._lock.release()

    def _completion(self, messages: list[BaseMessage], stop: list[str] | None, stream: bool) -> Any:
        return self._model().create_chat_completion(
            messages=_to_chat(messages),
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            stop=stop,
            stream=stream,
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._turn():
            result = self._completion(messages, stop, stream=False)
        text = result["choices"][0]["message"]["content"] or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._turn():
            for part in self._completion(messages, stop, stream=True):
                delta = part["choices"][0]["delta"].get("content")
                if delta:
                    if run_manager:
                        run_manager.on_llm_new_token(delta)
                    yield ChatGenerationChunk(message=AIMessageChunk(content=delta))


def load_chat_model(settings: Settings) -> BaseChatModel | None:
    """The configured reply model, or ``None`` for template-only replies."""
    if settings.llm == "none":
        return None
    if settings.llm == "openai":
        from langchain_openai import ChatOpenAI

        if not settings.llm_url:
            raise ValueError("SHOPAGENT_LLM=openai needs SHOPAGENT_LLM_URL (an OpenAI-compatible base URL)")
        return ChatOpenAI(
            base_url=settings.llm_url,
            api_key=settings.llm_api_key or "not-needed",
            model=settings.llm_model,
            temperature=0.2,
            timeout=settings.llm_timeout_s,
            max_retries=0,
        )
    folder = resolve_model(settings.llm_model, settings)
    path = folder if folder.is_file() else folder / "model.gguf"
    chat = LlamaCppChat(model_path=str(path), n_threads=settings.threads_llm)
    chat._model()  # load now (warm-up), not on the first shopper's turn
    return chat
