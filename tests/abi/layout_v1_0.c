/* tests/abi/layout_v1_0.c: the layout of plugin ABI 1.0, taken from the
 * frozen header (compiled with tests/abi/v1_0 first on the include path). */
#include <tocsin/plugin.h>

#include "layout.h"

_Static_assert(TOCSIN_ABI_MINOR == 0, "not the frozen 1.0 header: -I tests/abi/v1_0 must come first");

const struct abi_member abi_v1_0_members[] = { TC_ABI_1_0_MEMBERS(TC_ABI_MEMBER) { NULL, 0, 0 } };
const struct abi_struct abi_v1_0_structs[] = { TC_ABI_1_0_STRUCTS(TC_ABI_STRUCT) { NULL, 0 } };
const struct abi_constant abi_v1_0_constants[] = {
    TC_ABI_1_0_CONSTANTS(TC_ABI_CONSTANT) { NULL, 0 }
};
const char abi_v1_0_symbol[] = TOCSIN_PLUGIN_SYMBOL;
