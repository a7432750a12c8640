# fcc copper with the Deep Potential (inputs/models/cu_se_e2_a) for the scaling harness.
variable        n index 8
variable        nx index ${n}
variable        steps index 20
variable        model index ../../inputs/models/cu_se_e2_a/cu_se_e2_a.dp
units           metal
atom_style      atomic
lattice         fcc 3.615
region          box block 0 ${nx} 0 ${n} 0 ${n}
create_box      1 box
create_atoms    1 box
mass            1 63.546
pair_style      deepmd ${model}
pair_coeff      * * Cu
velocity        all create 300.0 4928459
neighbor        2.0 bin
neigh_modify    every 10 delay 0 check yes
timestep        0.001
fix             1 all nve
thermo          ${steps}
run             ${steps}
