"""A hostile server never hangs a caller, eats its memory, or makes it raise a foreign error.

Each case runs in a fresh process (``tests/hostile.py``): a raw asyncio socket server on
loopback misbehaves, and a client with ``timeout=1`` (0.5 where a timeout is the outcome)
calls it under an outer guard of 10 s, over httpx (asyncio and trio) and over the aiohttp
adapter. The case must end in our own error of the right type (or the right result) before the
guard, and the process's peak resident memory must grow by at most 200 MB. Outcomes and
memory are asserted, never durations.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_GROWTH = 200 << 20


def run(case: str, backend: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.hostile", case, backend],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["outcome"] != "GuardTimeout", report
    assert report["peak_growth"] <= MAX_GROWTH, report
    return report


# asyncio and trio over httpx; aiohttp through its own adapter (asyncio).
ALL = ["asyncio", "trio", "aiohttp"]
ADAPTERS = ["asyncio", "aiohttp"]


@pytest.mark.parametrize("backend", ALL)
def test_a_body_dripped_a_byte_at_a_time_times_out_within_the_attempt_timeout(
    backend: str,
) -> None:
    """The attempt timeout bounds the whole answer, not each socket read."""
    report = run("drip", backend)
    assert report["outcome"] == "APITimeoutError"
    assert "attempt timeout of 0.5 s" in report["detail"]


@pytest.mark.parametrize("backend", ADAPTERS)
def test_a_1_gib_body_is_refused_from_its_content_length(backend: str) -> None:
    """An announced 1 GiB answer raises ResponseTooLargeError without being read."""
    report = run("one_gib", backend)
    assert report["outcome"] == "ResponseTooLargeError"
    assert report["limit"] == 32 << 20


@pytest.mark.parametrize("backend", ADAPTERS)
def test_an_endless_chunked_body_stops_at_max_response_bytes(backend: str) -> None:
    """A body with no length is counted while read and cut at the limit."""
    report = run("endless_chunked", backend)
    assert report["outcome"] == "ResponseTooLargeError"
    assert report["requests"] == 1  # not retried


@pytest.mark.parametrize("backend", ADAPTERS)
def test_a_gzip_bomb_stops_at_max_response_bytes_after_decompression(backend: str) -> None:
    """1 MiB inflating to 1 GiB is counted as it inflates and stops at the limit."""
    report = run("gzip_bomb", backend)
    assert report["outcome"] == "ResponseTooLargeError"
    assert "127.0.0.1" in report["detail"]


@pytest.mark.parametrize("backend", ALL)
def test_a_layered_gzip_bomb_never_inflates_past_the_limit_in_one_step(backend: str) -> None:
    """3 KB gzipped twice into 256 MiB ends in our error with memory flat.

    httpx inflated each layer of ``gzip, gzip`` whole, so the inner layer became 256 MiB
    in one step (+512 MB); the httpx adapter decodes a bounded piece at a time and stops
    at the limit. aiohttp reads only single codings: the body stays compressed, not JSON.
    """
    report = run("layered_gzip_bomb", backend)
    if backend == "aiohttp":
        assert report["outcome"] == "APIResponseValidationError"
    else:
        assert report["outcome"] == "ResponseTooLargeError"
        assert report["limit"] == 32 << 20


@pytest.mark.parametrize("backend", ADAPTERS)
def test_a_broken_gzip_body_is_a_connection_error_retried_for_reads(backend: str) -> None:
    """A decoding failure is APIConnectionError, and a chat call is retried (3 requests)."""
    report = run("broken_gzip", backend)
    assert report["outcome"] == "APIConnectionError"
    assert "decoded" in report["detail"]
    assert report["requests"] == 3


@pytest.mark.parametrize("backend", ALL)
def test_an_answer_that_is_not_http_is_a_connection_error_retried_for_reads(backend: str) -> None:
    """A status line the parser refuses is a broken answer on every backend (3 requests).

    aiohttp reports it as a ClientResponseError with a status of its own (400); it used to
    become UsageError, which is never retried and blamed the caller.
    """
    report = run("not_http", backend)
    assert report["outcome"] == "APIConnectionError"
    assert "the connection broke" in report["detail"]
    assert report["requests"] == 3


@pytest.mark.parametrize("backend", ALL)
def test_a_v2_stream_cut_before_its_final_frame_raises_incomplete_stream(backend: str) -> None:
    """A clean close before the aggregate frame is IncompleteStreamError with the 2 frames."""
    report = run("truncated_v2", backend)
    assert report["outcome"] == "IncompleteStreamError"
    assert report["frames_carried"] == 2


@pytest.mark.parametrize("backend", ADAPTERS)
def test_a_v1_stream_in_one_newline_framing_yields_every_frame(backend: str) -> None:
    """Frames separated by single newlines (one without ``data:``) all arrive, final included."""
    report = run("one_newline_v1", backend)
    assert report["outcome"] == "ok"
    assert report["frames"] == 2  # the two chunks; the third frame is stream.final
    assert report["final_reply"] == "aa"


@pytest.mark.parametrize("backend", ADAPTERS)
def test_keep_alive_comments_do_not_reset_the_read_timeout(backend: str) -> None:
    """A stream that only sends comments times out between data frames."""
    report = run("keepalive_comments", backend)
    assert report["outcome"] == "APITimeoutError"
    assert "no data frame arrived" in report["detail"]


@pytest.mark.parametrize("backend", ADAPTERS)
def test_total_timeout_bounds_a_stream_that_never_ends(backend: str) -> None:
    """Data frames forever, each in time, still end at ``total_timeout``."""
    report = run("endless_frames", backend)
    assert report["outcome"] == "APITimeoutError"
    assert "total timeout of 1.0 s" in report["detail"]


@pytest.mark.parametrize("backend", ALL)
def test_total_timeout_bounds_a_stream_whose_frames_come_faster_than_they_are_used(
    backend: str,
) -> None:
    """Frames always waiting in the buffer (no read ever waits) still end at ``total_timeout``."""
    report = run("frame_flood", backend)
    assert report["outcome"] == "APITimeoutError"
    assert "total timeout of 1.0 s" in report["detail"]


@pytest.mark.parametrize("backend", ADAPTERS)
def test_an_endless_stream_read_for_256_mib_keeps_memory_flat(backend: str) -> None:
    """A stream that never sends its final frame does not pile its frames up in the client."""
    report = run("endless_big_frames", backend)
    assert report["outcome"] == "ok", report
    assert report["read"] >= 256 << 20


@pytest.mark.parametrize("backend", ALL)
def test_streams_dropped_without_iteration_release_their_connections(backend: str) -> None:
    """20 dropped streams through a 4-connection pool: sockets close, later calls still work."""
    report = run("dropped_streams", backend)
    assert report["outcome"] == "ok", report
    assert report["closed_after_drop"] == 4
    assert report["requests"] == 21


@pytest.mark.parametrize("backend", ADAPTERS)
def test_a_300_mib_file_downloads_in_constant_memory(backend: str) -> None:
    """``files.download`` streams a file far larger than the memory budget to its sink."""
    report = run("big_download", backend)
    assert report["outcome"] == "ok", report
    assert report["returned"] == report["written"] == 300 << 20


@pytest.mark.parametrize("backend", ADAPTERS)
def test_a_download_that_stalls_times_out_between_pieces(backend: str) -> None:
    """A file body that stops arriving raises APITimeoutError after the read timeout."""
    report = run("stalled_download", backend)
    assert report["outcome"] == "APITimeoutError"
    if backend != "aiohttp":  # aiohttp's own socket read timeout fires first there
        assert "no piece of the body arrived for 0.5 s, after 1000 bytes" in report["detail"]
    assert "/v1/files/retrieve_content" in report["detail"]
