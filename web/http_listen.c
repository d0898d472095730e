/* web/http_listen.c — turns the configured "ADDR:PORT" into a listening socket. The socket is
 * opened here rather than by libmicrohttpd so that a person reads what went wrong
 * ("127.0.0.1:8080: address already in use") and so that port 0 tells which port it got.
 *
 * Accepted: an IPv4 literal ("127.0.0.1:8080", "0.0.0.0:8080" for every interface), an IPv6
 * literal in brackets ("[::1]:8080", "[::]:8080" for every interface, both families), or a host
 * name ("localhost:8080"), which binds its first IPv4 address, else its first IPv6 address.
 * web_listen_is_loopback tells from the bound address whether only this machine can connect. */
#include "web/http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 128
#define HOST_MAX 256

static const char expected[] = "expected ADDR:PORT, e.g. 127.0.0.1:8080 or [::1]:8080";

/* Splits "ADDR:PORT" into host and port, with an error message for a person on failure. */
static int split_listen(const char *spec, char *host, size_t hostcap, int *bracketed,
                        unsigned *port, char *err, size_t errlen)
{
    const char *colon, *host_start = spec, *host_end;
    *bracketed = 0;
    if (spec[0] == '[') {
        const char *rbracket = strchr(spec, ']');
        if (!rbracket) {
            snprintf(err, errlen, "\"%s\": missing \"]\" after the IPv6 address", spec);
            return -EINVAL;
        }
        if (rbracket[1] != ':') {
            snprintf(err, errlen, "\"%s\": %s", spec, expected);
            return -EINVAL;
        }
        host_start = spec + 1;
        host_end = rbracket;
        colon = rbracket + 1;
        *bracketed = 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon) {
            snprintf(err, errlen, "\"%s\": %s", spec, expected);
            return -EINVAL;
        }
        if (memchr(spec, ':', (size_t)(colon - spec))) {
            snprintf(err, errlen, "\"%s\": an IPv6 address goes in brackets, e.g. [::1]:8080", spec);
            return -EINVAL;
        }
        host_end = colon;
    }
    size_t hlen = (size_t)(host_end - host_start);
    if (hlen == 0) {
        snprintf(err, errlen, "\"%s\": missing address (0.0.0.0:PORT listens on every interface)", spec);
        return -EINVAL;
    }
    if (hlen >= hostcap) {
        snprintf(err, errlen, "\"%.40s…\": address too long", spec);
        return -EINVAL;
    }
    memcpy(host, host_start, hlen);
    host[hlen] = 0;

    const char *p = colon + 1;
    size_t plen = strlen(p);
    if (plen == 0 || plen > 5 || strspn(p, "0123456789") != plen || strtoul(p, NULL, 10) > 65535) {
        snprintf(err, errlen, "\"%s\": port must be a number from 0 to 65535 (0: any free port)", spec);
        return -EINVAL;
    }
    *port = (unsigned)strtoul(p, NULL, 10);
    return 0;
}

/* Fills ss with the address to bind, with an error message for a person on failure. */
static int resolve(const char *spec, const char *host, int bracketed, unsigned port,
                   struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errlen)
{
    memset(ss, 0, sizeof *ss);
    struct in_addr a4;
    if (!bracketed && host[strspn(host, "0123456789.")] == 0) {
        /* looks numeric: must be a dotted quad (no "127.1" or octal shorthand) */
        if (inet_pton(AF_INET, host, &a4) != 1) {
            snprintf(err, errlen, "\"%s\": \"%s\" is not an IPv4 address", spec, host);
            return -EINVAL;
        }
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_addr = a4;
        sin->sin_port = htons((uint16_t)port);
        *sslen = sizeof *sin;
        return 0;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_family = bracketed ? AF_INET6 : AF_UNSPEC,
                             .ai_flags = bracketed ? AI_NUMERICHOST : 0};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        if (bracketed)
            snprintf(err, errlen, "\"%s\": \"%s\" is not an IPv6 address", spec, host);
        else
            snprintf(err, errlen, "\"%s\": cannot resolve \"%s\": %s", spec, host,
                     rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return bracketed ? -EINVAL : -ENOENT;
    }
    const struct addrinfo *pick = NULL;
    for (const struct addrinfo *ai = res; ai && !pick; ai = ai->ai_next)
        if (ai->ai_family == AF_INET)
            pick = ai;
    for (const struct addrinfo *ai = res; ai && !pick; ai = ai->ai_next)
        if (ai->ai_family == AF_INET6)
            pick = ai;
    if (!pick || pick->ai_addrlen > sizeof *ss) {
        freeaddrinfo(res);
        snprintf(err, errlen, "\"%s\": \"%s\" has no IPv4 or IPv6 address", spec, host);
        return -ENOENT;
    }
    memcpy(ss, pick->ai_addr, pick->ai_addrlen);
    *sslen = pick->ai_addrlen;
    freeaddrinfo(res);
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    return 0;
}

static void bind_error(const char *spec, int e, char *err, size_t errlen)
{
    switch (e) {
    case EADDRINUSE:
        snprintf(err, errlen, "%s: address already in use", spec);
        break;
    case EADDRNOTAVAIL:
        snprintf(err, errlen, "%s: no such address on this machine", spec);
        break;
    case EACCES:
        snprintf(err, errlen, "%s: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)", spec);
        break;
    case EAFNOSUPPORT:
        snprintf(err, errlen, "%s: this address family (IPv6?) is not available on this machine", spec);
        break;
    default:
        snprintf(err, errlen, "%s: cannot listen: %s", spec, strerror(e));
    }
}

int web_listen_open(const char *spec, unsigned *port, char *err, size_t errlen)
{
    char host[HOST_MAX];
    int bracketed, rc;
    unsigned want_port;
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (!spec) {
        snprintf(err, errlen, "no listen address given");
        return -EINVAL;
    }
    if ((rc = split_listen(spec, host, sizeof host, &bracketed, &want_port, err, errlen)) < 0)
        return rc;
    if ((rc = resolve(spec, host, bracketed, want_port, &ss, &sslen, err, errlen)) < 0)
        return rc;

    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        rc = -errno;
        bind_error(spec, -rc, err, errlen);
        return rc;
    }
    int on = 1;
    /* lets a restarted box rebind while old connections sit in TIME_WAIT; on Linux it never lets
     * two live listeners share a port */
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (ss.ss_family == AF_INET6) {
        /* "[::]" means both families; a specific IPv6 address means only itself */
        int v6only = !IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr);
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        rc = -errno;
        bind_error(spec, -rc, err, errlen);
        close(fd);
        return rc;
    }
    struct sockaddr_storage got;
    socklen_t gotlen = sizeof got;
    if (getsockname(fd, (struct sockaddr *)&got, &gotlen) < 0) {
        rc = -errno;
        bind_error(spec, -rc, err, errlen);
        close(fd);
        return rc;
    }
    *port = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
                                           : ((struct sockaddr_in6 *)&got)->sin6_port);
    return fd;
}

int web_listen_is_loopback(int fd)
{
    struct sockaddr_storage got;
    socklen_t gotlen = sizeof got;
    if (getsockname(fd, (struct sockaddr *)&got, &gotlen) < 0)
        return 0;
    if (got.ss_family == AF_INET)
        return (ntohl(((struct sockaddr_in *)&got)->sin_addr.s_addr) >> 24) == 127;
    if (got.ss_family == AF_INET6) {
        const struct in6_addr *a = &((struct sockaddr_in6 *)&got)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return 0;
}
