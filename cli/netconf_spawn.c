/* SPDX-License-Identifier: MIT */
/*
 * netconf_spawn.c - run a helper program (a hook through /bin/sh, or
 * resolvconf) and wait for it. The child starts with every signal
 * unblocked and at its default disposition, whatever the daemon blocks or
 * ignores (it blocks SIGINT/SIGTERM for its signalfd and ignores SIGPIPE).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/netconf.h"

extern char **environ;

static int spawn_attrs(posix_spawnattr_t *attr)
{
    sigset_t none, all;
    int ret;

    sigemptyset(&none);
    sigfillset(&all);
    ret = posix_spawnattr_init(attr);
    if (ret)
        return -ret;
    ret = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (!ret)
        ret = posix_spawnattr_setsigmask(attr, &none);
    if (!ret)
        ret = posix_spawnattr_setsigdefault(attr, &all);
    if (ret)
        posix_spawnattr_destroy(attr);
    return -ret;
}

/* Write all of text to fd; a reader that stops early is not an error. */
static void feed(int fd, const char *text)
{
    size_t len = strlen(text);

    while (len) {
        ssize_t n = write(fd, text, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        text += n;
        len -= (size_t)n;
    }
}

static int wait_child(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -errno;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}

int netconf_spawn(const char *const argv[], const char *stdin_text)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int pipefd[2] = { -1, -1 };
    pid_t pid;
    int ret = spawn_attrs(&attr);

    if (ret < 0)
        return ret;
    posix_spawn_file_actions_init(&fa);
    if (stdin_text && pipe2(pipefd, O_CLOEXEC) < 0) {
        ret = -errno;
        goto out;
    }
    if (stdin_text)
        posix_spawn_file_actions_adddup2(&fa, pipefd[0], STDIN_FILENO);
    else
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    ret = -posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (ret == 0 && stdin_text)
        feed(pipefd[1], stdin_text);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (ret == 0)
        ret = wait_child(pid);
out:
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return ret;
}
