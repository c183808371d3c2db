/* SPDX-License-Identifier: MIT */
/* main() for the unit tests: every test, or those whose name contains
 * argv[1]. */
#include <stddef.h>

#include "t.h"

int main(int argc, char **argv)
{
	t_run_all(argc > 1 ? argv[1] : NULL);
	return t_summary();
}
