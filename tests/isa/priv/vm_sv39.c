// Sv39 translation: see vm_xlate.h.
#define LEVELS 3
#include "vm_xlate.h"
