"""A TCP proxy in the test's event loop, to cut and restore the path to PostgreSQL, or slow it down."""

import asyncio
import contextlib

# What a PostgreSQL client sends last when it closes a connection on purpose (the Terminate message).
POSTGRES_TERMINATE = b"X\x00\x00\x00\x04"


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        # Seconds to hold each chunk the server sends before passing it on.
        self.delay = 0.0
        self.accepted = 0
        # Silent: connections are accepted and kept open, but nothing PostgreSQL says reaches the client,
        # as with a server that hangs or a network that drops packets without resetting connections.
        self.silent = False
        # Connections the client closed with a Terminate message, as a pool does when it closes.
        self.terminated = 0
        self._server: asyncio.Server | None = None
        self._cuts = 0  # a connection accepted before a cut must not survive it
        self._writers: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and drop every open one, as a crashed or unreachable server would."""
        assert self._server is not None
        self._cuts += 1
        self._server.close()
        await self._server.wait_closed()
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    def silence(self) -> None:
        self.silent = True

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        if self._server is not None and self._server.is_serving():
            await self.cut()
        for pump in self._pumps:
            pump.cancel()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        cuts = self._cuts
        if self.silent:
            self._writers.add(client_writer)
            with contextlib.suppress(OSError):
                while await client_reader.read(65536):
                    pass  # swallowed: the server "never answers"
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        if self._cuts != cuts:  # cut while this connection was being set up
            client_writer.transport.abort()
            server_writer.transport.abort()
            return
        self.accepted += 1
        self._writers |= {client_writer, server_writer}
        for pump in (
            self._pump(client_reader, server_writer, from_client=True),
            self._pump(server_reader, client_writer, from_client=False),
        ):
            task = asyncio.create_task(pump)
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, from_client: bool) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await reader.read(65536):
                if from_client and chunk.endswith(POSTGRES_TERMINATE):
                    self.terminated += 1
                if not from_client and self.delay:
                    await asyncio.sleep(self.delay)
                if not from_client and self.silent:
                    continue
                writer.write(chunk)
                await writer.drain()
        writer.transport.abort()
        self._writers.discard(writer)
