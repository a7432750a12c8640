# fcc copper with the Deep Potential of inputs/models/cu_se_e2_a, NVE from 300 K: the deck of
# bench/dp/run.sh. It runs unchanged in LAMMPS + DeePMD-kit (MODEL a frozen .pb) and in Tessera
# (MODEL the .dp); set-up as inputs/models/cu_se_e2_a/lammps/in.cu_nvt but with fix nve, the only
# integrator Tessera has.
# variables: N (fcc cells per edge: 4*N^3 atoms; 10 -> 4,000, 20 -> 32,000, 30 -> 108,000),
# MODEL, WARMUP (an untimed first run: its step-0 thermo row gives the potential energy of the
# ideal lattice, and the timed run then excludes model loading and first-evaluation costs),
# STEPS (the timed run: the last "Loop time" line).
variable        N      index 10
variable        MODEL  index cu_se_e2_a.dp
variable        WARMUP index 1
variable        STEPS  index 10

units           metal
boundary        p p p
atom_style      atomic

lattice         fcc 3.615
region          box block 0 ${N} 0 ${N} 0 ${N}
create_box      1 box
create_atoms    1 box
mass            1 63.546

pair_style      deepmd ${MODEL}
pair_coeff      * * Cu

velocity        all create 300.0 4928459 loop geom
neighbor        2.0 bin
neigh_modify    every 10 delay 0 check no

timestep        0.001
fix             1 all nve

thermo_style    custom step temp pe ke etotal press
thermo_modify   format float %23.16g
thermo          ${STEPS}
run             ${WARMUP}
run             ${STEPS}
