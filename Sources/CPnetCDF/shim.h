// PnetCDF (Debian's libpnetcdf-dev, built on Open MPI): classic-format NetCDF files written collectively
// by every rank over MPI-IO (`dump netcdf/mpiio`). Its communicator is MPI_COMM_WORLD, Tessera's ranks.
#ifndef TESSERA_CPNETCDF_SHIM_H
#define TESSERA_CPNETCDF_SHIM_H
#include <pnetcdf.h>

static inline MPI_Offset tessera_ncmpi_unlimited(void) { return NC_UNLIMITED; }
static inline int tessera_ncmpi_global(void) { return NC_GLOBAL; }

// Creates (clobbering) or opens `path` on every rank of MPI_COMM_WORLD.
static inline int tessera_ncmpi_create_world(const char *path, int cmode, int *ncid) {
  return ncmpi_create(MPI_COMM_WORLD, path, cmode, MPI_INFO_NULL, ncid);
}
static inline int tessera_ncmpi_open_world(const char *path, int omode, int *ncid) {
  return ncmpi_open(MPI_COMM_WORLD, path, omode, MPI_INFO_NULL, ncid);
}
#endif
