// Sv48 translation: see vm_xlate.h.
#define LEVELS 4
#include "vm_xlate.h"
