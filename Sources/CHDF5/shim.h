// The HDF5 C library (Debian's parallel build, which also reads files serially). H5T_NATIVE_DOUBLE and
// friends are macros over globals that need H5open() first; these accessors expose them to Swift.
#ifndef TESSERA_CHDF5_SHIM_H
#define TESSERA_CHDF5_SHIM_H
#include <hdf5.h>

static inline hid_t tessera_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t tessera_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t tessera_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t tessera_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t tessera_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t tessera_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t tessera_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t tessera_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t tessera_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t tessera_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t tessera_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t tessera_h5p_dataset_xfer(void) { return H5P_DATASET_XFER; }
static inline hid_t tessera_h5s_all(void) { return H5S_ALL; }
static inline hsize_t tessera_h5s_unlimited(void) { return H5S_UNLIMITED; }
static inline unsigned tessera_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned tessera_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned tessera_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline size_t tessera_h5t_variable(void) { return H5T_VARIABLE; }
static inline hid_t tessera_h5e_default(void) { return H5E_DEFAULT; }

// Parallel HDF5 over every rank of the job (Tessera's ranks are MPI_COMM_WORLD). Returns 1 when the
// file access list now uses MPI-IO, 0 when MPI is not running or has one rank (the default driver
// then writes the file alone), negative on failure.
static inline int tessera_h5p_set_fapl_mpio_world(hid_t fapl) {
  int initialized = 0, finalized = 0, size = 1;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size == 1) return 0;
  return H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL) < 0 ? -1 : 1;
}

// Collective transfers: every rank takes part in each write (needed when chunks are compressed).
static inline herr_t tessera_h5p_set_dxpl_collective(hid_t dxpl) {
  return H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
}
#endif
