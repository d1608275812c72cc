"""Ember's studio against the MLflow UI in headless Chromium, on one experiment of 100,000 runs.

Usage (``make bench-studio`` runs it on the studio that ``make studio`` built)::

    .venv/bin/python benchmarks/studio.py [--runs 100000] [--repeat 5] [--points 100000]
        [--skip-mlflow] [--studio-dir DIR] [--markdown FILE] [--keep]

Both tools get the same data: one experiment of ``--runs`` runs (5 params, 5 metrics, 3 tags each,
written straight into each tool's SQLite tables) whose newest run holds a ``--points``-long metric
``loss`` logged through each tool's API. Each serves it from its own server on a loopback port
(``python -m ember.server``, ``mlflow server --workers 1``), both running for the whole benchmark.

For each tool and each page (the experiment's runs table, the chart of ``loss``), every repetition
opens a fresh browser context (cold cache), starts a clock, navigates, and polls the DOM on every
animation frame until the page shows the rendered content; it then reads the Resource Timing
entries of what the page loaded until then (bytes over the wire = ``transferSize``, headers
included; requests = navigation + resources completed). One unmeasured navigation per page warms
each server first. Medians are reported; the repetitions interleave the tools, so a busy moment of
the machine hits both. One screenshot per page and tool goes to ``test-artifacts/bench/``.

Until the studio's runs table and metric chart exist (their hooks ``data-testid="runs-table"`` /
``"metric-chart"`` with ``data-ready="true"`` are looked for in the served build), Ember's pages
are the placeholders and the report says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _bench_common import RESULT_PREFIX
from _studio_data import loss_series
from tracking import BENCH_DIR, MLFLOW_ENV, ROOT, BenchError, ensure_mlflow_venv, free_port, say, server

HERE = Path(__file__).resolve().parent
SHOTS = ROOT / "test-artifacts" / "bench"
DEFAULT_STUDIO = ROOT / "src" / "ember" / "server" / "studio_dist"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 900}
TARGET_S = 1.0  # Ember's target for both pages
READY_TIMEOUT_MS = 180_000
IDLE_TIMEOUT_MS = 15_000
SEED_TIMEOUT_S = 3600
MIN_ROWS = 10  # "the first page is rendered": at least this many run rows (or every run, if fewer)

# Runs in every page before its own scripts: a bigger Resource Timing buffer (the default 250
# entries would drop some of MLflow's chunks) and the sum of what was loaded so far.
NET_INIT = """
performance.setResourceTimingBufferSize(100000);
window.__benchNet = () => {
  const entries = [
    ...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource'),
  ];
  let bytes = 0, decoded = 0;
  const api = [];
  for (const e of entries) {
    bytes += e.transferSize || 0;
    decoded += e.decodedBodySize || 0;
    if (/\\/(api|ajax-api)\\//.test(e.name)) api.push([e.name, e.transferSize || 0]);
  }
  return {requests: entries.length, bytes, decoded, api};
};
"""

# A page is ready when its predicate returns an object (what it saw); the probe adds the network sums.
PROBE = "() => { const seen = (%s)(); return seen ? Object.assign(seen, window.__benchNet()) : false; }"

EMBER_TABLE = """() => {
  const table = document.querySelector('[data-testid="runs-table"][data-ready="true"]');
  const rows = document.querySelectorAll('[data-testid="runs-row"]').length;
  return table && rows >= %d ? {rows} : false;
}"""
EMBER_CHART = """() => {
  const chart = document.querySelector('[data-testid="metric-chart"][data-ready="true"]');
  return chart ? {points: Number(chart.getAttribute('data-points'))} : false;
}"""
# The placeholder pages: the experiment's (or run's) facts, and the "coming soon" note.
EMBER_PLACEHOLDER = """() => {
  const ok = document.querySelector('.page dl.facts') && document.querySelector('.placeholder-note');
  return ok ? {placeholder: true} : false;
}"""
MLFLOW_TABLE = """() => {
  const rows = document.querySelectorAll('.ag-root a[href*="/runs/"]').length;
  return rows >= %d ? {rows} : false;
}"""
# Plotly draws the series as one SVG path; "vertices" is how many points it drew after simplifying.
# MLflow's metric page first draws a sample of the series (get-history-bulk-interval, 320 points),
# then loads the full history in pages of 25,000 points, one after another, redrawing the chart and
# the Min/Max summary under it as each arrives. Stage 1: a line is drawn; stage 2 (the time reported):
# every page is in and the summary shows the series' minimum, which lies in the last page.
MLFLOW_LINE = """() => {
  const path = document.querySelector('.js-plotly-plot .scatterlayer path.js-line');
  const d = path && path.getAttribute('d');
  return d && d.length > 100 ? {vertices: (d.match(/[ML]/g) || []).length} : false;
}"""
MLFLOW_HISTORY_PAGE = 25_000
MLFLOW_ALL_POINTS = """() => {
  const line = (%s)();
  const pages = performance.getEntriesByType('resource').filter(e => e.name.includes('/get-history?')).length;
  return line && pages >= %d && document.body.textContent.includes('(step=%d)') ? line : false;
}"""


# -- data ----------------------------------------------------------------------------------------


@dataclass
class Target:
    """One tool, seeded and served: its URLs and what it said about itself."""

    tool: str
    base_url: str
    experiment_id: str
    run_id: str
    version: str
    seed: dict[str, Any]
    # page -> (url, predicates that must hold in turn; the last one is "rendered")
    pages: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    placeholder: set[str] = field(default_factory=set)


def seed_ember(work: Path, runs: int, points: int) -> dict[str, Any]:
    from _studio_ember import seed

    return seed(work / "ember-ws", runs_total=runs, points=points)


def seed_mlflow(python: Path, work: Path, runs: int, points: int) -> dict[str, Any]:
    folder = work / "mlflow"
    folder.mkdir()
    config = {
        "case": "seed",
        "db": str(folder / "mlflow.db"),
        "artifact_root": str(folder / "artifacts"),
        "runs": runs,
        "points": points,
    }
    log = work / "mlflow-seed.log"
    with open(log, "w") as err:
        proc = subprocess.run(
            [str(python), str(HERE / "_studio_mlflow.py"), json.dumps(config)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=work,
            env=os.environ | MLFLOW_ENV,
            check=False,
            timeout=SEED_TIMEOUT_S,
        )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not lines:
        raise BenchError(f"seeding MLflow failed ({proc.returncode}); see {log}")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])  # type: ignore[no-any-return]


def http_json(url: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.load(response)


def studio_hooks(studio_dir: Path) -> set[str]:
    """Which of the benchmark's hooks the served studio build has: "table", "chart"."""
    code = "".join(p.read_text(errors="replace") for p in (studio_dir / "assets").glob("*.js"))

    def has(name: str) -> bool:  # minified: any quote, backticks included
        return any(f"{q}{name}{q}" in code for q in "\"'`")

    hooks = {"table": has("runs-table") and has("runs-row"), "chart": has("metric-chart")}
    return {page for page, present in hooks.items() if present and has("data-ready")}


def ember_target(url: str, seeded: dict[str, Any], runs: int, studio_dir: Path) -> Target:
    experiment = http_json(f"{url}/api/v1/experiments/{seeded['experiment_id']}")
    if experiment["run_count"] != runs:
        raise BenchError(f"Ember's experiment has {experiment['run_count']} runs, not {runs}")
    target = Target("Ember", url, seeded["experiment_id"], seeded["run_id"], seeded["version"], seeded)
    hooks = studio_hooks(studio_dir)
    min_rows = min(MIN_ROWS, runs)
    target.pages = {
        "table": (
            f"{url}/experiments/{target.experiment_id}",
            [EMBER_TABLE % min_rows if "table" in hooks else EMBER_PLACEHOLDER],
        ),
        "chart": (
            f"{url}/runs/{target.run_id}/metrics",
            [EMBER_CHART if "chart" in hooks else EMBER_PLACEHOLDER],
        ),
    }
    target.placeholder = {"table", "chart"} - hooks
    return target


def mlflow_all_points(points: int) -> str:
    """The predicate of MLflow's chart with every point: all history pages in, the minimum shown."""
    values, _ = loss_series(points)
    lowest = min(range(points), key=values.__getitem__)
    pages = -(-points // MLFLOW_HISTORY_PAGE)
    if lowest < (pages - 1) * MLFLOW_HISTORY_PAGE:  # then it would show before the last page is in
        raise BenchError(f"the minimum of the series (step {lowest}) is not in MLflow's last page")
    return MLFLOW_ALL_POINTS % (MLFLOW_LINE, pages, lowest)


def mlflow_target(url: str, seeded: dict[str, Any], runs: int, points: int) -> Target:
    """Check that MLflow's search API serves the runs, newest (the long series) first."""
    experiment_id, run_id = seeded["experiment_id"], seeded["run_id"]
    found = http_json(
        f"{url}/api/2.0/mlflow/runs/search",
        {"experiment_ids": [experiment_id], "max_results": 100, "order_by": ["attributes.start_time DESC"]},
    )
    got = found.get("runs", [])
    if len(got) != min(100, runs) or got[0]["info"]["run_id"] != run_id:
        raise BenchError(f"MLflow's runs/search returned {len(got)} runs, not the seeded ones")
    target = Target("MLflow", url, experiment_id, run_id, seeded["version"], seeded)
    # "Model training" is the UI's view of runs; a link from the UI's own toggle carries workflowType.
    query = urllib.parse.urlencode(
        {
            "runs": json.dumps([run_id]),
            "metric": json.dumps("loss"),
            "experiments": json.dumps([experiment_id]),
            "plot_metric_keys": json.dumps(["loss"]),
            "plot_layout": "{}",
            "x_axis": "step",
            "y_axis_scale": "linear",
            "line_smoothness": "1",
            "show_point": "false",
            "deselected_curves": "[]",
            "last_linear_y_axis_range": "[]",
        }
    )
    target.pages = {
        "table": (
            f"{url}/#/experiments/{experiment_id}?workflowType=machine_learning",
            [MLFLOW_TABLE % min(MIN_ROWS, runs)],
        ),
        "chart": (f"{url}/#/metric?{query}", [MLFLOW_LINE, mlflow_all_points(points)]),
    }
    return target


# -- the browser ---------------------------------------------------------------------------------


@dataclass
class Visit:
    """One navigation: seconds to each stage, what the page had loaded at the last, and once settled."""

    stages: list[float]
    seen: dict[str, Any]
    settled: dict[str, Any]

    @property
    def seconds(self) -> float:
        return self.stages[-1]


# True once no resource has completed for 1 s (the totals are read then, or SETTLE_MAX_MS after rendered).
SETTLED = """() => {
  const n = performance.getEntriesByType('resource').length, now = performance.now();
  if (window.__benchN !== n) { window.__benchN = n; window.__benchT = now; return false; }
  return now - window.__benchT > 1000;
}"""
SETTLE_MAX_MS = 5000


def visit(browser: Any, url: str, stages: list[str], *, shot: Path | None = None) -> Visit:
    """Navigate a fresh context to ``url``; time until each predicate of ``stages`` holds in turn."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_init_script(NET_INIT)
        page = context.new_page()
        times: list[float] = []
        start = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=READY_TIMEOUT_MS)
        for predicate in stages:
            try:
                handle = page.wait_for_function(PROBE % predicate, polling="raf", timeout=READY_TIMEOUT_MS)
            except Exception as exc:
                failed = SHOTS / f"failed-{int(time.time())}.png"
                page.screenshot(path=str(failed))
                raise BenchError(
                    f"{url} did not render in {READY_TIMEOUT_MS / 1000:.0f} s; see {failed}"
                ) from exc
            times.append(time.perf_counter() - start)
        seen = handle.json_value()
        if shot is not None:
            page.screenshot(path=str(shot))
        settled_at = time.perf_counter()
        try:
            page.wait_for_function(SETTLED, polling=100, timeout=SETTLE_MAX_MS)
            quiet = True
        except Exception:  # a page that keeps loading: its totals SETTLE_MAX_MS after rendered
            quiet = False
        settled = page.evaluate("window.__benchNet()") | {
            "quiet": quiet,
            "after_s": time.perf_counter() - settled_at,
        }
        return Visit(times, seen, settled)
    finally:
        context.close()


@contextmanager
def chromium() -> Iterator[tuple[Any, str]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser, browser.version
        finally:
            browser.close()


def measure(browser: Any, targets: list[Target], repeat: int) -> dict[tuple[str, str], list[Visit]]:
    """One warm-up visit per tool and page, then ``repeat`` rounds that interleave them."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for target in targets:
        for page, (url, stages) in target.pages.items():
            say(f"warm-up: {target.tool} {page}")
            visit(browser, url, stages)
    visits: dict[tuple[str, str], list[Visit]] = {}
    for rep in range(repeat):
        for target in targets:
            for page, (url, stages) in target.pages.items():
                shot = SHOTS / f"studio-{target.tool.lower()}-{page}.png" if rep == 0 else None
                result = visit(browser, url, stages, shot=shot)
                visits.setdefault((target.tool, page), []).append(result)
        line = ", ".join(f"{tool} {page} {v[-1].seconds:.3f} s" for (tool, page), v in visits.items())
        say(f"round {rep + 1}/{repeat}: {line}")
    return visits


# -- the report ----------------------------------------------------------------------------------

PAGE_NAMES = {"table": "runs table, first page", "chart": "chart of the long metric"}
STAGE_NAMES = {"chart": "time to a first line drawn (MLflow: its 320-point sample)"}
RENDERED_NAMES = {"chart": "time to rendered (MLflow: with all points)"}


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def fmt_bytes(n: float) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def report_rows(
    targets: list[Target], visits: dict[tuple[str, str], list[Visit]], runs: int, points: int
) -> tuple[list[list[str]], list[str]]:
    """The table (header first) and the notes under it."""
    tools = [t.tool for t in targets]
    ember = targets[0]
    header = ["measurement", *tools]
    if len(tools) == 2:
        header.append("Ember / MLflow")
    header += ["target", "result"]
    rows: list[list[str]] = [header]
    notes: list[str] = []
    for page in ("table", "chart"):
        label = PAGE_NAMES[page] + (" (Ember: PLACEHOLDER page)" if page in ember.placeholder else "")
        staged = any(len(visits[(tool, page)][0].stages) > 1 for tool in tools)
        lines: list[tuple[str, str, dict[str, float]]] = []
        for key, name, unit in (
            ("seconds", RENDERED_NAMES.get(page, "time to rendered"), "s"),
            ("first", STAGE_NAMES.get(page, "time to the first stage"), "s"),
            ("bytes", "bytes transferred until rendered", "B"),
            ("requests", "requests until rendered", "n"),
            ("settled_bytes", "bytes transferred once settled", "B"),
            ("settled_requests", "requests once settled", "n"),
        ):
            if key == "first" and not staged:
                continue
            values = {tool: _median([_value(v, key) for v in visits[(tool, page)]]) for tool in tools}
            lines.append((f"{label}: {name}", unit, values))
            cells = [f"{label}: {name}"]
            for tool in tools:
                value = values[tool]
                cells.append(
                    f"{value:.3f} s" if unit == "s" else fmt_bytes(value) if unit == "B" else f"{value:.0f}"
                )
            if len(tools) == 2:
                a, b = values[tools[0]], values[tools[1]]
                cells.append(f"{a / b:.2f}" if a > 0 and b > 0 else "—")
            if key == "seconds":
                if page in ember.placeholder:
                    verdict = "n/a (placeholder)"
                else:
                    verdict = "PASS" if values["Ember"] < TARGET_S else "MISS"
                cells += [f"Ember < {TARGET_S:g} s", verdict]
            else:
                cells += ["", ""]
            rows.append(cells)
        for tool in tools:
            vs = visits[(tool, page)]
            times = ", ".join(f"{v.seconds:.3f}" for v in vs)
            seen = {k: v for k, v in vs[0].seen.items() if k not in ("bytes", "decoded", "requests", "api")}
            calls: dict[str, list[int]] = {}
            for name, size in vs[0].settled["api"]:
                calls.setdefault(_short(name), []).append(size)
            api = "; ".join(
                f"{path} x{len(sizes)} ({fmt_bytes(sum(sizes))})"
                if len(sizes) > 1
                else f"{path} ({fmt_bytes(sizes[0])})"
                for path, sizes in sorted(calls.items())
            )
            loud = [f"{v.settled['after_s']:.1f} s" for v in vs if not v.settled["quiet"]]
            still = (
                f" Still loading when its totals were read: {', '.join(loud)} after rendered." if loud else ""
            )
            notes.append(
                f"{tool}, {PAGE_NAMES[page]}: times to rendered {times} s; the page showed {seen}; "
                f"its API calls (first visit, once settled): {api}.{still}"
            )
    notes.append(
        f"Data: one experiment of {runs:,} runs (5 params, 5 metrics, 3 tags each); the newest run holds "
        f"`loss`, {points:,} points."
    )
    return rows, notes


def _value(visit: Visit, key: str) -> float:
    if key == "seconds":
        return visit.seconds
    if key == "first":
        return visit.stages[0]
    if key.startswith("settled_"):
        return float(visit.settled[key.removeprefix("settled_")])
    return float(visit.seen[key])


def _short(url: str) -> str:
    """An API call's path and query, ids and page tokens elided, so repeated calls group together."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query)
    keep = [f"{k}={v}" for k, v in query if k in ("max_results", "metric_key", "max_points")]
    path = "/".join("{id}" if len(seg) >= 24 and seg.isalnum() else seg for seg in parts.path.split("/"))
    return path + (f"?{'&'.join(keep)}" if keep else "")


def environment(targets: list[Target], chromium_version: str, load_before: str) -> list[tuple[str, str]]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    load_after = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    env = [
        ("date", dt.date.today().isoformat()),
        ("machine", f"{os.cpu_count()} CPUs ({cpu}), {platform.platform()}"),
        ("load average before / after", f"{load_before} / {load_after}"),
        ("Chromium", f"{chromium_version} (headless, Playwright)"),
    ]
    for t in targets:
        env.append(
            (
                t.tool,
                f"{t.version}; seeded the bulk runs in {t.seed['bulk_s']:.1f} s, the long series in "
                f"{t.seed['series_s']:.1f} s",
            )
        )
    return env


def print_table(cells: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    for i, row in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if 0 < j < len(row) - 2 else c.ljust(w)
                for j, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))


def markdown(cells: list[list[str]], notes: list[str], env: list[tuple[str, str]], command: str) -> str:
    lines = [f"`{command}`", "", *[f"- {k}: {v}" for k, v in env], ""]
    lines.append("| " + " | ".join(cells[0]) + " |")
    lines.append("| " + " | ".join(["---", *["---:"] * (len(cells[0]) - 3), "---", "---"]) + " |")
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells[1:]]
    lines += ["", *[f"- {n}" for n in notes]]
    return "\n".join(lines) + "\n"


# -- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000, help="runs in the experiment")
    parser.add_argument("--repeat", type=int, default=5, help="measured visits per page and tool (median)")
    parser.add_argument("--points", type=int, default=100_000, help="points of the charted metric")
    parser.add_argument("--skip-mlflow", action="store_true", help="measure Ember only")
    parser.add_argument(
        "--studio-dir",
        type=Path,
        default=None,
        help="serve this studio build (EMBER_STUDIO_DIR); default: the package's",
    )
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the results as Markdown")
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs under .bench/")
    args = parser.parse_args(argv)
    if args.runs < 2 or args.points < 1:
        parser.error("--runs must be at least 2 and --points at least 1")
    studio_dir = (args.studio_dir or Path(os.environ.get("EMBER_STUDIO_DIR") or DEFAULT_STUDIO)).resolve()
    if not (studio_dir / "index.html").is_file():
        parser.error(f"no studio build in {studio_dir}: run `make studio` (or pass --studio-dir)")
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    BENCH_DIR.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="studio-", dir=BENCH_DIR))
    ok = False
    try:
        mlflow_python = None if args.skip_mlflow else ensure_mlflow_venv()
        say(f"seeding Ember: {args.runs:,} runs, {args.points:,} points")
        ember_seed = seed_ember(work, args.runs, args.points)
        mlflow_seed = None
        if mlflow_python is not None:
            say(f"seeding MLflow: {args.runs:,} runs, {args.points:,} points")
            mlflow_seed = seed_mlflow(mlflow_python, work, args.runs, args.points)
        with ExitStack() as stack:
            port = free_port()
            say(f"starting Ember's server (studio: {studio_dir})")
            ember_srv = stack.enter_context(
                server(
                    [
                        sys.executable,
                        "-m",
                        "ember.server",
                        "--workspace",
                        str(work / "ember-ws"),
                        "--port",
                        str(port),
                    ],
                    url=f"http://127.0.0.1:{port}",
                    health="/healthz",
                    log=work / "ember-server.log",
                    cwd=work,
                    env=os.environ | {"EMBER_STUDIO_DIR": str(studio_dir)},
                )
            )
            targets = [ember_target(ember_srv.url, ember_seed, args.runs, studio_dir)]
            if mlflow_seed is not None:
                port = free_port()
                say("starting MLflow's server")
                folder = work / "mlflow"
                mlflow_srv = stack.enter_context(
                    server(
                        [
                            str(BENCH_DIR / "mlflow-venv" / "bin" / "mlflow"),
                            "server",
                            "--backend-store-uri",
                            f"sqlite:///{folder / 'mlflow.db'}",
                            "--default-artifact-root",
                            str(folder / "artifacts"),
                            "--host",
                            "127.0.0.1",
                            "--port",
                            str(port),
                            "--workers",
                            "1",
                        ],
                        url=f"http://127.0.0.1:{port}",
                        health="/health",
                        log=work / "mlflow-server.log",
                        cwd=folder,
                        env=os.environ | MLFLOW_ENV,
                    )
                )
                targets.append(mlflow_target(mlflow_srv.url, mlflow_seed, args.runs, args.points))
            with chromium() as (browser, chromium_version):
                visits = measure(browser, targets, max(1, args.repeat))
        ok = True
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"databases and logs kept in {work}")
    cells, notes = report_rows(targets, visits, args.runs, args.points)
    notes.insert(
        0,
        f"Medians of {max(1, args.repeat)} visits per page and tool, each in a fresh browser context (cold "
        "cache), after one warm-up visit; time from the start of page.goto until the DOM shows the "
        "rendered content (polled every animation frame). Bytes = sum of Resource Timing transferSize "
        "(headers + bodies as sent) of the document and every resource completed by then; 'once "
        f"settled' = when no resource has completed for 1 s, or {SETTLE_MAX_MS / 1000:g} s after rendered.",
    )
    if targets[0].placeholder:
        notes.insert(
            1,
            f"Ember's {' and '.join(sorted(targets[0].placeholder))} page(s) are still the placeholders in "
            f"{studio_dir}: their numbers are not the real pages'. Repeat the run once they land.",
        )
    env = environment(targets, chromium_version, load_before)
    print()
    print_table(cells)
    print()
    for note in notes:
        print(f"- {note}")
    print()
    for key, value in env:
        print(f"{key}: {value}")
    print(f"screenshots: {SHOTS}")
    if args.markdown:
        command = " ".join(["python benchmarks/studio.py", *(sys.argv[1:] if argv is None else argv)])
        args.markdown.write_text(markdown(cells, notes, env, command))
        say(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
