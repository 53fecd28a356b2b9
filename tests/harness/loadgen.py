"""A paced HTTP client for load tests, run as a script inside a client namespace.

    python loadgen.py URL RATE SECONDS OUTPUT

Sends request i at start + i/RATE (each on a new connection, ``Connection:
close``) from a pool of worker threads, whatever the earlier ones are doing, and
writes one JSON list per request to OUTPUT: [sent, done, ok, answer], times in
``time.time()`` seconds, answer the body's first line or the error. Pacing is
open-loop so a stalled haproxy shows up as failures, not as a lower rate.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

WORKERS = 48
TIMEOUT = 5.0


def request(host, port, path):
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        body = response.read().decode(errors="replace").strip()
        if response.status != 200:
            return False, "HTTP %d" % response.status
        return True, body
    except (OSError, http.client.HTTPException) as error:
        return False, "%s: %s" % (type(error).__name__, error)
    finally:
        connection.close()


def main(url, rate, seconds, output):
    parsed = urllib.parse.urlsplit(url)
    host, port, path = parsed.hostname, parsed.port or 80, parsed.path or "/"
    total = int(rate * seconds)
    start = time.time() + 0.2
    results = [None] * total
    next_index = [0]
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                index = next_index[0]
                if index >= total:
                    return
                next_index[0] += 1
            delay = start + index / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            sent = time.time()
            ok, answer = request(host, port, path)
            results[index] = [sent, time.time(), ok, answer]

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(output, "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
