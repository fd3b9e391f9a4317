"""A deployment on one machine: `cex router`, `cex worker` and `cex events` talking through a
real nats-server with JetStream. Each case checks one promise of the compile path: results
reach the client exactly once, whatever dies or restarts on the way."""

import asyncio
import json
import os
import signal
import subprocess
import threading
import time
import unittest
import uuid

from cexcluster import Cluster, free_port
from cexlib import CEX_BIN, asm_texts, wait_until

COMPILER = "g122"
SQUARE = "int square(int x) { return x * x; }\n"

# A compile that takes a few seconds: g++ evaluates the loop at compile time.
SLOW_SOURCE = """
constexpr unsigned long spin(unsigned long n) {
  unsigned long s = 0;
  for (unsigned long i = 0; i < n; ++i) s += i ^ (s >> 3);
  return s;
}
constexpr unsigned long kValue = spin(%d);
unsigned long value() { return kValue; }
// %s
"""
SLOW_OPTIONS = "-O1 -std=c++20 -fconstexpr-ops-limit=2000000000 -fconstexpr-loop-limit=2000000000"


def slow_request(iterations=500000):
    return {"source": SLOW_SOURCE % (iterations, uuid.uuid4()),
            "options": {"userArguments": SLOW_OPTIONS}}


def square_request(tag=""):
    return {"source": SQUARE + f"// {tag}\n", "options": {"userArguments": "-O2"}}


def route_queue(cluster, worker, env="prod"):
    cluster.admin("routing", "update", "--env", env, "--type", "queue",
                  "--from", f"http://127.0.0.1:{worker.port}")


def done_lines(workers, guid_part=""):
    return [line for w in workers for line in w.lines(r"worker job done guid=" + guid_part)]


def in_threads(fn, args_list):
    """Runs fn(*args) for each args on its own thread; returns the results in order."""
    results = [None] * len(args_list)

    def run(i, args):
        try:
            results[i] = fn(*args)
        except Exception as e:  # noqa: BLE001 - reported by the caller's assertions
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    return threads, results


def join_all(threads, timeout=120):
    for t in threads:
        t.join(timeout)


class OneEnvironment(unittest.TestCase):
    """One environment shared by the tests of a class: events gateway, one blue worker, one
    router."""

    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster().__enter__()
        cls.events = cls.cluster.events()
        cls.worker = cls.cluster.worker(cls.events)
        route_queue(cls.cluster, cls.worker)
        cls.router = cls.cluster.router(cls.events)

    @classmethod
    def tearDownClass(cls):
        cls.cluster.__exit__(None, None, None)


class PipelineTest(OneEnvironment):


    def test_json_result_matches_a_direct_compile(self):
        routed = self.router.compile_json(COMPILER, square_request("json"))
        direct = self.worker.compile_json(COMPILER, square_request("json"))
        self.assertEqual(routed.status, 200, routed.body[:300])
        self.assertEqual(routed.header("content-type"), "application/json; charset=utf-8")
        got, want = routed.json(), direct.json()
        self.assertEqual(got["code"], 0)
        self.assertNotIn("guid", got)
        self.assertEqual(asm_texts(got), asm_texts(want))
        self.assertEqual([a["source"] for a in got["asm"]], [a["source"] for a in want["asm"]])
        self.assertIn("imul", "\n".join(asm_texts(got)))

    def test_text_result_matches_a_direct_compile(self):
        routed = self.router.compile_text(COMPILER, SQUARE, query="options=-O2")
        direct = self.worker.compile_text(COMPILER, SQUARE, query="options=-O2")
        self.assertEqual(routed.status, 200)
        self.assertTrue(routed.header("content-type").startswith("text/plain"))
        self.assertEqual(routed.text, direct.text)
        self.assertIn("square(int):", routed.text)

    def test_env_prefix_and_options_preflight(self):
        r = self.router.request("POST", f"/prod/api/compiler/{COMPILER}/compile",
                                json.dumps(square_request("prefixed")),
                                {"Content-Type": "application/json", "Accept": "application/json"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["code"], 0)
        r = self.router.request("OPTIONS", f"/api/compiler/{COMPILER}/compile")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("access-control-allow-origin"), "*")

    def test_a_repeated_compile_never_reaches_a_queue(self):
        tag = str(uuid.uuid4())
        first = self.router.compile_json(COMPILER, square_request(tag)).json()
        time.sleep(0.3)  # the worker logs its job just after the answer went out
        jobs = len(done_lines([self.worker]))
        second = self.router.compile_json(COMPILER, square_request(tag)).json()
        self.assertFalse(first.get("retreivedFromCache", False))
        self.assertTrue(second["retreivedFromCache"])
        self.assertEqual(asm_texts(first), asm_texts(second))
        time.sleep(0.3)
        self.assertEqual(len(done_lines([self.worker])), jobs)

    def test_bad_requests_are_refused_before_the_queue(self):
        jobs = len(done_lines([self.worker]))
        r = self.router.compile_json("no-such-compiler", square_request())
        self.assertEqual(r.status, 404)
        r = self.router.compile_json(COMPILER, b'{"source": "int x;", "options": ')
        self.assertEqual(r.status, 400)
        r = self.router.request("GET", f"/api/compiler/{COMPILER}/compile")
        self.assertEqual(r.status, 405)
        time.sleep(0.3)
        self.assertEqual(len(done_lines([self.worker])), jobs)

    def test_one_mebibyte_source(self):
        padding = "// " + "x" * 1000 + "\n"
        source = SQUARE + padding * (1024 * 1024 // len(padding) + 1)
        self.assertGreater(len(source), 1024 * 1024)
        r = self.router.compile_json(COMPILER, {"source": source, "options": {"userArguments": "-O2"}})
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(r.json()["code"], 0)
        self.assertIn("imul", "\n".join(asm_texts(r.json())))

    def test_twenty_megabyte_result(self):
        # One .long line per element: the JSON result is far over 20 MB.
        values = ",".join(str(i * 7919 % 1000003) for i in range(400000))
        source = f"int table[] = {{{values}}};\nint* get() {{ return table; }}\n"
        r = self.router.compile_json(COMPILER, {"source": source,
                                                "options": {"userArguments": "-O0"}}, )
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertGreater(len(r.body), 20 * 1000 * 1000)
        result = r.json()
        self.assertEqual(result["code"], 0)
        longs = [t for t in asm_texts(result) if t.strip().startswith(".long")]
        self.assertEqual(len(longs), 400000)
        self.assertEqual(longs[1].split()[-1], str(7919))

    def test_router_and_worker_health(self):
        r = self.router.get("/healthcheck")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.json()["events"])
        self.assertEqual(self.worker.get("/healthcheck").status, 200)

    def test_clear_cache_needs_the_token(self):
        r = self.router.request("POST", "/admin/clear-cache")
        self.assertEqual(r.status, 403)


class AdminTest(unittest.TestCase):
    def test_routing_update_validate_status_lookup_clear(self):
        with Cluster() as c:
            events = c.events()
            worker = c.worker(events)
            source = f"http://127.0.0.1:{worker.port}"
            ids = [x["id"] for x in worker.get_json("/api/compilers?fields=id")]

            dry = c.admin("routing", "update", "--env", "beta", "--from", source, "--dry-run")
            self.assertIn(f"would add {len(ids)},", dry.stdout)
            self.assertEqual(c.admin("routing", "validate", "--env", "beta", "--from", source,
                                     check=False).returncode, 3)
            c.admin("routing", "update", "--env", "beta", "--from", source)
            self.assertEqual(c.admin("routing", "validate", "--env", "beta", "--from", source,
                                     check=False).returncode, 0)
            again = c.admin("routing", "update", "--env", "beta", "--from", source)
            self.assertIn(f"unchanged {len(ids)}", again.stdout)

            row = json.loads(c.admin("routing", "lookup", COMPILER, "--env", "beta").stdout)
            self.assertEqual((row["type"], row["queueName"]), ("queue", "beta"))
            status = c.admin("routing", "status", "--env", "all").stdout
            self.assertIn(f"beta\tqueue beta\t{len(ids)}", status)
            self.assertNotEqual(c.admin("routing", "lookup", "nope", "--env", "beta",
                                        check=False).returncode, 0)

            cleared = c.admin("routing", "clear", "--env", "beta")
            self.assertIn(f"remove {len(ids)}", cleared.stdout)
            self.assertNotEqual(c.admin("routing", "lookup", COMPILER, "--env", "beta",
                                        check=False).returncode, 0)

            self.assertEqual(c.admin("color", "get", "--env", "beta").stdout.strip(), "blue")
            c.admin("color", "set", "green", "--env", "beta")
            self.assertEqual(c.admin("color", "get", "--env", "beta").stdout.strip(), "green")
            self.assertNotEqual(c.admin("color", "set", "purple", "--env", "beta",
                                        check=False).returncode, 0)


    def test_reads_fail_when_nats_is_unreachable(self):
        nowhere = f"nats://127.0.0.1:{free_port()}"
        for args in (["color", "get", "--env", "prod"],
                     ["routing", "lookup", COMPILER, "--env", "prod"]):
            proc = subprocess.run([CEX_BIN, "admin", "--nats", nowhere] + args,
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 1, args)
            self.assertEqual(proc.stdout, "")
            self.assertIn("not connected", proc.stderr)


class EventsAbuseTest(OneEnvironment):
    """Bad peers on the events gateway do no harm to the compiles going through it."""


    def ws_url(self):
        return f"ws://127.0.0.1:{self.events.port}/prod"

    def compiles_still_work(self):
        r = self.router.compile_json(COMPILER, square_request(str(uuid.uuid4())))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["code"], 0)

    def test_result_published_before_the_subscription_is_delivered(self):
        import websockets

        async def run():
            guid = str(uuid.uuid4())
            async with websockets.connect(self.ws_url()) as publisher:
                await publisher.send(json.dumps({"guid": guid, "code": 0, "asm": [{"text": "early"}]}))
                await asyncio.sleep(0.3)
                async with websockets.connect(self.ws_url()) as subscriber:
                    await subscriber.send(f"subscribe: {guid}")
                    frames = [await asyncio.wait_for(subscriber.recv(), 5) for _ in range(2)]
                    result = [json.loads(f) for f in frames if f.startswith("{")]
                    self.assertEqual(len(result), 1, frames)
                    self.assertEqual(result[0]["asm"][0]["text"], "early")
                    await subscriber.send(f"ack: {guid}")
                    ack = await asyncio.wait_for(publisher.recv(), 5)
                    self.assertIn(guid, ack)

        asyncio.run(run())

    def test_malformed_frames_and_unknown_guids(self):
        import websockets

        async def run():
            async with websockets.connect(self.ws_url()) as ws:
                for frame in ["", "{", "subscribe:", "subscribe: " + "x" * 5000, "ack: nobody",
                              "unsubscribe: nobody", "{\"guid\": 5}", "\x00\xff garbage", "ping"]:
                    await ws.send(frame)
                await ws.send(b"\x00\x01binary")
                await asyncio.sleep(0.3)

        try:
            asyncio.run(run())
        except Exception:  # noqa: BLE001 - the gateway may close a hostile connection
            pass
        self.compiles_still_work()
        self.assertEqual(self.events.get("/healthcheck").status, 200)

    def test_flood_of_subscriptions(self):
        import websockets

        async def run():
            replies = {}
            async with websockets.connect(self.ws_url()) as ws:
                for _ in range(20000):
                    await ws.send(f"subscribe: {uuid.uuid4()}")
                while sum(replies.values()) < 20000:
                    kind = (await asyncio.wait_for(ws.recv(), 10)).split(":")[0]
                    replies[kind] = replies.get(kind, 0) + 1
            return replies

        replies = asyncio.run(run())
        # One peer holds at most 10,000 subscriptions; the rest are refused, one by one.
        self.assertEqual(replies, {"subscribed": 10000, "subscribe failed": 10000})
        self.compiles_still_work()

    def test_a_peer_that_stops_reading(self):
        import websockets
        guid = str(uuid.uuid4())
        stop = threading.Event()

        async def stall():
            async with websockets.connect(self.ws_url(), max_size=None, close_timeout=1) as ws:
                await ws.send(f"subscribe: {guid}")
                ws.transport.pause_reading()
                # Results for the stalled peer pile up on the gateway's side.
                async with websockets.connect(self.ws_url()) as publisher:
                    blob = "x" * 500000
                    for i in range(40):
                        await publisher.send(json.dumps({"guid": guid, "n": i, "pad": blob}))
                while not stop.is_set():
                    await asyncio.sleep(0.1)

        t = threading.Thread(target=lambda: asyncio.run(stall()), daemon=True)
        t.start()
        time.sleep(1.5)
        try:
            self.compiles_still_work()
            self.compiles_still_work()
        finally:
            stop.set()
            t.join(10)


class WorkerKilledTest(unittest.TestCase):
    def test_job_of_a_killed_worker_is_finished_by_another(self):
        with Cluster() as c:
            events = c.events()
            first = c.worker(events, extra=["--consumers", "1", "--lease-seconds", "3"])
            route_queue(c, first)
            router = c.router(events, extra=["--lease-seconds", "3"])
            threads, results = in_threads(lambda: router.compile_json(COMPILER, slow_request()),
                                          [()])
            time.sleep(1.0)  # the only worker has taken the job and is compiling
            second = c.worker(events, extra=["--consumers", "1", "--lease-seconds", "3"])
            first.kill()
            join_all(threads)
            r = results[0]
            self.assertNotIsInstance(r, Exception)
            self.assertEqual(r.status, 200, r.body[:300])
            self.assertEqual(r.json()["code"], 0)
            self.assertIn("value()", "\n".join(asm_texts(r.json())))
            # The worker logs a job once the router's ack reached it, just after the answer.
            wait_until(lambda: done_lines([first, second]), 5)
            time.sleep(0.5)
            done = done_lines([first, second])
            self.assertEqual(len(done), 1, done)
            self.assertIn("delivery=2", done[0])


class WorkerDrainTest(unittest.TestCase):
    def test_sigterm_finishes_the_job_in_flight_then_exits(self):
        with Cluster() as c:
            events = c.events()
            worker = c.worker(events, extra=["--consumers", "1", "--drain-seconds", "30"])
            route_queue(c, worker)
            router = c.router(events)
            threads, results = in_threads(lambda: router.compile_json(COMPILER, slow_request()),
                                          [()])
            time.sleep(1.0)  # compiling now
            worker.proc.send_signal(signal.SIGTERM)
            join_all(threads)
            self.assertEqual(results[0].status, 200, results[0].body[:300])
            self.assertEqual(results[0].json()["code"], 0)
            self.assertEqual(worker.proc.wait(30), 0)
            self.assertEqual(len(done_lines([worker])), 1)

    def test_past_the_drain_window_the_job_goes_to_another_worker(self):
        with Cluster() as c:
            events = c.events()
            first = c.worker(events, extra=["--consumers", "1", "--drain-seconds", "0"])
            route_queue(c, first)
            router = c.router(events)
            threads, results = in_threads(lambda: router.compile_json(COMPILER, slow_request()),
                                          [()])
            time.sleep(1.0)
            second = c.worker(events, extra=["--consumers", "1"])
            first.proc.send_signal(signal.SIGTERM)
            join_all(threads)
            self.assertEqual(results[0].status, 200, results[0].body[:300])
            self.assertEqual(results[0].json()["code"], 0)
            self.assertEqual(first.proc.wait(30), 0)
            self.assertTrue(wait_until(lambda: done_lines([second]), 5))
            self.assertEqual(done_lines([first]), [])
            self.assertIn("delivery=2", done_lines([second])[0])


class TwoGatewaysTest(unittest.TestCase):
    def test_worker_and_router_on_different_gateways(self):
        with Cluster() as c:
            near = c.events(name="events-near")
            far = c.events(name="events-far")
            worker = c.worker(far)
            route_queue(c, worker)
            router = c.router(near)
            for i in range(3):
                r = router.compile_json(COMPILER, square_request(f"across-{i}"))
                self.assertEqual(r.status, 200, r.body[:300])
                self.assertEqual(r.json()["code"], 0)
            self.assertTrue(wait_until(lambda: len(done_lines([worker])) == 3, 5))
            self.assertTrue(all("acked=true" in line for line in done_lines([worker])))


class GatewayRestartTest(unittest.TestCase):
    def test_requests_in_flight_survive_a_gateway_restart(self):
        with Cluster() as c:
            port = free_port()
            events = c.events(port=port)
            worker = c.worker(events, extra=["--consumers", "2"])
            route_queue(c, worker)
            router = c.router(events)
            threads, results = in_threads(
                lambda: router.compile_json(COMPILER, slow_request(250000)), [()] * 3)
            time.sleep(0.7)
            events.kill()
            time.sleep(0.5)
            events.start()
            join_all(threads)
            for r in results:
                self.assertNotIsInstance(r, Exception)
                self.assertEqual(r.status, 200, r.body[:300])
                self.assertEqual(r.json()["code"], 0)
            self.assertTrue(wait_until(lambda: router.get("/healthcheck").status == 200, 10))


class ColourSwitchTest(unittest.TestCase):
    def test_twenty_requests_a_second_while_the_colour_switches(self):
        with Cluster() as c:
            events = c.events()
            blue = c.worker(events, colour="blue")
            green = c.worker(events, colour="green")
            route_queue(c, blue)
            router = c.router(events)
            c.admin("color", "set", "blue", "--env", "prod")
            results = []
            threads = []
            switched_at = None
            start = time.monotonic()
            for i in range(120):  # six seconds at twenty a second
                while time.monotonic() < start + i / 20:
                    time.sleep(0.005)
                if i == 40:
                    c.admin("color", "set", "green", "--env", "prod")
                    switched_at = time.monotonic()
                t, r = in_threads(lambda n=i: router.compile_json(COMPILER, square_request(f"c{n}")), [()])
                threads += t
                results.append(r)
            join_all(threads)
            time.sleep(0.5)  # workers log each job just after its answer went out
            statuses = [r[0].status if not isinstance(r[0], Exception) else repr(r[0]) for r in results]
            self.assertEqual(statuses, [200] * 120)
            self.assertTrue(all(r[0].json()["code"] == 0 for r in results))
            self.assertGreater(len(done_lines([blue])), 0)
            self.assertGreater(len(done_lines([green])), 0)
            # Within a moment of the switch, every new job goes to green.
            self.assertIsNotNone(switched_at)
            self.assertEqual(c.admin("color", "get", "--env", "prod").stdout.strip(), "green")
            late = [r for i, r in enumerate(results) if start + i / 20 > switched_at + 0.5]
            self.assertGreater(len(late), 40)
            blue_jobs = len(done_lines([blue]))
            self.assertLessEqual(blue_jobs, 60)


class UrlRouteTest(unittest.TestCase):
    def test_url_routes_forward_compile_and_cmake_as_they_came(self):
        with Cluster() as c:
            events = c.events()
            prod_worker = c.worker(events)
            gpu_worker = c.worker(events, env="gpu")
            route_queue(c, prod_worker)
            c.admin("routing", "update", "--env", "gpu", "--type", "url",
                    "--url-base", f"http://127.0.0.1:{gpu_worker.port}",
                    "--from", f"http://127.0.0.1:{gpu_worker.port}")
            router = c.router(events)
            row = json.loads(c.admin("routing", "lookup", COMPILER, "--env", "gpu").stdout)
            self.assertEqual(row["type"], "url")

            r = router.request("POST", f"/gpu/api/compiler/{COMPILER}/compile",
                               json.dumps(square_request("gpu")),
                               {"Content-Type": "application/json", "Accept": "application/json",
                                "Connection": "keep-alive"})
            self.assertEqual(r.status, 200, r.body[:300])
            self.assertEqual(r.json()["code"], 0)
            self.assertIn("imul", "\n".join(asm_texts(r.json())))
            self.assertEqual(done_lines([prod_worker, gpu_worker]), [])  # not queued

            r = router.request("POST", f"/gpu/api/compiler/{COMPILER}/cmake",
                               json.dumps({"source": "", "files": [], "options": {}}),
                               {"Content-Type": "application/json", "Accept": "application/json"})
            self.assertEqual(r.status, 200, r.body[:300])
            self.assertIn("Builds with cmake", r.json()["stderr"][0]["text"])

            r = router.compile_json(COMPILER, square_request("prod"))
            self.assertEqual(r.status, 200)
            self.assertTrue(wait_until(lambda: len(done_lines([prod_worker])) == 1, 5))


class RouterRestartTest(unittest.TestCase):
    def test_router_restarted_under_load(self):
        with Cluster() as c:
            events = c.events()
            worker = c.worker(events, extra=["--consumers", "2"])
            route_queue(c, worker)
            port = free_port()
            router = c.router(events, port=port, extra=["--drain-seconds", "0"])
            threads, results = in_threads(
                lambda: router.compile_json(COMPILER, slow_request(400000)), [()] * 2)
            time.sleep(0.8)
            router.stop()  # SIGTERM with no drain: waiting requests are answered at once
            join_all(threads)
            for r in results:
                self.assertNotIsInstance(r, Exception)
                self.assertEqual(r.status, 503, r.body[:300])
                self.assertIsNotNone(r.header("retry-after"))
                self.assertTrue(r.json()["error"])
            router.start()
            self.assertEqual(router.port, port)
            for i in range(5):
                r = router.compile_json(COMPILER, square_request(f"after-{i}"))
                self.assertEqual(r.status, 200, r.body[:300])
                self.assertEqual(r.json()["code"], 0)


class WorkersStoppedTest(unittest.TestCase):
    def test_backlog_answers_503_and_expired_jobs_are_never_compiled(self):
        with Cluster() as c:
            events = c.events()
            worker = c.worker(events)
            route_queue(c, worker)
            router = c.router(events, extra=["--backlog", "3", "--wait-seconds", "2"])
            worker.stop()
            threads, results = in_threads(
                lambda n: router.compile_json(COMPILER, square_request(f"backlog-{n}")),
                [(i,) for i in range(3)])
            join_all(threads)
            self.assertEqual([r.status for r in results], [408] * 3)
            time.sleep(0.5)  # the router's view of the queue is refreshed every 250 ms
            started = time.monotonic()
            r = router.compile_json(COMPILER, square_request("refused"))
            self.assertLess(time.monotonic() - started, 1.0)
            self.assertEqual(r.status, 503, r.body[:300])
            self.assertEqual(r.header("retry-after"), "5")

            revived = c.worker(events)
            self.assertTrue(wait_until(lambda: len(revived.lines("worker job expired")) == 3, 15))
            self.assertEqual(done_lines([revived]), [])
            time.sleep(0.5)  # past the router's 250 ms view of the queue
            r = router.compile_json(COMPILER, square_request("served again"))
            self.assertEqual(r.status, 200)
            self.assertTrue(wait_until(lambda: len(done_lines([revived])) == 1, 5))


if __name__ == "__main__":
    unittest.main(verbosity=2)
