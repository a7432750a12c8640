// The NetCDF C library, Debian's MPI build (libnetcdf-pnetcdf-dev): it links the same Open MPI HDF5 as
// CHDF5, so one process never loads two HDF5 builds. Tessera uses its serial calls only (`dump netcdf`,
// written by rank 0). NC_UNLIMITED and NC_GLOBAL are macros Swift cannot import as constants.
// Debian's netcdf-pnetcdf.pc names /usr/include, where only the serial build's netcdf.h would lie; the MPI
// build's header is in the package's own directory (Debian bookworm, x86-64, Tessera's baseline).
#ifndef TESSERA_CNETCDF_SHIM_H
#define TESSERA_CNETCDF_SHIM_H
#include "/usr/lib/x86_64-linux-gnu/netcdf/pnetcdf/include/netcdf.h"

static inline size_t tessera_nc_unlimited(void) { return NC_UNLIMITED; }
static inline int tessera_nc_global(void) { return NC_GLOBAL; }
#endif
