/* SPDX-License-Identifier: MIT */
/*
 * fuzz/replay_main.c - a main() for fuzz targets built without libFuzzer (gcc, or clang with
 * TERN_FUZZ=OFF): runs every file named on the command line, and every regular file in every
 * directory named (sorted, not recursive), through LLVMFuzzerTestOneInput once. CI uses it to
 * replay the committed corpora as a regression test under ASan/UBSan.
 *
 * Owns: the buffer of the file being replayed. Thread: single-threaded.
 * Exit status: 0 when every input ran (an oracle failure aborts instead), 1 when an argument
 * cannot be read or no input was found at all.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

/* Read a whole file into an exactly sized heap buffer, so ASan sees over-reads. */
static int replay_file(const char *path, int verbose)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        abort();
    size_t k;
    while ((k = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += k;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf)
                abort();
        }
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        fprintf(stderr, "replay: %s: read error\n", path);
        free(buf);
        return -1;
    }
    uint8_t *exact = fz_dup(buf, n);
    free(buf);
    if (verbose)
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay the regular files of one directory in name order. Returns the count or -1. */
static int replay_dir(const char *dir, int verbose)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t nn = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (nn == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof(*names));
            if (!names)
                abort();
        }
        names[nn] = strdup(e->d_name);
        if (!names[nn])
            abort();
        nn++;
    }
    closedir(d);
    if (nn)
        qsort(names, nn, sizeof(*names), name_cmp);
    int count = 0, rc = 0;
    for (size_t i = 0; i < nn; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(len);
        if (!path)
            abort();
        snprintf(path, len, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(path, verbose) < 0)
                rc = -1;
            else
                count++;
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return rc < 0 ? -1 : count;
}

int main(int argc, char **argv)
{
    int verbose = 0, total = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-v") == 0) {
            verbose = 1;
            continue;
        }
        if (a[0] == '-')
            continue; /* libFuzzer flags (-runs=0, ...) are accepted and ignored */
        struct stat st;
        if (stat(a, &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", a, strerror(errno));
            bad = 1;
            continue;
        }
        int k = S_ISDIR(st.st_mode) ? replay_dir(a, verbose) : replay_file(a, verbose) == 0;
        if (k < 0)
            bad = 1;
        else
            total += k;
    }
    printf("replay: %d inputs ran\n", total);
    if (total == 0) {
        fprintf(stderr, "replay: no inputs (usage: %s [-v] FILE|DIR...)\n", argv[0]);
        return 1;
    }
    return bad;
}
