"""The benchmarks' open-loop sender against a real local HTTP server (asyncio, loopback)."""

from __future__ import annotations

import asyncio

from bench.support.http_sender import Sender

ANSWERS = {
    b"/plain": b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok",
    b"/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    b"/shed": b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n",
    b"/close": b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
}


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers by path; /stall never answers; the request body (Content-Length) is read."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        if not head:
            break
        path = head.split(b" ", 2)[1]
        length = next(
            int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )  # fmt: skip
        await reader.readexactly(length)
        if path == b"/stall":
            continue
        writer.write(ANSWERS[path])
        await writer.drain()
        if path == b"/close":
            writer.close()
            return


async def _send_all(port: int, path: str, count: int, timeout_s: float = 5.0) -> list[tuple]:
    sender = Sender(f"http://127.0.0.1:{port}{path}", timeout_s=timeout_s)
    answers: list[tuple] = []
    finished = asyncio.get_running_loop().create_future()

    def done(status: int, retry_after: float, _at: float) -> None:
        answers.append((status, retry_after))
        if len(answers) == count:
            finished.set_result(None)

    for n in range(count):
        sender.send(sender.request({"webhook-id": f"m-{n}"}, b'{"n": 1}'), done)
        await asyncio.sleep(0.001)
    await asyncio.wait_for(finished, 10)
    opened = sender.connections_opened
    sender.close()
    return [*answers, ("opened", opened)]


def test_statuses_retry_after_keep_alive_and_timeouts() -> None:
    async def main() -> dict[str, list[tuple]]:
        server = await asyncio.start_server(_serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            return {p: await _send_all(port, p, 20, 0.5 if p == "/stall" else 5.0)
                    for p in ("/plain", "/chunked", "/shed", "/close", "/stall")}  # fmt: skip
        finally:
            server.close()

    found = asyncio.run(main())
    assert found["/plain"][:-1] == [(202, 1.0)] * 20
    assert found["/plain"][-1][1] < 20  # keep-alive: connections are reused
    assert found["/chunked"][:-1] == [(200, 1.0)] * 20
    assert found["/shed"][:-1] == [(503, 3.0)] * 20
    assert found["/close"][:-1] == [(202, 1.0)] * 20
    assert found["/close"][-1] == ("opened", 20)  # the server closed each one
    assert found["/stall"][:-1] == [(-1, 1.0)] * 20  # no answer within the timeout: lost
