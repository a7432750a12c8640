# fcc copper with the Deep Potential trained by DeePMD-kit (inputs/models/cu_se_e2_a), NVE from 300 K.
variable        n index 4
variable        steps index 100
units           metal
boundary        p p p
atom_style      atomic
lattice         fcc 3.615
region          box block 0 ${n} 0 ${n} 0 ${n}
create_box      1 box
create_atoms    1 box
mass            1 63.546
pair_style      deepmd ../models/cu_se_e2_a/cu_se_e2_a.dp
pair_coeff      * * Cu
velocity        all create 300.0 4928459
neighbor        2.0 bin
neigh_modify    every 10 delay 0 check yes
timestep        0.001
fix             1 all nve
thermo_style    custom step temp pe ke etotal press vol dpoverflow
thermo          10
run             ${steps}
