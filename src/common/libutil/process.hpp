// Child processes for cairn: start one with posix_spawn in a clean signal state, optionally with
// its stdout and stderr captured through pipes, and read its wait status the way a shell does.
// Invariants: a spawned child starts with every signal at its default disposition and none
// blocked, whatever the parent has set (a libev loop blocks the signals it watches, the broker
// ignores SIGPIPE, and a blocked or ignored SIGTERM would survive exec); nothing runs in the
// child between fork and exec but posix_spawn's own actions, so spawning from a threaded
// process is safe; every descriptor opened here for a child is close-on-exec in the parent,
// so a child inherits only the descriptors it is given.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "libutil/fd.hpp"
#include "libutil/result.hpp"

namespace cairn::util {

// parent_fd for a Redirect: /dev/null, read-only for fd 0, write-only for any other.
constexpr int kDevNull = -1;

// The child's descriptor `child_fd` becomes a copy of the parent's `parent_fd` (or /dev/null).
struct Redirect {
  int child_fd;
  int parent_fd;
};

struct SpawnOptions {
  // NAME=VALUE entries added to the parent's environment; each replaces the variable NAME.
  std::vector<std::string> env;
  // Applied in order in the child, before exec.
  std::vector<Redirect> redirects;
  // The child leads a process group of its own, so kill(-pid, sig) reaches what it starts too.
  bool new_process_group = false;
};

// Starts argv[0] (looked up in PATH unless it holds a '/') with arguments argv. Returns the
// child's pid, or the errno of the failure (ENOENT: no such program; EACCES, ENOEXEC: not
// runnable) with the text "cannot run ARGV0: <strerror>". An empty argv is EINVAL.
Result<pid_t> spawn(const std::vector<std::string>& argv, const SpawnOptions& opts = {});

// A child whose stdin is /dev/null and whose stdout and stderr go into pipes; `out` and `err`
// are their read ends, non-blocking. The write ends are closed in the parent, so a read gives
// end-of-file once the child and everything it started have closed them.
struct CapturedChild {
  pid_t pid = -1;
  UniqueFd out;
  UniqueFd err;
};

// spawn() with stdout and stderr captured (opts.redirects are applied after the capture's
// own). Fails as spawn() does, or with the errno of a pipe that could not be made.
Result<CapturedChild> spawn_captured(const std::vector<std::string>& argv, SpawnOptions opts = {});

// Reads what the non-blocking `fd` holds, with at most `max_reads` read calls (negative: until
// it would block or ends). Bytes are appended to `into` while it is shorter than `limit`; the
// rest is counted in `dropped`. Returns true once the stream is over (end-of-file or a read
// error): the caller closes `fd` then.
bool read_capped(int fd, std::string& into, size_t limit, uint64_t& dropped, int max_reads);

// The exit status as a shell reports it: the code of a child that exited, 128+N for one killed
// by signal N, 1 for any other wait status.
int exit_code(int wait_status);

// A wait status in words: "exited with status 3", "killed by signal 9 (SIGKILL)".
std::string describe_wait_status(int wait_status);

// `word` quoted for a POSIX shell: in single quotes, each `'` written as `'\''`, so a line
// printed for a user to paste (a CURVE key has `<`, `$`, `(`) runs as printed.
std::string shell_quote(const std::string& word);

// $PATH, or when it is unset the search path the shell and execvp use then (confstr _CS_PATH).
std::string search_path();

}  // namespace cairn::util
