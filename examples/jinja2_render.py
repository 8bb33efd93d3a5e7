"""Renders the same template and contexts as examples/bench_render.rs with Jinja2.

Usage: python3 jinja2_render.py TEMPLATE_FILE CONTEXTS_JSON OUTPUT_FILE ROUNDS
Prints one JSON line: {"version": ..., "best_ms": ..., "best_cpu_ms": ..., "rounds_ms": [...]}
(best_cpu_ms is the thread's CPU time, unaffected by other processes on a loaded machine).
The rendered messages (joined by NUL) go to OUTPUT_FILE so the caller can compare them.
"""
import json
import sys
import time

import jinja2


def main() -> None:
    template_file, contexts_file, output_file, rounds = sys.argv[1:5]
    with open(template_file, encoding="utf-8") as f:
        source = f.read()
    with open(contexts_file, encoding="utf-8") as f:
        contexts = json.load(f)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    template = env.from_string(source)
    times = []
    cpu = []
    out = []
    for _ in range(int(rounds)):
        start = time.perf_counter()
        cpu_start = time.thread_time()
        out = [template.render(ctx) for ctx in contexts]
        cpu.append((time.thread_time() - cpu_start) * 1000.0)
        times.append((time.perf_counter() - start) * 1000.0)
    with open(output_file, "w", encoding="utf-8") as f:
        f.write("\0".join(out))
    print(json.dumps({"version": jinja2.__version__, "best_ms": min(times), "best_cpu_ms": min(cpu), "rounds_ms": times}))


if __name__ == "__main__":
    main()
