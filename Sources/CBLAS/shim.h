// OpenBLAS's CBLAS interface (Debian libopenblas-dev). No stable API: only DeepPotential imports it.
#ifndef TESSERA_CBLAS_SHIM_H
#define TESSERA_CBLAS_SHIM_H
#include <cblas.h>
#endif
