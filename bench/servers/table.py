#!/usr/bin/env python3
"""Prints the PRES-2C side-by-side tables (Markdown) from the JSON lines of bench/servers/run-all.sh.
Usage: bench/servers/table.py results.jsonl"""
import json, sys

runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]


def name(r):
    proto = {"SignalRMessagePack": "native, SignalR MessagePack", "SignalRJson": "native, SignalR JSON", "Xmpp": "XMPP", "HeraldWebSocket": "native, WebSocket /api/v1/live"}
    return f"{r['server'].capitalize() if r['server'] != 'ejabberd' else 'ejabberd'} ({proto.get(r['protocol'], r['protocol'])})"


def n(x, d=0):
    return f"{x:,.{d}f}"


print("| server | logins/s achieved (offered 500/s), p50 / p99, errors | memory per user | saturation: highest passing step, delivered/s | p50 / p99 there | server CPU per 1,000 deliveries there | highest delivered/s in any step (its p99) | delivered / expected, all steps |")
print("|---|---|---:|---:|---|---:|---:|---:|")
for r in runs:
    steps = r["steps"]
    passing = [s for s in steps if s["Passed"]]
    best = max(passing, key=lambda s: s["DeliveriesPerSecond"]) if passing else None
    top = max(steps, key=lambda s: s["DeliveriesPerSecond"]) if steps else None
    exp = sum(s["Expected"] for s in steps)
    got = sum(s["Delivered"] + s["Superseded"] for s in steps)
    print(f"| {name(r)} | {n(r['loginsPerSecond'])}/s, {n(r['loginP50Ms'])} / {n(r['loginP99Ms'])} ms, {r['loginErrors']} "
          f"| {n(r['bytesPerUser'] / 1024, 1)} KiB "
          f"| {n(best['DeliveriesPerSecond']) if best else 'none'} "
          f"| {(n(best['P50Ms'], 1) + ' / ' + n(best['P99Ms'], 1) + ' ms') if best else '—'} "
          f"| {(n(best['ServerCpuPerThousandMs'], 1) + ' ms') if best else '—'} "
          f"| {(n(top['DeliveriesPerSecond']) + ' (' + n(top['P99Ms']) + ' ms)') if top else '—'} "
          f"| {(100.0 * got / exp if exp else 0):.3f} % |")
print()
print("Every step (offered → delivered/s, p50 / p99 / p99.9 ms, server CPU % of one core and ms per 1,000 deliveries, generator CPU %, pass):")
print()
print("| server | offered/s | delivered/s | delivered/expected | p50 | p99 | p99.9 | server CPU | CPU per 1k | generator CPU | errors | pass |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for r in runs:
    for s in r["steps"]:
        ratio = 100.0 * (s["Delivered"] + s["Superseded"]) / s["Expected"] if s["Expected"] else 0
        print(f"| {name(r)} | {n(s['OfferedDeliveriesPerSecond'])} | {n(s['DeliveriesPerSecond'])} | {ratio:.3f} % | {n(s['P50Ms'], 2)} | {n(s['P99Ms'], 1)} "
              f"| {n(s['P999Ms'], 1)} | {n(s['ServerCpuPercent'])} % | {n(s['ServerCpuPerThousandMs'], 1)} ms | {n(s['GeneratorCpuPercent'])} % | {s['Errors']} | {'yes' if s['Passed'] else 'no'} |")
