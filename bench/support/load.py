"""Load generators for signed webhooks: wrk (closed loop) and an asyncio open-loop generator.

Every request carries a unique ``webhook-id`` (a repeated one would take the duplicate fast path)
and a fresh Standard Webhooks signature. HMAC is not available in wrk's Lua, so requests are
signed up front and handed to wrk as a data file that each wrk thread reads in ``init``.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.support.http_sender import Done, Sender, run
from core.signing import sign_standard

CLIENT_TIMEOUT_S = 5.0
WINDOW_S = 10
"""Windows of an open-loop run whose p99s are reported as well (the worst shows a stall)."""
BODY = b'{"type": "build.finished", "ok": true, "build": {"id": 4711, "branch": "main"}}'

WRK_LUA = r"""
-- Pre-signed webhooks: line 1 path, line 2 body, then "id timestamp signature" per request.
local ids, stamps, sigs, n, path, body = {}, {}, {}, 0, nil, nil
local tid, nthreads, i = 0, 1, 0
local threads = {}
accepted, other = 0, 0  -- globals: done() reads them through thread:get

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads - 1)
end

function init(args)
  tid, nthreads = tonumber(wrk.thread:get("tid")), tonumber(args[2])
  local f = assert(io.open(args[1], "r"))
  path, body = f:read("*l"), f:read("*l")
  for line in f:lines() do
    local a, b, c = line:match("^(%S+) (%S+) (%S+)$")
    n = n + 1; ids[n], stamps[n], sigs[n] = a, b, c
  end
  f:close()
  i = tid
end

function request()
  i = i + nthreads
  local k = ((i - 1) % n) + 1  -- wraps only if the file runs out (then 200 duplicates show up)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json", ["webhook-id"] = ids[k],
    ["webhook-timestamp"] = stamps[k], ["webhook-signature"] = sigs[k]}, body)
end

function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do a = a + t:get("accepted"); o = o + t:get("other") end
  io.write(string.format("ACCEPTED %d OTHER %d\n", a, o))
end
"""


@dataclass
class Signed:
    """One pre-signed request."""

    msg_id: str
    stamp: int
    signature: str


def sign_many(secret: str, prefix: str, count: int, body: bytes = BODY) -> list[Signed]:
    """``count`` signed requests with unique ids ``<prefix>-<n>``, stamped now."""
    now = int(time.time())
    return [
        Signed(f"{prefix}-{n}", now, sign_standard(secret, f"{prefix}-{n}", now, body))
        for n in range(count)
    ]


@dataclass
class Result:
    """Throughput and latency of one load run (latencies in ms)."""

    rps: float
    p50_ms: float
    p99_ms: float
    accepted: int
    other: int
    send_lag_p99_ms: float = 0.0
    generator_cpu: float = 0.0
    """The open-loop sender's CPU, as a fraction of one core over the run."""
    generator_cpu_ms: float = 0.0
    """The open-loop sender's CPU ms per request."""
    shed: int = 0
    """503 answers (admission control: the sender retries later)."""
    lost: int = 0
    """Requests without an answer (given up after CLIENT_TIMEOUT_S, or a connection error)."""
    rate: float = 0.0
    """The arrival rate asked for (open loop)."""
    shed_p99_ms: float = float("nan")
    """p99 of the 503 answers alone: shedding is only useful when it is fast."""
    accepted_ids: list[str] | None = field(default=None, repr=False)
    """The ``webhook-id`` of every 202 (open loop), to check each one is durable."""
    window_p99_ms: list[float] = field(default_factory=list, repr=False)
    """p99 of each WINDOW_S of the schedule (open loop; a last partial window is left out)."""


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def parse_wrk(out: str) -> Result:
    """Requests/s, p50, p99 and 202/other counts from wrk ``--latency`` output and our Lua."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    pct = {
        m[1]: _ms(m[2], m[3]) for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\b", out, re.M)
    }
    counts = re.search(r"ACCEPTED (\d+) OTHER (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(n) for n in sock.groups()) if sock else 0
    accepted, other = (int(counts[1]), int(counts[2])) if counts else (0, 0)
    return Result(rps, pct["50"], pct["99"], accepted, other + errors)


def run_wrk(
    base: str, path: str, reqs: list[Signed], workdir: Path, connections: int, duration_s: int
) -> Result:
    """wrk with 2 threads and ``connections`` connections for ``duration_s`` seconds."""
    data = workdir / "requests.txt"
    lines = [path, BODY.decode(), *(f"{r.msg_id} {r.stamp} {r.signature}" for r in reqs)]
    data.write_text("\n".join(lines) + "\n")
    script = workdir / "signed.lua"
    script.write_text(WRK_LUA)
    argv = [
        "wrk", "-t2", f"-c{connections}", f"-d{duration_s}s", "--latency", "-s", str(script),
        base, "--", str(data), "2",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-800:]}")
    return parse_wrk(done.stdout)


async def _open_loop(url: str, reqs: list[Signed], rate: float) -> Result:
    """Send ``reqs`` at a fixed arrival rate; latency counts from the scheduled send time.

    Every request is built as bytes before the run (bench/support/http_sender.py: the sender
    shares the two CPUs with the service it measures, so it must spend little per request).
    """
    n_req = len(reqs)
    latencies = np.zeros(n_req)
    lags = np.zeros(n_req)
    statuses = np.zeros(n_req, dtype=int)
    sender = Sender(url, max_connections=512, timeout_s=CLIENT_TIMEOUT_S)
    payloads = [sender.request(signed_headers(req), BODY) for req in reqs]
    finished = asyncio.get_running_loop().create_future()
    left = n_req

    def answer(n: int, due: float) -> Done:
        def done(status: int, _retry_after: float, at: float) -> None:
            nonlocal left
            statuses[n], latencies[n] = status, at - due
            left -= 1
            if not left and not finished.done():
                finished.set_result(None)

        return done

    cpu0, start = time.process_time(), time.perf_counter() + 0.05
    for n, payload in enumerate(payloads):
        due = start + n / rate
        now = time.perf_counter()
        if due > now:
            await asyncio.sleep(due - now)
            now = time.perf_counter()
        lags[n] = now - due
        sender.send(payload, answer(n, due))
    if n_req:
        await finished
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    sender.close()
    accepted = int((statuses == 202).sum())
    return Result(
        rps=n_req / wall, p50_ms=float(np.percentile(latencies, 50) * 1e3),
        p99_ms=float(np.percentile(latencies, 99) * 1e3), accepted=accepted,
        other=n_req - accepted, send_lag_p99_ms=float(np.percentile(lags, 99) * 1e3),
        generator_cpu=cpu / wall, generator_cpu_ms=cpu * 1e3 / max(n_req, 1),
        shed=int((statuses == 503).sum()), lost=int((statuses == -1).sum()), rate=rate,
        shed_p99_ms=float(np.percentile(latencies[statuses == 503], 99) * 1e3)
        if (statuses == 503).any() else float("nan"),
        accepted_ids=[r.msg_id for r, s in zip(reqs, statuses, strict=True) if s == 202],
        window_p99_ms=_window_p99s(latencies, rate),
    )  # fmt: skip


def _window_p99s(latencies: np.ndarray, rate: float) -> list[float]:
    """p99 (ms) of each whole WINDOW_S of a fixed-rate schedule, in order."""
    per = int(rate * WINDOW_S)
    if per < 1:
        return []
    return [
        float(np.percentile(latencies[i : i + per], 99) * 1e3)
        for i in range(0, len(latencies) - per + 1, per)
    ]


def signed_headers(req: Signed) -> dict[str, str]:
    """The Standard Webhooks headers of one pre-signed request."""
    return {
        "Content-Type": "application/json", "webhook-id": req.msg_id,
        "webhook-timestamp": str(req.stamp), "webhook-signature": req.signature,
    }  # fmt: skip


def open_loop(url: str, reqs: list[Signed], rate: float) -> Result:
    """Blocking wrapper of the open-loop generator (on uvloop)."""
    return run(lambda: _open_loop(url, reqs, rate))  # type: ignore[return-value]
