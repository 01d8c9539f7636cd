from fastapi.testclient import TestClient

from shopagent.agent.api.app import create_app
from shopagent.settings import Settings


def test_health_answers_before_warm_up_and_ready_waits(settings: Settings) -> None:
    app = create_app(settings, warm_up=False)
    runtime = app.state.runtime
    with TestClient(app) as client:
        assert client.get("/health").json()["status"] == "ok"
        pending = client.get("/ready")
        assert pending.status_code == 503
        assert {s["state"] for s in pending.json()["steps"]} == {"pending"}
        runtime.warm_up()
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.json()
        assert all(s["state"] == "done" for s in ready.json()["steps"])


def test_failed_step_keeps_service_unready_with_reason(settings: Settings) -> None:
    app = create_app(settings, warm_up=False)
    runtime = app.state.runtime

    def broken() -> None:
        raise RuntimeError("disk on fire")

    runtime.add_step("broken", broken)
    runtime.warm_up()
    with TestClient(app) as client:
        body = client.get("/ready").json()
    assert body["ready"] is False
    failed = [s for s in body["steps"] if s["state"] == "failed"]
    assert failed and "disk on fire" in failed[0]["error"]


def test_openapi_documents_probes(settings: Settings) -> None:
    schema = create_app(settings, warm_up=False).openapi()
    assert {"/health", "/ready"} <= set(schema["paths"])


def test_malloc_arenas_are_capped_on_glibc_and_left_alone_at_zero() -> None:
    import platform

    from shopagent.agent.runtime import limit_malloc_arenas

    assert limit_malloc_arenas(0) is False
    assert limit_malloc_arenas(2) is (platform.libc_ver()[0] == "glibc")
