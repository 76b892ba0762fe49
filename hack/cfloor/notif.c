/* The cost floor of the defender's notify mechanism: execve goes to a seccomp user-notification
 * listener; each exec is allowed after attaching to the caller (PTRACE_SEIZE with TRACEEXEC),
 * checking the notification is still valid, continuing the call and interrupting the caller,
 * then detaching at PTRACE_EVENT_EXEC (or at the stop a failed exec makes). No decision, no
 * /proc reads. Compare with floor.c, the same for the trace mechanism. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <stddef.h>
#include <errno.h>
#include <poll.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <linux/audit.h>

static void sendfd(int s, int fd) {
    struct msghdr m = {0}; char buf[CMSG_SPACE(sizeof(int))]; char c = 'x';
    struct iovec io = {&c, 1}; m.msg_iov = &io; m.msg_iovlen = 1;
    m.msg_control = buf; m.msg_controllen = sizeof buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm->cmsg_level = SOL_SOCKET; cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int)); memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    sendmsg(s, &m, 0);
}
static int recvfd(int s) {
    struct msghdr m = {0}; char buf[CMSG_SPACE(sizeof(int))]; char c;
    struct iovec io = {&c, 1}; m.msg_iov = &io; m.msg_iovlen = 1;
    m.msg_control = buf; m.msg_controllen = sizeof buf;
    if (recvmsg(s, &m, 0) <= 0) return -1;
    int fd; memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd); return fd;
}

int main(int argc, char **argv) {
    int sv[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        /* With MMAP_EXEC set, executable mappings of a file (mmap with PROT_EXEC and a
           descriptor) are notified too: what a `libraries` rule would cost. */
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD|BPF_W|BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, __NR_execve, 0, 1),
            BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_USER_NOTIF),
            BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, __NR_mmap, 0, 5),
            BPF_STMT(BPF_LD|BPF_W|BPF_ABS, offsetof(struct seccomp_data, args[2])),
            BPF_JUMP(BPF_JMP|BPF_JSET|BPF_K, PROT_EXEC, 0, 3),
            BPF_STMT(BPF_LD|BPF_W|BPF_ABS, offsetof(struct seccomp_data, args[4])),
            BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, 0xffffffff, 1, 0),
            BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_USER_NOTIF),
            BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = getenv("MMAP_EXEC") ? 10 : 4, .filter = f };
        if (!getenv("MMAP_EXEC")) f[3] = (struct sock_filter)BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ALLOW);
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        int fd = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        if (fd < 0) { perror("seccomp"); _exit(126); }
        sendfd(sv[1], fd); close(fd); close(sv[1]);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    close(sv[1]);
    int nfd = recvfd(sv[0]);
    struct seccomp_notif_sizes sz; syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz);
    struct seccomp_notif *req = calloc(1, sz.seccomp_notif > sizeof(*req) ? sz.seccomp_notif : sizeof(*req));
    struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp > sizeof(*resp) ? sz.seccomp_notif_resp : sizeof(*resp));
    int status, code = 0;
    for (;;) {
        struct pollfd p = { nfd, POLLIN, 0 };
        int n = poll(&p, 1, 50);
        if (n == 0 || (p.revents & (POLLHUP|POLLERR))) {
            pid_t w = waitpid(pid, &status, WNOHANG|__WALL);
            if (w == pid && (WIFEXITED(status) || WIFSIGNALED(status))) { code = WIFEXITED(status) ? WEXITSTATUS(status) : 128; break; }
            if (p.revents & (POLLHUP|POLLERR)) { waitpid(pid, &status, __WALL); code = WEXITSTATUS(status); break; }
            continue;
        }
        memset(req, 0, sz.seccomp_notif);
        if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) continue;
        pid_t t = req->pid;
        if (req->data.nr == __NR_mmap) {
            /* The least a drift check does: stat the mapped file through the caller's fd. */
            char path[64]; struct stat st;
            snprintf(path, sizeof path, "/proc/%d/fd/%d", t, (int)req->data.args[4]);
            stat(path, &st);
            memset(resp, 0, sz.seccomp_notif_resp);
            resp->id = req->id; resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
            ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp);
            continue;
        }
        int seized = ptrace(PTRACE_SEIZE, t, 0, PTRACE_O_TRACEEXEC|PTRACE_O_EXITKILL) == 0;
        memset(resp, 0, sz.seccomp_notif_resp);
        resp->id = req->id;
        if (!seized || ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) {
            if (seized) ptrace(PTRACE_DETACH, t, 0, 0);
            resp->error = -EACCES; ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp); continue;
        }
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp);
        ptrace(PTRACE_INTERRUPT, t, 0, 0);
        for (;;) {
            pid_t w = waitpid(-1, &status, __WALL);
            if (w < 0) break;
            if (WIFEXITED(status) || WIFSIGNALED(status)) {
                if (w == pid) code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
                if (w == t) break; continue;
            }
            if (WIFSTOPPED(status)) {
                /* exec event (pid may be tgid) or interrupt stop: detach */
                ptrace(PTRACE_DETACH, w, 0, 0);
                if (w == t || (status>>16) == PTRACE_EVENT_EXEC) break;
            }
        }
    }
    return code;
}
