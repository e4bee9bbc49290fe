"""A real SMTP server for the e-mail tests: listens on loopback and stores
each message it receives as a file in a folder, so a test reads what
arrived (and counts it).

    smtp_sink.py FOLDER [--port N] [--refuse]

Port 0 (the default) takes a free port. Once listening it prints
`listening on PORT` on standard output. With --refuse it answers every
message with a permanent 554 instead of storing it (a mail server that
refuses). Each message is written to a hidden file first and renamed, so a
reader never sees half of one. Runs until killed or its standard input
closes (so it ends with the test that started it).
"""

import argparse
import asyncio
import os
import sys
import time

from aiosmtpd.smtp import SMTP


class Folder:
    """The aiosmtpd handler: stores or refuses each message."""

    def __init__(self, folder: str, refuse: bool):
        self.folder = folder
        self.refuse = refuse
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "554 5.7.1 refused by the test sink"
        self.count += 1
        name = f"{time.time_ns()}-{self.count}.eml"
        tmp = os.path.join(self.folder, "." + name)
        with open(tmp, "wb") as f:
            f.write(b"X-Sink-Rcpt: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n")
            content = envelope.original_content or envelope.content
            f.write(content if isinstance(content, bytes) else content.encode())
        os.rename(tmp, os.path.join(self.folder, name))
        return "250 2.0.0 stored"


async def main() -> None:
    p = argparse.ArgumentParser(description="SMTP sink for the e-mail tests")
    p.add_argument("folder")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--refuse", action="store_true")
    args = p.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    handler = Folder(args.folder, args.refuse)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="sink.test"), "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on {port}", flush=True)
    # End when the test that started us goes away (its end of stdin closes).
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
