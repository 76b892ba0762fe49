// Package defender is taskward's runtime supervisor: it runs as a container's PID 1, starts
// the container's program, and decides every exec in the container's process tree with
// package policy (DESIGN.md decision 4).
//
// There are two mechanisms (Mechanism). Trace (trace_linux.go), described step by step
// below, is DESIGN.md decision 4 as written: every process is traced and each exec call
// stops in the tracer.
// Notify (notify_linux.go) keeps the same filter rules, resolution, policy decision and
// EXEC-time check, but exec calls reach the defender through a seccomp user-notification
// listener and a process is traced only from its allowed exec call to the check, so forks
// and exits cost nothing: two round trips per fork+exec instead of five. As PID 1 of a
// PID namespace (a task's container) Auto picks Notify; elsewhere Trace, whose EXITKILL
// stops the whole tree if the defender is killed. Both start the stage from Run
// (supervise_linux.go), share its exit and reaping duties, and dispatch every call the
// filter hands them through one classifier (classify, beside the filter's rules).
//
// Trace, step by step:
//
//  1. Run locks its goroutine to one OS thread. Every ptrace request must come from the
//     thread that attached (ptrace(2): "the tracer" is a thread), and PR_SET_PDEATHSIG fires
//     when the thread that forked the child exits, so that thread never unlocks.
//  2. It re-executes itself (/proc/self/exe) as the stage: a short-lived child marked by an
//     environment variable, blocked reading a pipe.
//  3. The parent attaches to the stage with PTRACE_SEIZE and the options TRACESECCOMP,
//     TRACEFORK, TRACEVFORK, TRACECLONE, TRACEEXEC and EXITKILL, then writes to the pipe.
//     Descendants are attached automatically from their first instruction; EXITKILL means
//     that if the defender dies, the kernel kills every tracee.
//  4. The stage sets no_new_privs (needed to install a filter without CAP_SYS_ADMIN, and it
//     stops setuid programs from gaining privilege), installs the seccomp filter on all of its
//     threads at once (SECCOMP_FILTER_FLAG_TSYNC: the Go runtime has several), and execve's
//     the program. Filters are inherited across fork and exec and can never be removed.
//  5. The filter (seccomp_filter.go) returns SECCOMP_RET_TRACE for execve and execveat (and
//     rare calls to refuse or note), so every other syscall costs a few BPF instructions and
//     no context switch. When no
//     tracer is attached, RET_TRACE makes the syscall fail with ENOSYS: a process that
//     somehow escapes the tracer cannot exec anything (fail closed).
//  6. At each PTRACE_EVENT_SECCOMP stop the defender reads the syscall's arguments, resolves
//     the program file the way the kernel will (cwd, /proc/PID/root, execveat dirfd and
//     AT_EMPTY_PATH, symlinks, /proc/self), builds a policy.Exec and calls policy.Decide. A
//     blocked exec has its syscall number set to -1 (the kernel skips it) and its return
//     value set to -EACCES, so the caller sees "Permission denied".
//     The common case is cheap: one openat2 with RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS under
//     the defender's own root, which is every tracee's root until one calls chroot,
//     pivot_root, setns or unshare/clone with CLONE_NEWNS (the filter sends those to the
//     tracer, which allows them and resolves under /proc/PID/root from then on). Paths
//     through /proc or a magic link, and any error, take the component-by-component walk.
//  7. Between the stop and the kernel reading the path, another thread of the caller could
//     rewrite the path or argv in memory. So the approval records what must run: the file's
//     device and inode and the exact command line. At PTRACE_EVENT_EXEC, when the new image
//     is in place and nothing can change it any more, /proc/PID/exe and /proc/PID/cmdline are
//     compared with the approval, and the process is killed on a mismatch. The descriptors
//     for that check are opened while the kernel runs the exec, off the new program's wait.
//  8. One wait4(-1, __WALL) loop on the locked thread handles every ptrace stop and reaps
//     every child, traced or reparented to the defender (it is PID 1 or a child subreaper).
//     When the program exits, the rest of the tree is killed and the defender exits with the
//     program's status (128+signal when it was killed), like tini.
//
// Events (events.go) are JSON lines on stderr and, optionally, batches POSTed to a
// collector; both are fed through bounded queues so that a traced process never waits for
// an event to be written.
package defender
