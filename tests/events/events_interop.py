"""A foreign client of a cex events gateway, written with Python's websockets package.

Usage: events_interop.py MODE PORT [GUID]
  protocol  subscriber and publisher on two connections, frame by frame
  worker    publishes a result for GUID and waits for its ack
  router    subscribes to GUID, takes the result, acknowledges it and prints it
Exits 0 when everything went as the protocol says, 1 otherwise.
"""

import asyncio
import json
import sys

import websockets


async def expect(connection, wanted):
    got = await connection.recv()
    if got != wanted:
        raise AssertionError(f"expected {wanted!r}, got {got!r}")


async def protocol(url):
    async with websockets.connect(url) as sub, websockets.connect(url) as pub:
        await sub.send("ping")
        await expect(sub, "pong")
        await sub.send("nonsense")
        await expect(sub, "unknown text message")
        await sub.send('{"no":"guid"}')
        await expect(sub, "unknown object message")
        await sub.send("subscribe: py-1")
        await expect(sub, "subscribed: py-1")
        result = json.dumps({"guid": "py-1", "code": 0, "stdout": [{"text": "h\u00e9llo"}]})
        await pub.send(result)
        await expect(sub, result)
        await sub.send("ack: py-1")
        ack = json.loads(await pub.recv())
        if ack.get("type") != "ack" or ack.get("guid") != "py-1" or not ack.get("acknowledgedBy"):
            raise AssertionError(f"bad ack {ack!r}")
    print("protocol ok")


async def worker(url, guid):
    async with websockets.connect(url) as connection:
        await connection.send(json.dumps({"guid": guid, "code": 0, "from": "python"}))
        ack = json.loads(await connection.recv())
        if ack.get("type") != "ack" or ack.get("guid") != guid:
            raise AssertionError(f"bad ack {ack!r}")
    print("acked")


async def router(url, guid):
    async with websockets.connect(url) as connection:
        await connection.send(f"subscribe: {guid}")
        await expect(connection, f"subscribed: {guid}")
        result = await connection.recv()
        if json.loads(result).get("guid") != guid:
            raise AssertionError(f"bad result {result!r}")
        await connection.send(f"ack: {guid}")
        await connection.send("ping")
        await expect(connection, "pong")
    print(result)


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    url = f"ws://127.0.0.1:{port}/prod"
    modes = {
        "protocol": lambda: protocol(url),
        "worker": lambda: worker(url, sys.argv[3]),
        "router": lambda: router(url, sys.argv[3]),
    }
    try:
        asyncio.run(asyncio.wait_for(modes[mode](), 20))
    except Exception as error:  # any failure is the test's failure
        print(f"interop failed: {error!r}")
        sys.exit(1)


if __name__ == "__main__":
    main()
