"""Log lines: our own (written straight to the root handler's stream) and other libraries'
(through stdlib logging) are JSON alike, carry the bound request values, honour stdlib
levels per logger, mask secrets, and never interleave when threads write at once."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from casemgmt.observability import (
    bind_request,
    bind_request_values,
    configure_logging,
    get_logger,
)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    configure_logging("INFO", json=True)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    out = io.StringIO()
    handler.setStream(out)
    yield out
    logging.getLogger().handlers.clear()
    logging.getLogger("casemgmt.quiet").setLevel(logging.NOTSET)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_our_lines_and_foreign_lines_carry_the_request_values(stream: io.StringIO) -> None:
    bind_request(request_id="r-1", correlation_id="c-1", method="POST", path="/v1/x", none=None)
    bind_request_values(key_id="k-1")
    get_logger("casemgmt.test").info("ours", status=201)
    logging.getLogger("uvicorn.error").warning("theirs %s", "too")
    ours, theirs = _lines(stream)
    for line in (ours, theirs):
        assert line["request_id"] == "r-1"
        assert line["correlation_id"] == "c-1"
        assert line["key_id"] == "k-1"
        assert "none" not in line
        assert str(line["timestamp"]).endswith("Z")
    assert ours["event"] == "ours"
    assert ours["status"] == 201
    assert ours["level"] == "info"
    assert ours["logger"] == "casemgmt.test"
    assert theirs["event"] == "theirs too"
    assert theirs["level"] == "warning"
    assert theirs["logger"] == "uvicorn.error"


def test_binding_a_request_replaces_the_previous_values(stream: io.StringIO) -> None:
    bind_request(request_id="first")
    bind_request_values(key_id="k-1")
    bind_request(request_id="second")
    get_logger("casemgmt.test").info("line")
    (line,) = _lines(stream)
    assert line["request_id"] == "second"
    assert "key_id" not in line


def test_an_explicit_value_wins_over_a_bound_one(stream: io.StringIO) -> None:
    bind_request(request_id="bound")
    get_logger("casemgmt.test").info("line", request_id="explicit")
    assert _lines(stream)[0]["request_id"] == "explicit"


def test_levels_are_stdlibs_per_logger(stream: io.StringIO) -> None:
    logging.getLogger("casemgmt.quiet").setLevel(logging.ERROR)
    get_logger("casemgmt.quiet").warning("dropped")
    get_logger("casemgmt.quiet").error("kept")
    get_logger("casemgmt.loud").debug("dropped too")
    assert [line["event"] for line in _lines(stream)] == ["kept"]
    assert not get_logger("casemgmt.quiet").isEnabledFor(logging.WARNING)


def test_secrets_are_masked_and_exceptions_rendered(stream: io.StringIO) -> None:
    try:
        raise ValueError("Key (secret)=(whsec_abc) already exists) DETAIL")
    except ValueError:
        get_logger("casemgmt.test").exception(
            "failed", token="cmk_abc_def", header="Bearer xyz.123", route="/v1/{case_id:str}"
        )
    (line,) = _lines(stream)
    text = json.dumps(line)
    for secret in ("whsec_abc", "cmk_abc_def", "xyz.123"):
        assert secret not in text
    assert line["token"] == "cmk_[redacted]"
    assert line["header"] == "Bearer [redacted]"
    assert line["route"] == "/v1/{case_id:str}"
    assert "ValueError" in str(line["exception"])
    assert line["level"] == "error"


def test_lines_from_many_threads_never_interleave(stream: io.StringIO) -> None:
    def write(n: int) -> None:
        for i in range(200):
            get_logger("casemgmt.test").info("ours", n=n, i=i, pad="x" * 300)
            logging.getLogger("other").warning("theirs %d %d %s", n, i, "y" * 300)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(_lines(stream)) == 4 * 200 * 2  # each line whole JSON
