/* Message latency and bandwidth between ranks 0 and 1, as Tessera's halo uses them (blocking
 * MPI_Sendrecv of doubles): the half round-trip time of a ping-pong for a range of message sizes.
 * Prints "bytes seconds_per_message bandwidth_bytes_per_second" per size.
 * Build: mpicc -O2 -o pingpong pingpong.c; run: mpirun -np 2 ./pingpong */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size != 2) {
    if (rank == 0) fprintf(stderr, "pingpong: run on exactly 2 ranks\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  const int largest = 1 << 22; /* bytes */
  double *buffer = calloc(largest / sizeof(double), sizeof(double));
  int peer = 1 - rank;
  for (int bytes = 8; bytes <= largest; bytes *= 4) {
    int count = bytes / (int)sizeof(double);
    int repeats = bytes < 65536 ? 2000 : 100;
    double best = 1e30;
    for (int trial = 0; trial < 5; trial++) {
      MPI_Barrier(MPI_COMM_WORLD);
      double start = MPI_Wtime();
      for (int k = 0; k < repeats; k++) {
        if (rank == 0) {
          MPI_Send(buffer, count, MPI_DOUBLE, peer, 0, MPI_COMM_WORLD);
          MPI_Recv(buffer, count, MPI_DOUBLE, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
          MPI_Recv(buffer, count, MPI_DOUBLE, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
          MPI_Send(buffer, count, MPI_DOUBLE, peer, 0, MPI_COMM_WORLD);
        }
      }
      double t = (MPI_Wtime() - start) / (2.0 * repeats);
      if (t < best) best = t;
    }
    if (rank == 0) printf("%d %.6e %.6e\n", bytes, best, bytes / best);
  }
  free(buffer);
  MPI_Finalize();
  return 0;
}
