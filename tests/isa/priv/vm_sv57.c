// Sv57 translation: see vm_xlate.h.
#define LEVELS 5
#include "vm_xlate.h"
