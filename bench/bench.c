/* bench: throughput vs convergence horizon (placeholder). */
#include "feral.h"
#include <stdio.h>
int main(void)
{
	printf("bench %s\n", FERAL_VERSION);
	return 0;
}
