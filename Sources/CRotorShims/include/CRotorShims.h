#ifndef CROTOR_SHIMS_H
#define CROTOR_SHIMS_H

/// Marks the process not dumpable (Linux prctl PR_SET_DUMPABLE 0): no core
/// file, and unprivileged processes cannot ptrace it or read /proc/PID/mem
/// or /proc/PID/environ. Returns 0 on success, -1 elsewhere.
int rotor_set_not_dumpable(void);

#endif

#ifndef CROTOR_SHIMS_PIPE_H
#define CROTOR_SHIMS_PIPE_H
/// pipe2(fds, O_CLOEXEC): both ends close on exec. Returns 0 or -1 (errno set).
int rotor_pipe_cloexec(int fds[2]);
#endif
