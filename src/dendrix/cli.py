"""The ``dendrix`` command: ``reproduce``, ``theory`` and ``list``.

Run ``dendrix --help`` or ``dendrix <command> --help`` for the options.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from dendrix import __version__

# the choices of dendrix.htm.detector.TEMPORAL_MEMORIES, spelt out so that building the parser
# imports nothing heavy (a test keeps the two equal)
_TEMPORAL_MEMORIES = ("backtracking", "htm")

__all__ = ["main"]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*header), line.format(*("-" * w for w in widths))]
    out += [line.format(*row) for row in rows]
    return "\n".join(out)


def _cmd_list(args: argparse.Namespace) -> int:
    from dendrix.recipes import RECIPES

    rows = [(name, r.title, r.paper) for name, r in RECIPES.items()]
    print(_table(("recipe", "what it reproduces", "paper"), rows))
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from dendrix.recipes import RECIPES, run_recipe
    from dendrix.recipes.base import claims_table, update_readme

    names = args.names or RECIPES.names()
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        print(
            f"dendrix reproduce: unknown recipe(s) {', '.join(unknown)}; "
            f"available: {', '.join(RECIPES.names())}",
            file=sys.stderr,
        )
        return 2
    if args.update_readme and args.quick:
        print(
            "dendrix reproduce: --update-readme quotes full runs only; drop --quick",
            file=sys.stderr,
        )
        return 2
    records = []
    for name in names:
        if not args.json:
            print(f"running {name}{' (quick)' if args.quick else ''} ...", file=sys.stderr)
        records.append(run_recipe(name, quick=args.quick, out_dir=args.out))
    if args.update_readme:
        update_readme(args.update_readme, args.out)
    if args.json:
        print(json.dumps(records, indent=2))
    else:
        header = ("recipe", "metric", "paper claim", "measured", "status")
        print(_table(header, claims_table(records)))
        where = f"{args.out}/quick" if args.quick else args.out
        print(f"\nresults: {where}/<recipe>.json, figures and {where}/REPORT.md")
    return 0


def _cmd_theory(args: argparse.Namespace) -> int:
    from dendrix.recipes import run_recipe

    rec = run_recipe("sdr-theory", quick=args.quick, out_dir=args.out)
    rows = [(k, f"{v:.6g}" if isinstance(v, float) else str(v)) for k, v in rec["metrics"].items()]
    print(_table(("quantity", "value"), rows))
    where = f"{args.out}/quick" if args.quick else args.out
    print("\nfigures: " + ", ".join(f"{where}/{f}" for f in rec["figures"]))
    return 0


def _cmd_detect(args: argparse.Namespace) -> int:
    import csv
    from pathlib import Path

    from tqdm import tqdm

    from dendrix._io import atomic_write
    from dendrix.data.timeseries import TimeSeriesFormatError, bundled_series, read_csv_series
    from dendrix.htm.anomaly import AnomalyLikelihoodConfig
    from dendrix.htm.detector import HTMDetector, HTMDetectorConfig
    from dendrix.viz import anomaly_figure

    source = Path(args.file) if args.file else bundled_series("nyc_taxi")
    try:
        series = read_csv_series(
            source,
            timestamp_column=args.timestamp_column,
            value_column=args.value_column,
            skip_bad=args.skip_bad,
        )
    except (FileNotFoundError, TimeSeriesFormatError) as err:
        print(f"dendrix detect: {err}", file=sys.stderr)
        return 2
    for line, reason in series.skipped:
        print(f"dendrix detect: skipped line {line}: {reason}", file=sys.stderr)
    out_dir = Path(args.out_dir)
    stem = source.stem
    csv_path, png_path = out_dir / f"{stem}_anomaly.csv", out_dir / f"{stem}_anomaly.png"
    existing = [str(p) for p in (csv_path, png_path) if p.exists()]
    if existing and not args.overwrite:
        print(
            f"dendrix detect: {', '.join(existing)} already exist(s); pass --overwrite or "
            "choose another --out-dir.",
            file=sys.stderr,
        )
        return 2

    n = len(series)
    detector = HTMDetector(
        HTMDetectorConfig.for_values(
            series.values, seed=args.seed, temporal_memory=args.temporal_memory
        ),
        AnomalyLikelihoodConfig.nab(n),
    )
    with tqdm(total=n, desc=f"detect {source.name}", unit="rec", disable=args.quiet) as bar:
        scores = detector.run(series.timestamps, series.values, progress=bar.update)

    def write_csv(tmp: Path) -> None:
        with tmp.open("w", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(
                [
                    "timestamp",
                    "value",
                    "raw_anomaly",
                    "likelihood",
                    "log_likelihood",
                    "anomaly_score",
                ]
            )
            for k in range(n):
                writer.writerow(
                    [
                        series.timestamps[k].isoformat(sep=" "),
                        repr(float(series.values[k])),
                        f"{scores['raw'][k]:.6f}",
                        f"{scores['likelihood'][k]:.12g}",
                        f"{scores['log_likelihood'][k]:.12g}",
                        f"{scores['score'][k]:.12g}",
                    ]
                )

    atomic_write(csv_path, write_csv)
    fig = anomaly_figure(
        series.timestamps,
        series.values,
        scores["raw"],
        scores["score"],
        threshold=args.threshold,
        title=f"HTM anomaly scores: {source.name}",
    )
    atomic_write(png_path, lambda p: fig.savefig(p, format="png", dpi=110))
    if args.save_model:
        detector.save(args.save_model)
    flagged = int((scores["score"] >= args.threshold).sum())
    print(f"{n} records scored; {flagged} at or above {args.threshold:g}")
    print(f"scores: {csv_path}\nplot:   {png_path}")
    if args.save_model:
        print(f"model:  {args.save_model}")
    return 0


def _cmd_nab(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from dendrix._io import atomic_write_json
    from dendrix.data import DataNotFoundError
    from dendrix.htm import nab
    from dendrix.htm.nab_run import detector_name, run_corpus

    try:
        corpus = nab.load_corpus(args.data)
        if args.score_only:
            results_dir, detector = Path(args.score_only), args.detector
        else:
            detector = args.detector or detector_name(args.temporal_memory)
            with tqdm(total=len(corpus), desc="NAB files", unit="file", disable=args.quiet) as bar:
                run = run_corpus(
                    args.out,
                    corpus=corpus,
                    workers=args.workers,
                    detector=detector,
                    overrides={"temporal_memory": args.temporal_memory},
                    progress=lambda key, secs, rows: bar.update(1),
                )
                bar.update(len(run["resumed"]))
            results_dir = Path(args.out) / detector
        scores = nab.score_detector(
            results_dir, detector=detector, corpus=corpus, search=args.search
        )
    except (DataNotFoundError, nab.NABFormatError, FileNotFoundError) as err:
        print(f"dendrix nab: {err}", file=sys.stderr)
        return 2
    summary = {name: round(s.normalized, 6) for name, s in scores.items()}
    if not args.score_only:
        atomic_write_json(Path(args.out) / f"{detector}_scores.json", summary)
    if args.json:
        print(json.dumps(summary))
        return 0
    rows = [
        (
            name,
            f"{s.normalized:.2f}",
            f"{s.threshold:.6g}",
            f"{s.raw:.4f}",
            str(s.true_positives),
            str(s.false_negatives),
            str(s.false_positives),
        )
        for name, s in scores.items()
    ]
    header = ("profile", "score", "threshold", "raw", "TP windows", "FN windows", "FP records")
    print(_table(header, rows))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dendrix",
        description="Biologically grounded neurons for PyTorch: run the paper reproductions.",
    )
    parser.add_argument("--version", action="version", version=f"dendrix {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    rep = sub.add_parser(
        "reproduce",
        help="run recipes and compare with the papers",
        description="Run recipes (all when no NAME is given), print 'paper claim | measured | "
        "status', write <out>/<name>.json, figures and REPORT.md (under <out>/quick/ with "
        "--quick).",
    )
    rep.add_argument("names", nargs="*", metavar="NAME", help="recipes to run (see 'list')")
    rep.add_argument("--quick", action="store_true", help="small budget: minutes on 2 CPUs")
    rep.add_argument("--json", action="store_true", help="print the result records as JSON")
    rep.add_argument("--out", default="results", help="results directory (default: results)")
    rep.add_argument(
        "--update-readme",
        metavar="README",
        help="rewrite the results table of this README from the result files in --out",
    )
    rep.set_defaults(func=_cmd_reproduce)

    th = sub.add_parser(
        "theory",
        help="SDR / dendrite theory: key values and curves",
        description="Print the false-match, noise and union figures of Ahmad & Hawkins 2016 "
        "and write their curves as PNG (the 'sdr-theory' recipe).",
    )
    th.add_argument("--quick", action="store_true", help="fewer Monte Carlo trials")
    th.add_argument("--out", default="results", help="results directory (default: results)")
    th.set_defaults(func=_cmd_theory)

    dt = sub.add_parser(
        "detect",
        help="HTM streaming anomaly detection on one time series",
        description="Score every record of a timestamp,value CSV with the HTM detector "
        "(NAB's parameters) and write <out-dir>/<name>_anomaly.csv (timestamp, value, "
        "raw_anomaly, likelihood, log_likelihood, anomaly_score) and a PNG plot. Without FILE "
        "it runs on the bundled NYC taxi series (NAB, MIT licence).",
    )
    dt.add_argument("file", nargs="?", metavar="FILE", help="CSV file (default: bundled)")
    dt.add_argument("--timestamp-column", default="timestamp", help="timestamp column name")
    dt.add_argument("--value-column", default="value", help="value column name")
    dt.add_argument(
        "--skip-bad",
        action="store_true",
        help="leave malformed rows out (each is reported) instead of stopping at the first",
    )
    dt.add_argument("--out-dir", default=".", help="folder for the outputs (default: .)")
    dt.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    dt.add_argument(
        "--threshold", type=float, default=0.5, help="score marked as anomaly in the plot"
    )
    dt.add_argument("--seed", type=int, default=1956, help="seed of the detector")
    dt.add_argument(
        "--temporal-memory",
        choices=_TEMPORAL_MEMORIES,
        default="backtracking",
        help="NuPIC's backtracking memory (NAB's numenta detector, default) or htm.core's",
    )
    dt.add_argument("--save-model", metavar="PATH", help="save the trained detector (.npz)")
    dt.add_argument("--quiet", action="store_true", help="no progress bar")
    dt.set_defaults(func=_cmd_detect)

    nb = sub.add_parser(
        "nab",
        help="run the HTM detector on the NAB corpus and score it",
        description="Run the HTM detector over all 58 NAB files (one process per CPU), write "
        "<out>/<detector>/<category>/<detector>_<file>.csv, and score them with NAB's rules "
        "under the three profiles (one optimised threshold per profile). With --score-only "
        "DIR, score an existing results folder instead.",
    )
    nb.add_argument(
        "--score-only",
        metavar="DIR",
        help="score this results folder instead of running the detector",
    )
    nb.add_argument(
        "--out",
        default="nab-results",
        help="where the detector's results go (default: nab-results); a rerun resumes, "
        "skipping files already complete",
    )
    nb.add_argument("--workers", type=int, help="processes (default: all CPUs)")
    nb.add_argument(
        "--temporal-memory",
        choices=_TEMPORAL_MEMORIES,
        default="backtracking",
        help="NuPIC's backtracking memory (NAB's numenta detector, default) or htm.core's "
        "(numentaTM)",
    )
    nb.add_argument("--quiet", action="store_true", help="no progress bar")
    nb.add_argument("--detector", help="detector name in the file names (default: inferred)")
    nb.add_argument(
        "--search",
        choices=("nab", "exact"),
        default="nab",
        help="threshold search: NAB's own hill climb (comparable with the scoreboard, "
        "default) or the exact optimum over all scores",
    )
    nb.add_argument("--data", help="NAB corpus root (default: the data root's nab/)")
    nb.add_argument("--json", action="store_true", help="print {profile: score} as JSON")
    nb.set_defaults(func=_cmd_nab)

    ls = sub.add_parser("list", help="list the recipes", description="List registered recipes.")
    ls.set_defaults(func=_cmd_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
