/* feral-mpi internals: rank shards and model averaging over MPI.  Not part of
 * libferal (the library has no MPI dependency); linked only into feral-mpi. */
#ifndef FERAL_FMPI_H
#define FERAL_FMPI_H

#include "cli/cli.h"
#include "feral.h"

#include <mpi.h>

/* ---- shards (shard.c) ----------------------------------------------------------- */

/* How this rank got its rows. */
struct fmpi_shard {
	uint64_t n_global;     /* rows over all ranks */
	uint64_t row_begin;    /* first global row of this rank */
	uint64_t d;            /* columns, agreed over ranks (max) */
	double load_seconds;   /* this rank's load + slice time */
	const char *method;    /* "cache-rows", "libsvm-bytes", "libsvm-rows", "full-parse" */
	char note[256];        /* why a fallback was taken, or "" */
};

/* Collective.  Load rank `rank` of `size`'s share of the rows of path
 * (a .feral cache: rows [k n/R, (k+1) n/R) of the mapped file, copied;
 * LIBSVM: the lines starting in bytes [k S/R, (k+1) S/R); others: every rank
 * parses the file and keeps its rows), quantized to prec.  Every rank ends
 * with the same d.  0, or an exit code agreed by every rank. */
int fmpi_shard_load(const char *prog, const char *path, enum feral_precision prec, uint64_t seed,
                    struct feral_dataset **out, struct fmpi_shard *info);

/* Rows [b, e) of ds as a new heap dataset with d_out >= ds->d columns. */
enum feral_status fmpi_slice_rows(const struct feral_dataset *ds, uint64_t b, uint64_t e,
                                  uint64_t d_out, struct feral_dataset **out,
                                  struct feral_error *err);

/* Collective: the maximum of rc over ranks (0 when every rank succeeded). */
int fmpi_agree(int rc);

/* ---- averaging (comm.c) ----------------------------------------------------------- */

/* Model averaging x <- sum_k w_k x_k over ranks (w_k = n_k / n).
 * bits 64: MPI_Allreduce of w_k x_k in double.  bits 32: Allreduce (float) of
 * w_k (x_k - ref).  bits 16/8: each rank quantizes its delta x_k - ref to
 * int16/int8 with one scale per message, max|delta|/qmax, by unbiased
 * stochastic rounding; the messages are MPI_Allgather'ed and every rank
 * dequantizes and sums them in rank order, so all ranks hold the same x. */
struct fmpi_avg {
	MPI_Comm comm;
	int rank, size, bits;
	uint64_t d;
	double *w_all;        /* every rank's weight */
	double *ref;          /* the last average (identical on every rank) */
	double *tmp;          /* d doubles */
	unsigned char *send, *recv;
	size_t msg;           /* bytes of one rank's message */
	uint64_t rng[4];      /* xoshiro256** for the stochastic rounding */
	/* statistics */
	uint64_t count;       /* averages done */
	double seconds, max_seconds; /* exchange time (quantize + MPI + dequantize) */
	double wire_bytes;    /* this rank's estimated bytes sent on the wire, summed */
	double wire_per_avg;  /* the same for one average */
};

int fmpi_avg_init(struct fmpi_avg *a, MPI_Comm comm, int bits, uint64_t d, double weight,
                  const double *x0, uint64_t seed);
/* Collective: replace x (this rank's model) by the average. */
int fmpi_avg_run(struct fmpi_avg *a, double *x);
void fmpi_avg_free(struct fmpi_avg *a);

#endif
