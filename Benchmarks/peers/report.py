"""Puts the Swift benchmark results beside the peers': one row per workload, one column per
backend or framework, and the ratio of the best Swift backend to the best peer (> 1 means
Axon is better, whichever direction the unit counts). Writes report.md and report.json, and
for every contended run (swift-KIND.json beside peers-KIND.json) report-KIND.md and .json."""
import glob
import json
import os
import sys

directory = sys.argv[1] if len(sys.argv) > 1 else ".build/bench"


def load(name, key="results"):
    try:
        return json.load(open(f"{directory}/{name}.json")).get(key, [])
    except FileNotFoundError:
        return []


def machine_line():
    """The machine and its float32 multiply-add peak, as the Swift side measured them."""
    machine = load("swift", "machine")
    if not machine:
        return ""
    return (f"Machine: {machine['processor']}; float32 multiply-add peak {machine['peakGFLOPS']:.0f} GFLOPS "
            f"on {machine['threads']} threads.\n\n")


def report(suffix, title):
    swift, peers = load("swift" + suffix), load("peers" + suffix)

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
    open(f"{directory}/report{suffix}.md", "w").write(f"# {title}\n\n" + machine_line() + "\n".join(devices) + "\n\n" + "\n".join(lines) + "\n")
    json.dump({"rows": rows}, open(f"{directory}/report{suffix}.json", "w"), indent=2)
    print("\n".join(lines))


print(machine_line(), end="")
report("", "Benchmarks")
for path in sorted(glob.glob(f"{directory}/swift-*.json")):
    kind = os.path.basename(path)[len("swift-"):-len(".json")]
    print(f"\nBeside {kind} contention:")
    report(f"-{kind}", f"Benchmarks beside {kind} contention")
