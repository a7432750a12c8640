"""DP-GEN's and dpgen2's own code around Tessera (DpgenClientTests; run by .build/pyenv's python).

  fparam ROOT MODEL...           dpgen2's nvt deck with `fparam ${ELE_TEMP}` for models with numb_fparam (ROOT/<case>)
  decks ROOT MODEL...            the exploration decks dpgen2's make_lmp_input and DP-GEN's make_lammps_input write,
                                 one task folder per case under ROOT (conf.lmp written by dpdata, models linked as
                                 graph.00N.pb); prints the case names
  check TESSERA ROOT1 ROOT4 MODEL...
                                 reads each case's outputs on 1 and 4 ranks with dpgen2's model-deviation and trajectory
                                 readers and dpdata, selects candidates with dpgen2's selector, and compares with what
                                 model_devi.out implies and with `tessera eval --devi` of the dumped frames
  runlmp COMMAND ROOT TESSERA MODEL...
                                 dpgen2's RunLmp operator, called as its unit tests call it, with COMMAND as its command,
                                 then the same reading and selection
Prints OK last when every check passed; any failure raises.
"""
import os
import random
import subprocess
import sys
from pathlib import Path

import dpdata
import numpy as np

TYPE_MAP = ["Cu"]
MASS_MAP = [63.546]
NSTEPS, FREQ = 20, 5


def conf_system(seed=17):
    """32 copper atoms (2×2×2 fcc cells, a = 3.615 Å) off their sites in a slightly tilted cell."""
    a, rng = 3.615, np.random.default_rng(seed)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cells = np.array([[x, y, z] for x in range(2) for y in range(2) for z in range(2)])
    frac = ((cells[:, None, :] + basis[None, :, :]).reshape(-1, 3)) / 2
    cell = np.array([[2 * a, 0, 0], [0.1, 2 * a, 0], [0.05, -0.08, 2 * a]])
    coords = frac @ cell + rng.uniform(-0.1, 0.1, (32, 3))
    return dpdata.System(data={
        "atom_names": TYPE_MAP, "atom_numbs": [32], "atom_types": np.zeros(32, dtype=int),
        "orig": np.zeros(3), "cells": cell[None], "coords": coords[None], "nopbc": False})


def dpgen2_deck(ensemble, graphs, nsteps, separate=True, **keywords):
    from dpgen2.exploration.task.lmp.lmp_input import make_lmp_input
    pres = 1.0 if ensemble.startswith("npt") else None
    return make_lmp_input("conf.lmp", ensemble, graphs, nsteps, 0.002, None, FREQ, MASS_MAP, 300.0, pres=pres,
                          trj_seperate_files=separate, **keywords)


def dpgen_deck(ensemble, graphs, jdata, nsteps):
    from dpgen.generator.lib.lammps import make_lammps_input
    # DP-GEN writes PRES for every ensemble (its model_devi_jobs carry "press").
    return make_lammps_input(ensemble, "conf.lmp", graphs, nsteps, 0.002, None, FREQ, MASS_MAP, 300.0, jdata,
                             pres=1.0, deepmd_version="3.0")


GRAPHS = ["graph.%03d.pb" % k for k in range(4)]

# name -> (writer, settings the checks need: atomic columns, relative levels)
CASES = {
    "dpgen2-nvt": (lambda n: dpgen2_deck("nvt", GRAPHS, n), {}),
    "dpgen2-npt-iso-atomic-relative": (lambda n: dpgen2_deck("npt-iso", GRAPHS, n, use_clusters=True, relative_f_epsilon=0.05),
                                       {"atomic": True, "relative": 0.05}),
    "dpgen2-npt-aniso-relative_v": (lambda n: dpgen2_deck("npt-aniso", GRAPHS, n, relative_v_epsilon=0.5), {"relative_v": 0.5}),
    "dpgen2-npt-tri-all": (lambda n: dpgen2_deck("npt-tri", GRAPHS, n, use_clusters=True, relative_f_epsilon=0.05,
                                               relative_v_epsilon=0.5), {"atomic": True, "relative": 0.05, "relative_v": 0.5}),
    "dpgen2-nve-atomic": (lambda n: dpgen2_deck("nve", GRAPHS, n, use_clusters=True), {"atomic": True}),
    "dpgen-npt": (lambda n: dpgen_deck("npt", GRAPHS, {"type_map": TYPE_MAP}, n), {}),
    "dpgen-nvt-merged-relative": (lambda n: dpgen_deck("nvt", GRAPHS, {"type_map": TYPE_MAP, "model_devi_merge_traj": True,
                                                                     "use_relative": True, "epsilon": 0.05}, n),
                                  {"relative": 0.05, "merged": True}),
}


def write_task(folder, deck, models, graphs):
    folder.mkdir(parents=True)
    conf_system().to("lammps/lmp", str(folder / "conf.lmp"))
    (folder / "traj").mkdir()
    for name, model in zip(graphs, models):
        (folder / name).symlink_to(os.path.abspath(model))
    return deck


# DP-GEN's second leg (`-v restart 1` after an interrupted first) of this case, compared with its uninterrupted run.
LEGS = "dpgen-nvt-merged-relative"


def decks(root, models):
    for name, (writer, _) in CASES.items():
        random.seed(826513)  # the writers draw the velocity seed with random.randrange
        folder = Path(root) / name
        deck = writer(NSTEPS)
        write_task(folder, deck, models, GRAPHS)
        (folder / "input.lammps").write_text(deck)
        print("case", name)
    # The writers fix the restart interval at 10000 steps; the legs (10 steps, then on to 20) change only that number.
    folder = Path(root) / (LEGS + "-legs")
    for leg, steps in enumerate([NSTEPS // 2, NSTEPS]):
        random.seed(826513)
        deck = CASES[LEGS][0](steps)
        assert "restart         10000 dpgen.restart\n" in deck
        deck = deck.replace("restart         10000 dpgen.restart", "restart         %d dpgen.restart" % (NSTEPS // 2))
        if leg == 0:
            write_task(folder, deck, models, GRAPHS)
        (folder / ("input.leg%d.lammps" % leg)).write_text(deck)
    print("legs", folder.name)
    # DP-GEN's electronic temperature (fparam) for models trained without one: refused where it is written.
    folder = Path(root) / "dpgen2-nvt-fparam"
    random.seed(826513)
    deck = dpgen2_deck("nvt", GRAPHS, NSTEPS, ele_temp_f=1000.0)
    write_task(folder, deck, models, GRAPHS)
    (folder / "input.lammps").write_text(deck)
    print("refused", folder.name)


def frames_of(folder, settings):
    """The dumped frames in step order, read by dpdata, and the dump files in that order."""
    if settings.get("merged"):
        files = [folder / "all.lammpstrj"]
    elif (folder / "traj.dump").exists():
        files = [folder / "traj.dump"]
    else:
        files = sorted(folder.glob("traj/*.lammpstrj"), key=lambda p: int(p.stem))
    system = dpdata.System(str(files[0]), fmt="lammps/dump", type_map=TYPE_MAP)
    for f in files[1:]:
        system.append(dpdata.System(str(f), fmt="lammps/dump", type_map=TYPE_MAP))
    return system, files


def thermo_rows(log):
    rows, header = [], None
    for line in Path(log).read_text().splitlines():
        words = line.split()
        if words[:1] == ["Step"]:
            header = words
        elif header and len(words) == len(header):
            try:
                rows.append([float(w) for w in words])
            except ValueError:
                header = None
    return np.array(rows)


def reevaluate(tessera, models, system, settings, work):
    """`tessera eval --devi` of the dumped frames (written as extended XYZ by ASE)."""
    from ase.io import write
    frames = work / "frames.xyz"
    write(str(frames), system.to("ase/structure"), format="extxyz")
    out = work / "re.out"
    command = [tessera, "eval"] + sum([["--model", m] for m in models], []) + [str(frames), "--devi", str(out),
                                                                             "--devi-digits", "17"]
    if settings.get("atomic"):
        command.append("--atomic")
    for key in ("relative", "relative_v"):
        if key in settings:
            command += ["--" + key.replace("_", "-"), str(settings[key])]
    subprocess.run(command, check=True, capture_output=True, text=True)
    again = np.loadtxt(out, ndmin=2)
    return np.delete(again, 7, axis=1)  # eval adds devi_e as column 7


def select(traj_files, model_devi, lo, hi, work):
    """dpgen2's trust-level report and selector (every candidate) on one task: the report's candidate ids and
    ratios, and the frames the selector wrote (read back by dpdata)."""
    from dpgen2.exploration.render import TrajRenderLammps
    from dpgen2.exploration.report import ExplorationReportTrustLevelsMax
    from dpgen2.exploration.selector import ConfSelectorFrames
    if len(traj_files) > 1:  # one file per frame (DP-GEN's traj/*.lammpstrj): dpgen2 reads one dump per task
        merged = work / "merged.dump"
        merged.write_text("".join(Path(f).read_text() for f in traj_files))
        traj_files = [merged]
    report = ExplorationReportTrustLevelsMax(lo, hi)
    report.record(TrajRenderLammps().get_model_devi([Path(model_devi)]))
    ratios = (report.accurate_ratio(), report.candidate_ratio(), report.failed_ratio())
    ids = report.get_candidate_ids()[0]
    cwd = os.getcwd()
    os.chdir(work)
    try:
        selector = ConfSelectorFrames(TrajRenderLammps(), ExplorationReportTrustLevelsMax(lo, hi))
        confs, _ = selector.select([Path(traj_files[0]).resolve()], [Path(model_devi).resolve()], type_map=TYPE_MAP)
        selected = dpdata.MultiSystems(type_map=TYPE_MAP)
        selected.from_deepmd_npy(str(confs[0]), labeled=False)
    finally:
        os.chdir(cwd)
    return sorted(ids), ratios, selected


def check_task(name, folder, settings, tessera, models, work):
    from dpgen2.exploration.deviation import DeviManager
    from dpgen2.exploration.render import TrajRenderLammps
    folder, work = folder.resolve(), work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    written = np.loadtxt(folder / "model_devi.out", ndmin=2)
    steps = written[:, 0].astype(int)
    assert list(steps) == list(range(0, NSTEPS + 1, FREQ)), f"{name}: model_devi.out steps {steps}"
    assert written.shape[1] == 7 + (32 if settings.get("atomic") else 0), f"{name}: {written.shape[1]} columns"
    devi = TrajRenderLammps().get_model_devi([folder / "model_devi.out"])
    for key, column in [(DeviManager.MAX_DEVI_V, 1), (DeviManager.MAX_DEVI_F, 4), (DeviManager.AVG_DEVI_F, 6)]:
        assert np.array_equal(devi.get(key)[0], written[:, column]), f"{name}: dpgen2 read {key} differently"
    system, files = frames_of(folder, settings)
    assert len(system) == len(steps), f"{name}: {len(system)} frames for {len(steps)} deviation rows"

    # Re-evaluating the dumped frames gives the file's statistics. Under relative_v the plugin divides each virial component by its own |<W_c>| + eps and `dp model-devi` all nine
    # by |<W>| + eps, so only the force columns can agree there. The dump's %g positions limit the agreement.
    again = reevaluate(tessera, models, system, settings, work)
    first = 4 if "relative_v" in settings else 1
    assert np.allclose(again[:, first:], written[:, first:], rtol=2e-3, atol=1e-5), \
        f"{name}: re-evaluated statistics differ by {np.max(np.abs(again[:, first:] - written[:, first:]))}"

    # Trust levels between the frames' max_devi_f values, so that rounding in the dump cannot move a frame.
    values = np.sort(written[:, 4])
    lo, hi = (values[1] + values[2]) / 2, (values[3] + values[4]) / 2
    ids, ratios, selected = select(files, folder / "model_devi.out", lo, hi, work)
    expected = [k for k, f in enumerate(written[:, 4]) if lo <= f < hi]
    expected_again = [k for k, f in enumerate(again[:, 4]) if lo <= f < hi]
    assert expected_again == expected, f"{name}: re-evaluation selects {expected_again}, the file {expected}"
    assert ids == expected, f"{name}: dpgen2's report picks {ids}, the file implies {expected}"
    n = len(steps)
    assert ratios == (sum(written[:, 4] < lo) / n, len(expected) / n, sum(written[:, 4] >= hi) / n), f"{name}: {ratios}"
    # sub_system keeps the ids' order, and deepmd/npy stores float64: the candidates' positions exactly.
    assert len(expected) == 2 and selected.get_nframes() == 2, f"{name}: {selected.get_nframes()} frames selected"
    got = next(iter(selected.systems.values()))["coords"]
    assert np.array_equal(got, system["coords"][expected]), f"{name}: the selected frames are not the candidates"
    return written, thermo_rows(folder / "log.lammps")


def check(tessera, root1, root4, models):
    for name, (_, settings) in CASES.items():
        rows1, thermo1 = check_task(name, Path(root1) / name, settings, tessera, models, Path(root1) / "work" / name)
        rows4, thermo4 = check_task(name, Path(root4) / name, settings, tessera, models, Path(root4) / "work" / name)
        assert thermo1.shape == thermo4.shape and len(thermo1) == NSTEPS // FREQ + 1, f"{name}: thermo {thermo1.shape}"
        assert np.allclose(thermo4, thermo1, rtol=1e-8, atol=1e-8), f"{name}: thermo on 4 ranks differs from 1"
        assert np.allclose(rows4, rows1, rtol=1e-8, atol=1e-10), f"{name}: model_devi.out on 4 ranks differs from 1"
        print("checked", name)
    for root in (root1, root4):
        check_legs(Path(root) / (LEGS + "-legs"), Path(root) / LEGS)
    print("OK")


def check_legs(legs, whole):
    """The second leg continues the uninterrupted run: its thermo and model_devi.out rows from the restart step on,
    and the appended trajectory (the restart step's frame written again by the second leg) frame for frame."""
    half = NSTEPS // 2
    assert "read from dpgen.restart.%d" % half in (legs / "leg1.out").read_text(), "the second leg read no restart file"
    thermo, again = thermo_rows(whole / "log.lammps"), thermo_rows(legs / "log.lammps")
    assert np.array_equal(again, thermo[thermo[:, 0] >= half]), f"{legs}: second leg's thermo {again} vs {thermo}"
    rows, more = np.loadtxt(whole / "model_devi.out", ndmin=2), np.loadtxt(legs / "model_devi.out", ndmin=2)
    assert np.array_equal(more, rows[rows[:, 0] >= half]), f"{legs}: second leg's model_devi.out"
    frames = (legs / "all.lammpstrj").read_text().split("ITEM: TIMESTEP\n")[1:]
    expected = (whole / "all.lammpstrj").read_text().split("ITEM: TIMESTEP\n")[1:]
    steps = [int(f.split()[0]) for f in frames]
    assert steps == [0, 5, 10, 10, 15, 20], f"{legs}: appended trajectory steps {steps}"
    assert frames[3] == frames[2], f"{legs}: the second leg's first frame is not the restart step's"
    # Writing a restart file wraps atoms into the box (as LAMMPS does), which the uninterrupted run (restart 10000)
    # did not at step 10: positions agree modulo the cell, forces (the last three columns) as text.
    forces = lambda frame: [line.split()[-3:] for line in frame.splitlines()[8:]]
    assert [forces(f) for f in frames[:3] + frames[4:]] == [forces(f) for f in expected], f"{legs}: dumped forces"
    system = dpdata.System(str(legs / "all.lammpstrj"), fmt="lammps/dump", type_map=TYPE_MAP)
    assert len(system) == 6, f"{legs}: dpdata reads {len(system)} frames"
    reference = dpdata.System(str(whole / "all.lammpstrj"), fmt="lammps/dump", type_map=TYPE_MAP)
    for k, j in enumerate([0, 1, 2, 4, 5]):
        shift = (system["coords"][j] - reference["coords"][k]) @ np.linalg.inv(reference["cells"][k])
        assert np.abs((shift - np.round(shift)) @ reference["cells"][k]).max() < 1e-4, f"{legs}: frame {j} positions"
    print("checked legs", legs)


def runlmp(command, root, tessera, models):
    """RunLmp as dpgen2's tests/op/test_run_lmp.py calls it, but with the command left to run."""
    from dflow.python import OPIO
    from dpgen2.constants import lmp_conf_name, lmp_input_name, model_name_pattern
    from dpgen2.op.run_lmp import RunLmp
    root = Path(root)
    os.chdir(root)
    task_path, model_path = Path("task/path"), Path("models/path")
    task_path.mkdir(parents=True)
    model_path.mkdir(parents=True)
    linked = []
    for k, model in enumerate(models):
        linked.append(model_path / f"model_{k}.pb")
        linked[-1].symlink_to(os.path.abspath(model))
    conf_system().to("lammps/lmp", str(task_path / lmp_conf_name))
    random.seed(4928459)
    deck = dpgen2_deck("npt-tri", [model_name_pattern % k for k in range(4)], NSTEPS, separate=False, use_clusters=True)
    (task_path / lmp_input_name).write_text(deck)
    out = RunLmp().execute(OPIO({"config": {"command": command}, "task_name": "task_000",
                                 "task_path": task_path, "models": linked}))
    assert Path(out["log"]).is_file() and "Loop time of" in Path(out["log"]).read_text()
    rows, _ = check_task("RunLmp", Path("task_000"), {"atomic": True}, tessera, models, root / "work")
    print("checked RunLmp", len(rows), "rows")
    print("OK")


def fparam_deck(root, models):
    """dpgen2's nvt deck with an electronic temperature (`fparam ${ELE_TEMP}`) for models trained with numb_fparam."""
    folder = Path(root) / "dpgen2-nvt-fparam-models"
    random.seed(826513)
    graphs = GRAPHS[:len(models)]
    deck = dpgen2_deck("nvt", graphs, NSTEPS, ele_temp_f=0.5)
    assert "fparam ${ELE_TEMP}" in deck
    write_task(folder, deck, models, graphs)
    (folder / "input.lammps").write_text(deck)
    print("fparam", folder.name)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "decks":
        decks(args[0], args[1:])
    elif mode == "fparam":
        fparam_deck(args[0], args[1:])
    elif mode == "check":
        check(args[0], args[1], args[2], args[3:])
    elif mode == "runlmp":
        runlmp(args[0], args[1], args[2], args[3:])
    else:
        raise SystemExit(f"unknown mode {mode}")
