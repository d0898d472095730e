/* daemon/version.h — the program's version, one place. */
#ifndef VW_DAEMON_VERSION_H
#define VW_DAEMON_VERSION_H
#define VW_VERSION_STRING "0.2.0"
#endif
