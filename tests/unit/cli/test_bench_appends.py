"""The bench-appends proxy: passes every byte both ways, in order, later by its delay, and counts what clients send."""

import asyncio
from pathlib import Path

from services.cli.bench_appends import DelayingProxy


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(1024):
        writer.write(data.upper())
        await writer.drain()
    writer.close()


async def test_the_proxy_passes_messages_both_ways_later_and_counts_them(tmp_path: Path) -> None:
    socket_path = str(tmp_path / "echo.sock")
    server = await asyncio.start_unix_server(_echo, socket_path)
    async with server, DelayingProxy(socket_path, delay_s=0.02) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        answers = []
        for word in (b"ana", b"bob", b"zoe"):
            writer.write(word)
            answers.append(await reader.readexactly(3))
        writer.close()
        await writer.wait_closed()
        assert await reader.read() == b""  # the end passes through too
    assert answers == [b"ANA", b"BOB", b"ZOE"]
    assert proxy.sent == 3
