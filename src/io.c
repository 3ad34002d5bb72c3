/* Public I/O entry points: format detection from the path, and dispatch of
 * dataset and vector loads and saves to one module per format.  Every loader
 * returns a finished dataset (norms set, checked), so nothing is completed
 * here. */
#define _GNU_SOURCE
#include "abi.h"
#include "io_impl.h"

/* ---- format detection --------------------------------------------------------------- */

enum feral_format feral_format_from_path(const char *path)
{
	if (!path)
		return FERAL_FORMAT_AUTO;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	bool gz = feral_has_suffix(base, ".gz");
	char name[4096];
	if (n >= sizeof name)
		return FERAL_FORMAT_AUTO;
	memcpy(name, base, n + 1);
	if (gz)
		name[n - 3] = '\0';
	static const struct {
		const char *ext;
		enum feral_format fmt;
		bool gz_ok;
	} exts[] = {
		{".svm", FERAL_FORMAT_LIBSVM, true},   {".libsvm", FERAL_FORMAT_LIBSVM, true},
		{".svmlight", FERAL_FORMAT_LIBSVM, true}, {".txt", FERAL_FORMAT_LIBSVM, true},
		{".t", FERAL_FORMAT_LIBSVM, true},     {".mtx", FERAL_FORMAT_MTX, true},
		{".npy", FERAL_FORMAT_NPY, false},     {".idx", FERAL_FORMAT_IDX, true},
		{".idx1", FERAL_FORMAT_IDX, true},     {".idx3", FERAL_FORMAT_IDX, true},
		{".feral", FERAL_FORMAT_FERAL, false},
	};
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
		if (feral_has_suffix(name, exts[i].ext) && strlen(name) > strlen(exts[i].ext))
			return gz && !exts[i].gz_ok ? FERAL_FORMAT_AUTO : exts[i].fmt;
	if (strcasestr(name, "idx1-ubyte") || strcasestr(name, "idx3-ubyte"))
		return FERAL_FORMAT_IDX;
	return FERAL_FORMAT_AUTO;
}

void feral_load_options_init(struct feral_load_options *o)
{
	memset(o, 0, sizeof *o);
	o->struct_size = sizeof *o;
	o->format = FERAL_FORMAT_AUTO;
	o->dense = -1;
	o->min_d = 0;
	o->row_begin = 0;
	o->row_end = 0;
}

/* ---- dataset load/save ------------------------------------------------------------------ */

enum feral_status feral_dataset_load(const char *path, const struct feral_load_options *opt,
                                     struct feral_dataset **out, struct feral_error *err)
{
	struct feral_load_options defaults;
	*out = NULL;
	if (!path)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, "no input file given");
	if (!opt) {
		feral_load_options_init(&defaults);
		opt = &defaults;
	}
	enum feral_status st = feral_check_struct_size(err, "feral_load_options",
	                                               "feral_load_options_init", opt->struct_size,
	                                               sizeof *opt);
	if (st) {
		if (err)
			snprintf(err->file, sizeof err->file, "%s", path);
		return st;
	}
	if (opt->dense < -1 || opt->dense > 1)
		return feral_fail(err, FERAL_STATUS_USAGE, path, 0, "dense must be -1, 0 or 1, not %d",
		                  opt->dense);
	if (opt->map_cache < 0 || opt->map_cache > 1)
		return feral_fail(err, FERAL_STATUS_USAGE, path, 0, "map_cache must be 0 or 1, not %d",
		                  opt->map_cache);
	if (opt->row_end && opt->row_end <= opt->row_begin)
		return feral_fail(err, FERAL_STATUS_USAGE, path, 0, "empty row range [%llu, %llu)",
		                  (unsigned long long)opt->row_begin, (unsigned long long)opt->row_end);
	enum feral_format fmt = opt->format;
	if (fmt == FERAL_FORMAT_AUTO)
		fmt = feral_format_from_path(path);
	switch (fmt) {
	case FERAL_FORMAT_LIBSVM: return feral_io_libsvm_load(path, opt, out, err);
	case FERAL_FORMAT_MTX: return feral_io_mtx_load(path, opt, out, err);
	case FERAL_FORMAT_NPY: return feral_io_npy_load(path, out, err);
	case FERAL_FORMAT_IDX: return feral_io_idx_load(path, out, err);
	case FERAL_FORMAT_FERAL: return feral_io_cache_load(path, opt->map_cache, out, err);
	case FERAL_FORMAT_AUTO:
		return feral_fail(err, FERAL_STATUS_USAGE, path, 0,
		                  "cannot tell the format of %s from its extension", path);
	default:
		return feral_fail(err, FERAL_STATUS_USAGE, path, 0, "bad format %d", (int)fmt);
	}
}

enum feral_status feral_dataset_save(const struct feral_dataset *ds, const char *path,
                                     struct feral_error *err)
{
	if (!ds || !path)
		return feral_fail(err, FERAL_STATUS_USAGE, path, 0, "no dataset or path to save");
	switch (feral_format_from_path(path)) {
	case FERAL_FORMAT_LIBSVM: return feral_io_libsvm_save(ds, path, err);
	case FERAL_FORMAT_MTX: return feral_io_mtx_save(ds, path, err);
	case FERAL_FORMAT_NPY: return feral_io_npy_save(ds, path, err);
	case FERAL_FORMAT_FERAL: return feral_io_cache_save(ds, path, err);
	case FERAL_FORMAT_IDX:
		return feral_fail(err, FERAL_STATUS_UNSUPPORTED, path, 0,
		                  "writing IDX is not supported: use .npy, .mtx, .svm or .feral");
	default:
		return feral_fail(err, FERAL_STATUS_USAGE, path, 0,
		                  "cannot tell the format of %s from its extension", path);
	}
}

/* ---- vectors ---------------------------------------------------------------------------------- */

enum feral_status feral_vector_load(const char *path, double **out, uint64_t *len,
                                    struct feral_error *err)
{
	*out = NULL;
	*len = 0;
	if (!path)
		return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0, "no vector file given");
	switch (feral_format_from_path(path)) {
	case FERAL_FORMAT_NPY: return feral_io_npy_vector_load(path, out, len, err);
	case FERAL_FORMAT_MTX: return feral_io_mtx_vector_load(path, out, len, err);
	case FERAL_FORMAT_IDX: return feral_io_idx_vector_load(path, out, len, err);
	default: return feral_io_text_vector_load(path, out, len, err);
	}
}

enum feral_status feral_vector_save(const char *path, const double *v, uint64_t len,
                                    struct feral_error *err)
{
	if (!path || (!v && len))
		return feral_fail(err, FERAL_STATUS_USAGE, path, 0, "no vector or path to save");
	switch (feral_format_from_path(path)) {
	case FERAL_FORMAT_NPY: return feral_io_npy_vector_save(path, v, len, err);
	case FERAL_FORMAT_MTX: return feral_io_mtx_vector_save(path, v, len, err);
	default: return feral_io_text_vector_save(path, v, len, err);
	}
}

enum feral_status feral_dataset_load_targets(struct feral_dataset *ds, const char *path,
                                             struct feral_error *err)
{
	double *v;
	uint64_t n;
	if (!ds)
		return feral_fail(err, FERAL_STATUS_USAGE, path, 0, "no dataset for the targets");
	enum feral_status st = feral_vector_load(path, &v, &n, err);
	if (st)
		return st;
	if (n != ds->n) {
		free(v);
		return feral_fail(err, FERAL_STATUS_RANGE, path, 0,
		                  "%llu targets but the dataset has %llu rows", (unsigned long long)n,
		                  (unsigned long long)ds->n);
	}
	/* y may point into a read-only cache mapping: replace, never write. */
	if (ds->owner->heap_mask & FERAL_OWN_Y)
		free(ds->y);
	ds->y = v;
	ds->owner->heap_mask |= FERAL_OWN_Y;
	return FERAL_OK;
}
