#!/usr/bin/env python3
"""Plots PRES-2C latency against load from the JSON lines of bench/servers/run-all.sh (standard library + gnuplot).
Usage: bench/servers/plot.py results.jsonl out.png"""
import json, os, subprocess, sys, tempfile

src, png = sys.argv[1], sys.argv[2]
runs = [json.loads(l) for l in open(src) if l.strip().startswith("{")]
tmp = tempfile.mkdtemp()
series = []
for r in runs:
    name = f"{r['server']} {r['protocol']}"
    path = os.path.join(tmp, f"{len(series)}.dat")
    with open(path, "w") as f:
        for s in r["steps"]:
            f.write(f"{s['DeliveriesPerSecond']} {max(s['P50Ms'], 0.01)} {max(s['P99Ms'], 0.01)}\n")
    series.append((name, path))
plots = []
for i, (name, path) in enumerate(series):
    plots.append(f"'{path}' using 1:3 with linespoints lw 2 lc {i + 1} pt 7 title '{name} p99'")
    plots.append(f"'{path}' using 1:2 with linespoints lw 1 lc {i + 1} pt 6 dt 2 title '{name} p50'")
script = f"""
set terminal pngcairo size 1100,650 font ',10'
set output '{png}'
set title 'PRES-2C: update-to-delivery latency against delivered notifications/s (N = {runs[0]['users']}, R = {runs[0]['roster']}, server on 1 core)'
set xlabel 'delivered notifications per second'
set ylabel 'latency (ms, log scale)'
set logscale y
set logscale x
set grid
set key outside right
set arrow from graph 0, first 100 to graph 1, first 100 nohead dt 3 lc rgb 'red'
plot {', '.join(plots)}
"""
subprocess.run(["gnuplot"], input=script.encode(), check=True)
print(png)
