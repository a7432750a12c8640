// Open MPI's handles (MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM, ...) are casting macros Swift cannot import;
// these inline accessors expose them. No stable API: only Communication imports this module.
#ifndef TESSERA_CMPI_SHIM_H
#define TESSERA_CMPI_SHIM_H
#include <mpi.h>

static inline __attribute__((always_inline)) MPI_Comm tessera_comm_world(void) { return MPI_COMM_WORLD; }
static inline __attribute__((always_inline)) MPI_Datatype tessera_mpi_double(void) { return MPI_DOUBLE; }
static inline __attribute__((always_inline)) MPI_Datatype tessera_mpi_int64(void) { return MPI_INT64_T; }
static inline __attribute__((always_inline)) MPI_Datatype tessera_mpi_int32(void) { return MPI_INT32_T; }
static inline __attribute__((always_inline)) MPI_Datatype tessera_mpi_byte(void) { return MPI_BYTE; }
static inline __attribute__((always_inline)) MPI_Op tessera_op_sum(void) { return MPI_SUM; }
static inline __attribute__((always_inline)) MPI_Op tessera_op_max(void) { return MPI_MAX; }
static inline __attribute__((always_inline)) MPI_Op tessera_op_min(void) { return MPI_MIN; }
static inline __attribute__((always_inline)) MPI_Status *tessera_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline __attribute__((always_inline)) void *tessera_in_place(void) { return MPI_IN_PLACE; }
#endif
