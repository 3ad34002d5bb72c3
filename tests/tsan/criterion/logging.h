/* See criterion.h: the TSan build's stand-in for Criterion. */
#include "criterion.h"
