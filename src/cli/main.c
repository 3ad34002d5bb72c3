/* feral: command-line front end (placeholder until the subcommands land). */
#include "feral.h"
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("feral %s\n", FERAL_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: feral COMMAND [options]\n");
	return 2;
}
