"""A training script submitted as an Ember run by ``examples/demo.py`` (``make demo``).

Nothing in it is Ember-specific but ``ember.Run.get_context()``: run it directly and it logs to the
console; submitted, it logs to its run, and files written to ./outputs are collected.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
from pathlib import Path

import ember


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--data", help="a folder of CSV files with columns x1, x2, label")
    args = parser.parse_args()

    run = ember.Run.get_context()
    run.log_params({"lr": args.lr, "epochs": args.epochs, "model": "logreg"})
    if args.data:
        data = []
        for path in sorted(Path(args.data).rglob("*.csv")):
            with path.open(newline="", encoding="utf-8") as f:
                data += [(float(row["x1"]), int(row["label"])) for row in csv.DictReader(f)]
        print(f"read {len(data)} rows from {args.data}", flush=True)
    else:
        rng = random.Random(11)
        data = [(rng.gauss(1.5 if i % 2 else -1.5, 1.2), i % 2) for i in range(400)]
    w, b = 0.0, 0.0
    for epoch in range(args.epochs):
        gw = gb = loss = 0.0
        for x, y in data:
            p = 1 / (1 + math.exp(-(w * x + b)))
            loss -= y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)
            gw += (p - y) * x
            gb += p - y
        w -= args.lr * gw / len(data)
        b -= args.lr * gb / len(data)
        run.log("loss", loss / len(data), step=epoch)
        if epoch % 20 == 0:
            print(f"epoch {epoch:3d}  loss {loss / len(data):.4f}", flush=True)
    accuracy = sum((w * x + b > 0) == bool(y) for x, y in data) / len(data)
    run.log("accuracy", accuracy)
    os.makedirs("outputs", exist_ok=True)
    with open("outputs/model.json", "w", encoding="utf-8") as out:
        json.dump({"w": w, "b": b}, out)
    print(f"done: accuracy {accuracy:.3f}", flush=True)


if __name__ == "__main__":
    main()
