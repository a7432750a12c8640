// The HDF5 C library (Debian's parallel build, which also reads files serially). H5T_NATIVE_DOUBLE and
// friends are macros over globals that need H5open() first; these accessors expose them to Swift.
#ifndef TESSERA_CHDF5_SHIM_H
#define TESSERA_CHDF5_SHIM_H
#include <hdf5.h>

static inline hid_t tessera_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t tessera_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t tessera_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t tessera_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t tessera_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t tessera_h5s_all(void) { return H5S_ALL; }
static inline unsigned tessera_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned tessera_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline size_t tessera_h5t_variable(void) { return H5T_VARIABLE; }
static inline hid_t tessera_h5e_default(void) { return H5E_DEFAULT; }
#endif
