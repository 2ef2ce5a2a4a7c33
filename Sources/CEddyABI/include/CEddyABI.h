/* CEddyABI: include/eddy.h, the C contract, as a Clang module for the Swift side.
 * EddyC's exports are `@c @implementation` of its declarations, so the compiler
 * checks every signature against the header, and Swift reads the header's structs
 * (eddy_config_t, eddy_host_op_t ...) by their fields, never by offsets. */
#ifndef CEDDY_ABI_H
#define CEDDY_ABI_H
#include "../../../include/eddy.h"
#endif
