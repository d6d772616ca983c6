"""``minimax-async serve``: argument parsing, refusals, and a real process serving the fake."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading

import httpx
import pytest

from minimax_async._cli import cli


def test_no_subcommand_prints_help_and_returns_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a subcommand the CLI prints its help and exits with status 2."""
    assert cli.main([]) == 2
    assert "serve" in capsys.readouterr().out


def test_serve_options_parse() -> None:
    """Every documented ``serve`` option parses to its typed value."""
    options = ["--port", "0", "--rpm", "30", "--fault-rate", "0.25", "--latency", "0.5"]
    options += ["--seed", "9", "--api-key", "k", "--group-id", "g"]
    args = cli.build_parser().parse_args(["serve", *options])
    assert (args.host, args.port, args.rpm, args.fault_rate) == ("127.0.0.1", 0, 30, 0.25)
    assert (args.latency, args.seed, args.api_key, args.group_id) == (0.5, 9, "k", "g")


def test_serve_rpm_window_defaults_to_a_minute_and_takes_seconds() -> None:
    """``--rpm-window`` (for tests) is 60 s unless given, and takes fractional seconds."""
    parse = cli.build_parser().parse_args
    assert parse(["serve", "--rpm", "30"]).rpm_window == 60.0
    assert parse(["serve", "--rpm", "30", "--rpm-window", "2.5"]).rpm_window == 2.5


@pytest.mark.parametrize(
    "bad",
    [["--fault-rate", "1.5"], ["--rpm", "0"], ["--latency", "-1"], ["--rpm-window", "0"]],
)
def test_serve_rejects_out_of_range_options(bad: list[str]) -> None:
    """Out-of-range option values are usage errors (exit status 2)."""
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["serve", *bad])
    assert exit_info.value.code == 2


def test_serve_refuses_a_non_loopback_host(capsys: pytest.CaptureFixture[str]) -> None:
    """``serve`` only listens on loopback: another address exits with status 2."""
    assert cli.main(["serve", "--host", "192.0.2.1"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_serve_process_prints_where_to_connect_and_answers() -> None:
    """``python -m minimax_async serve --port 0`` prints the URL, key and GroupId, then serves."""
    command = [sys.executable, "-m", "minimax_async", "serve", "--port", "0"]
    command += ["--api-key", "cli-key", "--group-id", "cli-group", "--seed", "3"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None

    def read() -> None:
        for line in stdout:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        printed = {}
        while "MINIMAX_GROUP_ID" not in printed:
            line = lines.get(timeout=15).strip()
            if "=" in line:
                key, _, value = line.partition("=")
                printed[key] = value
        assert printed["MINIMAX_API_KEY"] == "cli-key"
        assert printed["MINIMAX_GROUP_ID"] == "cli-group"
        base_url = printed["MINIMAX_BASE_URL"]
        assert base_url.startswith("http://127.0.0.1:")
        assert not base_url.startswith("http://127.0.0.1:0/")
        with httpx.Client(base_url=base_url, timeout=10) as http:
            ok = http.post(
                "/threads/create",
                params={"GroupId": "cli-group"},
                headers={"Authorization": "Bearer cli-key"},
            )
            bad = http.post(
                "/threads/create",
                params={"GroupId": "cli-group"},
                headers={"Authorization": "Bearer nope"},
            )
        assert ok.json()["id"].startswith("thread_")
        assert bad.json()["base_resp"]["status_code"] == 1004
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()
