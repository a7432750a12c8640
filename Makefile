# Tessera: two entry points on a fresh Debian 12 machine.
#   make run   installs what is missing, builds in release and runs the main example on 2 ranks
#   make test  installs what is missing, builds and runs every test
#   make pyenv creates .build/pyenv (Debian's /usr/bin/python3, not whatever python3 is first on PATH) with the pinned readers and clients the tests use (ASE, MDAnalysis, h5py; dpgen2, DP-GEN, dpdata)
# Running as root under Open MPI and oversubscribing the cores are allowed here for both.

SHELL := /bin/bash
PACKAGES := libopenmpi-dev openmpi-bin libopenblas-dev libhdf5-openmpi-dev pkg-config lammps python3-venv iproute2 util-linux time python3-matplotlib valgrind slurm-wlm munge libnetcdf-pnetcdf-dev libpnetcdf-dev
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMPI_MCA_rmaps_base_oversubscribe := 1
export OMPI_MCA_btl_vader_single_copy_mechanism := none
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
SWIFT_FLAGS :=
EXAMPLE ?= inputs/cu/in.cu
RANKS ?= 2
PYENV := .build/pyenv

.PHONY: setup build pyenv run test bench clean

setup:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: setup
	swift build -c release $(SWIFT_FLAGS)

run: build
	cd $(dir $(EXAMPLE)) && mpirun -np $(RANKS) $(CURDIR)/.build/release/tessera run $(notdir $(EXAMPLE))

# Installed once: the stamp is newer than the pinned list until the list changes.
pyenv: $(PYENV)/.installed

$(PYENV)/.installed: Tests/python-requirements.txt | setup
	rm -rf $(PYENV)
	/usr/bin/python3 -m venv $(PYENV)
	$(PYENV)/bin/pip install --quiet --disable-pip-version-check -r Tests/python-requirements.txt
	touch $@

test: build pyenv
	TESSERA_BINARY=$(CURDIR)/.build/release/tessera swift test $(SWIFT_FLAGS)

bench: build
	bench/run.sh

clean:
	rm -rf .build
