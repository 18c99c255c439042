#include "CRotorShims.h"

#ifdef __linux__
#include <sys/prctl.h>
#endif

int rotor_set_not_dumpable(void) {
#ifdef __linux__
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#else
    return -1;
#endif
}
