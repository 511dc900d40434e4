"""Page benchmark: numboard's and TensorBoard's dashboards on the same logdir, in the same
headless Chromium (Debian's /usr/bin/chromium, driven by Playwright), side by side.

    .venv/bin/python benchmarks/page.py [--runs 20 --tags 10 --steps 5000] [--visits 4]
                                        [--rounds 3] [--logdir DIR]

Builds (once, cached) a logdir of runs × tags × steps scalars written by tensorboardX, starts
`board` and `tensorboard` on it (127.0.0.1, free ports), waits until both serve every point,
then, `rounds` times and alternating the two servers, opens a fresh browser profile (a
persistent context, as a user's browser is) at 1400×900 and visits the page `visits` times:
- numboard: milliseconds from navigation start until every chart on screen is drawn (the
  page's own `data-first-draw-ms`, set when plotly has drawn the last of them);
- TensorBoard (its Time Series dashboard): milliseconds from navigation start until the last
  `timeSeries` data response of the first screen ended, once the page went quiet. Its chart
  worker draws after that, so this is a lower bound of TensorBoard's drawn time.
Visit 1 of a profile is the cold one; the 2nd is the first repeat; from the 3rd on Chromium
also reuses the code V8 compiled (its code cache keeps code of scripts seen twice).
numboard only: the time a 20-run card takes to redraw after a smoothing change and after a
run is unchecked. Prints a markdown table with the medians and the TensorBoard/numboard
ratio. With many runs TensorBoard starts with every run unselected: its charts stay empty
and the table says so. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright
from tbx_logdir import build_logdir, free_port

VENV_BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 900}
TIMEOUT_MS = 180_000

# Milliseconds from a smoothing change (act "smoothing") or from unchecking the run named
# `act` to the card's next draw.
REDRAW_JS = """async ([sel, act]) => {
    const card = document.querySelector(sel);
    const before = Number(card.dataset.drawnAt || 0);
    const t0 = performance.now();
    if (act === 'smoothing') {
        const input = document.querySelector('#smoothing');
        input.value = String(Number(input.value) > 0.5 ? 0.3 : 0.8);
        input.dispatchEvent(new Event('input', {bubbles: true}));
    } else {
        document.querySelector(`#run-list li[data-run="${act}"] input`).click();
    }
    while (Number(card.dataset.drawnAt || 0) <= Math.max(before, t0)) {
        await new Promise(requestAnimationFrame);
    }
    return Number(card.dataset.drawnAt) - t0;
}"""


class Server:
    def __init__(self, name: str, argv: list[str], port: int) -> None:
        self.name, self.port = name, port
        self.url = f"http://127.0.0.1:{port}/"
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_servers(logdir: Path) -> list[Server]:
    port = free_port()
    numboard = Server("numboard", [str(VENV_BIN / "board"), "--logdir", str(logdir),
                                   "--port", str(port)], port)
    port = free_port()
    tensorboard = Server("TensorBoard", [str(VENV_BIN / "tensorboard"), "--logdir", str(logdir),
                                         "--port", str(port), "--host", "127.0.0.1"], port)
    return [numboard, tensorboard]


def wait_served(servers: list[Server], runs: int, tags: int, steps: int,
                timeout: float = 900) -> None:
    """Until both serve the last step of the last tag of the last run (TensorBoard keeps a
    1000-point sample of each series by default, always with its last point)."""
    last_run = f"run{runs - 1:0{max(2, len(str(runs - 1)))}d}"
    tag = f"tag{tags - 1:02d}"
    urls = {servers[0].url + f"api/scalars?run={last_run}&tag={tag}&max_points=4":
            lambda body: body["step"][-1] + 1,
            servers[1].url + f"data/plugin/scalars/scalars?run={last_run}&tag={tag}":
            lambda body: body[-1][1] + 1}
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=60) as client:
        for url, count in urls.items():
            while True:
                try:
                    response = client.get(url)
                    if response.status_code == 200 and count(response.json()) >= steps:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"{url} did not serve {steps} points in {timeout:.0f} s")
                time.sleep(0.2)


# Until the page's service worker is active (it registers once the page is idle and keeps
# the hashed static files with their compiled code), at most 15 s; false without one.
SW_READY_JS = """() => !navigator.serviceWorker ? false : Promise.race([
    navigator.serviceWorker.ready.then(() => true),
    new Promise((done) => setTimeout(() => done(false), 15000))])"""


def numboard_visit(page, url: str) -> float:
    """The first screen's drawn time; then, as a user's visit lasts longer than its first
    screen, until the page's service worker is active (a later visit is the repeat one)."""
    page.goto(url)
    page.wait_for_selector('#view-scalars[data-ready="1"]', timeout=TIMEOUT_MS)
    drawn = float(page.get_attribute("#view-scalars", "data-first-draw-ms"))
    page.evaluate(SW_READY_JS)
    return drawn


def tensorboard_visit(page, url: str, wait_ms: float) -> float:
    """NaN when no chart data came within `wait_ms` (with many runs, TensorBoard starts with
    every run unselected and its charts empty)."""
    page.goto(url + "#timeseries")
    try:
        page.wait_for_function(
            "() => performance.getEntriesByType('resource').some("
            "(e) => e.name.includes('timeSeries'))", timeout=wait_ms, polling=50)
    except PlaywrightTimeout:
        return math.nan
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    return page.evaluate("""Math.max(...performance.getEntriesByType('resource')
        .filter((e) => e.name.includes('timeSeries')).map((e) => e.responseEnd))""")


def redraws(page, url: str, tries: int = 5) -> dict[str, list[float]]:
    """numboard: redraw times of the first card after smoothing changes and run toggles."""
    numboard_visit(page, url)
    sel = ".scalar-card[data-state=drawn]"
    out = {"smoothing": [], "run": []}
    run = page.get_attribute("#run-list li[data-run]", "data-run")  # the first run
    for _ in range(tries):
        page.wait_for_selector(sel, timeout=TIMEOUT_MS)
        out["smoothing"].append(page.evaluate(REDRAW_JS, [sel, "smoothing"]))
        page.wait_for_timeout(600)  # the exact re-fetch after a smoothing change lands
        out["run"].append(page.evaluate(REDRAW_JS, [sel, run]))
        page.check(f'#run-list li[data-run="{run}"] input')  # again; not timed (it fetches)
        page.wait_for_timeout(600)
    return out


def measure(browser_type, servers: list[Server], visits: int, rounds: int,
            tb_wait_ms: float) -> dict:
    times = {s.name: [] for s in servers}
    visit = {"numboard": numboard_visit,
             "TensorBoard": lambda page, url: tensorboard_visit(page, url, tb_wait_ms)}
    for r in range(rounds):
        for server in servers if r % 2 == 0 else servers[::-1]:
            with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
                context = browser_type.launch_persistent_context(
                    profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                    viewport=VIEWPORT)
                row = []
                for _ in range(visits):
                    page = context.new_page()
                    row.append(visit[server.name](page, server.url))
                    page.close()
                if server.name == "numboard":
                    times["redraw"] = redraws(context.new_page(), server.url)
                context.close()
            times[server.name].append(row)
            print(f"  {server.name} round {r + 1}: " + ", ".join(f"{t:.0f}" for t in row) +
                  " ms", flush=True)
    return times


def table(times: dict, visits: int) -> str:
    def column(name: str, which: slice) -> float:
        return statistics.median(t for row in times[name] for t in row[which])

    rows = [("first screen drawn, cold (1st visit)", slice(0, 1)),
            ("first screen drawn, repeat (2nd visit)", slice(1, 2))]
    if visits > 2:
        which = "3rd visit" if visits == 3 else f"visits 3–{visits}"
        rows.append((f"first screen drawn, {which} (V8 code cache)", slice(2, None)))
    lines = ["| median ms from navigation start | numboard | TensorBoard | ratio |",
             "|---|---|---|---|"]
    for label, which in rows:
        ours, theirs = column("numboard", which), column("TensorBoard", which)
        if math.isnan(theirs):
            lines.append(f"| {label} | {ours:.0f} | no chart data (runs unselected) | |")
        else:
            lines.append(f"| {label} | {ours:.0f} | {theirs:.0f} | {theirs / ours:.1f}× |")
    for act, label in (("smoothing", "smoothing change"), ("run", "run unchecked")):
        ms = statistics.median(times["redraw"][act])
        lines.append(f"| first card (every run drawn) redrawn after a {label} | {ms:.0f} | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--tags", type=int, default=10)
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--visits", type=int, default=4, help="page loads per browser profile")
    p.add_argument("--rounds", type=int, default=3, help="fresh profiles per server")
    p.add_argument("--logdir", type=Path, default=None,
                   help="where to build the logdir (default: /tmp/numboard-bench-logdir, "
                   "with the sizes appended when they are not 20×10×5000)")
    p.add_argument("--tb-wait", type=float, default=60,
                   help="seconds to wait for TensorBoard's first chart data per visit")
    args = p.parse_args(argv)
    logdir = args.logdir or Path("/tmp/numboard-bench-logdir")
    if args.logdir is None and (args.runs, args.tags, args.steps) != (20, 10, 5000):
        logdir = logdir.with_name(f"{logdir.name}-{args.runs}x{args.tags}x{args.steps}")
    logdir = build_logdir(logdir, args.runs, args.tags, args.steps)
    print(f"logdir {logdir}: {args.runs} runs × {args.tags} tags × {args.steps} steps, "
          f"written by tensorboardX", flush=True)
    servers = start_servers(logdir)
    try:
        wait_served(servers, args.runs, args.tags, args.steps)
        with sync_playwright() as playwright:
            times = measure(playwright.chromium, servers, args.visits, args.rounds,
                            args.tb_wait * 1000)
    finally:
        for server in servers:
            server.stop()
    print(f"\n{args.runs} runs × {args.tags} tags × {args.steps} steps, Chromium "
          f"{VIEWPORT['width']}×{VIEWPORT['height']}, headless, --disable-gpu\n")
    print(table(times, args.visits))
    return 0


if __name__ == "__main__":
    sys.exit(main())
