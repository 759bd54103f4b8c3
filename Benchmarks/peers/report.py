"""Puts the Swift benchmark results beside the peers': one row per workload, one column per
backend or framework, and the ratio of the best Swift backend to the best peer (> 1 means
Axon is better, whichever direction the unit counts). Writes report.md and report.json."""
import json
import sys

directory = sys.argv[1] if len(sys.argv) > 1 else ".build/bench"
swift = json.load(open(f"{directory}/swift.json"))["results"]
try:
    peers = json.load(open(f"{directory}/peers.json"))["results"]
except FileNotFoundError:
    peers = []

columns = [r["backend"] for r in swift] + [p["backend"] for p in peers]
table = {}
units = {}
for result in swift + peers:
    for m in result["measurements"]:
        table.setdefault(m["workload"], {})[result["backend"]] = m["value"]
        units[m["workload"]] = (m["unit"], m["higherIsBetter"])

rows = []
lines = ["| workload | " + " | ".join(columns) + " | best Axon ÷ best peer |", "|---|" + "---|" * (len(columns) + 1)]
for workload, values in table.items():
    unit, higher = units[workload]
    ours = [values[r["backend"]] for r in swift if r["backend"] in values]
    theirs = [values[p["backend"]] for p in peers if p["backend"] in values]
    ratio = None
    if ours and theirs:
        best_ours = max(ours) if higher else min(ours)
        best_theirs = max(theirs) if higher else min(theirs)
        ratio = best_ours / best_theirs if higher else best_theirs / best_ours
    cells = [f"{values[c]:.4g} {unit}" if c in values else "—" for c in columns]
    lines.append(f"| {workload} | " + " | ".join(cells) + f" | {ratio:.2f}× |" if ratio else f"| {workload} | " + " | ".join(cells) + " | — |")
    rows.append({"workload": workload, "unit": unit, "values": values, "ratio": ratio})

devices = [f"- {r['backend']}: {r['device']}" for r in swift + peers]
open(f"{directory}/report.md", "w").write("# Benchmarks\n\n" + "\n".join(devices) + "\n\n" + "\n".join(lines) + "\n")
json.dump({"rows": rows}, open(f"{directory}/report.json", "w"), indent=2)
print("\n".join(lines))
