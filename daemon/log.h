/* daemon/log.h — the logger lives in common/log.h (every module may log: the acquisition backends
 * too); the daemon's files include it by this name. */
#ifndef VW_DAEMON_LOG_SHIM_H
#define VW_DAEMON_LOG_SHIM_H
#include "common/log.h"
#endif
