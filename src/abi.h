/* Internal: the struct_size check of the public structs a caller fills
 * (feral_config, feral_load_options, feral_gen_options).  Exact sizes only
 * for now; a minor release that appends fields would accept the older,
 * smaller sizes here and default the fields past them. */
#ifndef FERAL_ABI_H
#define FERAL_ABI_H
#include "internal.h"

/* OK when got == want; else USAGE naming the struct and its init function. */
static inline enum feral_status feral_check_struct_size(struct feral_error *err, const char *what,
                                                        const char *init, size_t got, size_t want)
{
	if (got == want)
		return FERAL_OK;
	return feral_fail(err, FERAL_STATUS_USAGE, NULL, 0,
	                  "struct %s: struct_size is %zu but this library's is %zu: fill it with "
	                  "%s() and build against the feral.h of the installed library",
	                  what, got, want, init);
}
#endif
