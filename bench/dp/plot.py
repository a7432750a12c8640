#!/usr/bin/env python3
"""s/step/atom against atoms for bench/dp/run.sh: one panel per model variant, Tessera and
LAMMPS + DeePMD-kit on 1 and 2 ranks. Usage: plot.py REPORT.json OUT.png (Debian's python3 with
python3-matplotlib; bench.py writes REPORT.json next to the run logs)."""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

data = json.load(open(sys.argv[1]))
runs = [r for r in data["runs"] if r["status"] == "ok"]
models = list(dict.fromkeys(m for _, _, m in data["cases"]))
fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.8), sharey=True, squeeze=False)
styles = {"tessera": ("Tessera", "tab:blue"), "lammps": ("LAMMPS + DeePMD-kit", "tab:red")}
for ax, model in zip(axes[0], models):
    for code, (name, colour) in styles.items():
        for ranks, marker, line in ((1, "o", "-"), (2, "s", "--")):
            best = {}
            for r in runs:
                if (r["code"], r["model"], r["ranks"]) == (code, model, ranks):
                    per = r["loop"] / r["steps"] / r["atoms"]
                    best[r["atoms"]] = min(per, best.get(r["atoms"], per))
            if best:
                atoms = sorted(best)
                ax.plot(atoms, [best[a] for a in atoms], marker=marker, linestyle=line, color=colour,
                        label=f"{name}, {ranks} rank{'s' if ranks > 1 else ''}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(model)
    ax.set_xlabel("atoms")
    ax.grid(True, which="both", alpha=0.3)
axes[0][0].set_ylabel("s / step / atom (wall clock)")
axes[0][-1].legend(fontsize=7)
loaded = max(data["facts"]["load_start"], data["facts"]["load_end"]) > 1.5
fig.suptitle("Copper Deep Potential, one thread per rank" + (", taken under load" if loaded else ""), fontsize=9)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
