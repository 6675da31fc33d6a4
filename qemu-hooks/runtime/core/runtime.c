/* The process-wide facts (see runtime.h): filled by sfemu_rt_init. */
#include "core/runtime.h"

struct sfemu_runtime sfemu_rt;
