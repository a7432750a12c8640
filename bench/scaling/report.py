"""Markdown table and PNG plots for bench/scaling/run.sh: rows.txt → RESULTS.md (stdout), strong.png, weak.png."""
import os
import sys

rows_path, cores, machine = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []
for line in open(rows_path):
    deck, kind, ranks, loop, pair, neigh, comm, output, modify, other, rss, atoms, volume = line.split()
    rows.append(dict(deck=deck, kind=kind, ranks=int(ranks), loop=float(loop), pair=float(pair),
                     neigh=float(neigh), comm=float(comm), output=float(output), modify=float(modify),
                     other=float(other), rss=int(rss), atoms=int(atoms), volume=float(volume)))

def efficiency(row):
    base = next(r for r in rows if r["deck"] == row["deck"] and r["kind"] == row["kind"] and r["ranks"] == 1)
    if row["kind"] == "strong":
        return base["loop"] / (row["ranks"] * row["loop"])
    return base["loop"] / row["loop"]

print("# Scaling results\n")
print(f"Written by `bench/scaling/run.sh` on {machine}. Strong: a fixed system; weak: a fixed number of atoms")
print("per rank (the box grown along x). Times in seconds (loop time; phases are the breakdown's averages over")
print("ranks); efficiency = T1 / (P·TP) strong, T1 / TP weak; RSS = the largest resident set of any rank;")
print("sent = bytes each rank sends per step (the run summary's `Comm bytes/step` average: ghost refreshes,")
print("reverse forces, migration and ghost rebuilds).")
print("Rows marked † ran more ranks than cores (oversubscribed: they exercise the code, they do not measure scaling).\n")
print("| deck | scaling | ranks | atoms | loop | pair | neigh | comm | output | other | efficiency | max RSS/rank (MiB) | sent KiB/step/rank |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    mark = " †" if r["ranks"] > cores else ""
    print(f"| {r['deck']} | {r['kind']} | {r['ranks']}{mark} | {r['atoms']:,} | {r['loop']:.3f} | {r['pair']:.3f} | "
          f"{r['neigh']:.3f} | {r['comm']:.3f} | {r['output']:.3f} | {r['other'] + r['modify']:.3f} | "
          f"{efficiency(r):.2f} | {r['rss'] / 1024:.1f} | {r['volume'] / 1024:.1f} |")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("\n(no plots: matplotlib is not installed; `apt-get install python3-matplotlib`)")
    sys.exit(0)
here = os.path.dirname(os.path.abspath(rows_path))
for kind in ("strong", "weak"):
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for deck in sorted({r["deck"] for r in rows}):
        sel = [r for r in rows if r["deck"] == deck and r["kind"] == kind]
        ax.plot([r["ranks"] for r in sel], [efficiency(r) for r in sel], "o-", label=deck)
    ax.axhline(1.0, color="grey", lw=0.5)
    ax.set_xlabel("MPI ranks"); ax.set_ylabel("parallel efficiency"); ax.set_xscale("log", base=2)
    ax.set_title(f"{kind} scaling ({machine})", fontsize=8); ax.legend()
    fig.tight_layout(); fig.savefig(os.path.join(here, f"{kind}.png"), dpi=100)
print("\n![strong scaling](strong.png) ![weak scaling](weak.png)")
