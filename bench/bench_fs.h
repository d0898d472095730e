/* bench/bench_fs.h — what the benchmarks print about where they write: the file system a folder is
 * on (an fsync costs what the file system and its disk make it cost). Header-only, for bench/ only. */
#ifndef VW_BENCH_FS_H
#define VW_BENCH_FS_H

#include <sys/vfs.h>

static inline const char *bench_fs_name(const char *dir)
{
    struct statfs sf;
    if (statfs(dir, &sf) != 0)
        return "?";
    switch ((unsigned long)sf.f_type) {
    case 0xEF53: return "ext4";
    case 0x01021994: return "tmpfs";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x794C7630: return "overlayfs";
    case 0xF2F52010: return "f2fs";
    default: return "other";
    }
}

#endif
