/* Test plugin for t1200: immediate mode (period 0) under the prefix cairn.job.state.immediate.
 * Sends a gauge +1/-1 per state change, a timing of CLEANUP -> INACTIVE ("cleanup.timing")
 * and a running count of inactive jobs. At init it also tries a prefix longer than 127
 * characters, which must be refused with the old prefix kept; if not, it logs an error. */
#include <cairn/jobtap.h>
#include <errno.h>
#include <string.h>
#include <syslog.h>

static int64_t inactive_total;

static int on_state(cairn_plugin_t *p, const char *topic, cairn_plugin_args_t *args, void *arg) {
  cairn_stats_t *s = cairn_plugin_stats(p);
  int64_t state, prev;
  double t_cleanup, t_inactive;

  (void)topic;
  (void)arg;
  if (cairn_plugin_arg_int(args, "state", &state) < 0) return -1;
  cairn_stats_gauge_inc(s, cairn_job_statetostr(state, false), 1);
  if (cairn_plugin_arg_int(args, "prev_state", &prev) == 0)
    cairn_stats_gauge_inc(s, cairn_job_statetostr(prev, false), -1);
  else if (errno != ENOENT)
    return -1;
  if (state == CAIRN_JOB_INACTIVE) {
    if (cairn_plugin_arg_double(args, "t_cleanup", &t_cleanup) < 0 ||
        cairn_plugin_arg_double(args, "t_inactive", &t_inactive) < 0)
      return -1;
    cairn_stats_count(s, "inactive", ++inactive_total);
    cairn_stats_timing(s, "cleanup.timing", (t_inactive - t_cleanup) * 1e3);
  }
  return 0;
}

int cairn_plugin_init(cairn_plugin_t *p) {
  cairn_stats_t *s = cairn_plugin_stats(p);
  char long_prefix[201];

  if (cairn_stats_set_prefix(s, "cairn.job.state.immediate") < 0 ||
      cairn_stats_set_period(s, 0) < 0) {
    cairn_plugin_log(p, LOG_ERR, "cannot set prefix or period: %s", strerror(errno));
    return -1;
  }
  memset(long_prefix, 'x', sizeof long_prefix - 1);
  long_prefix[sizeof long_prefix - 1] = '\0';
  errno = 0;
  if (cairn_stats_set_prefix(s, "%s", long_prefix) != -1 || errno != EINVAL)
    cairn_plugin_log(p, LOG_ERR, "a prefix of %zu characters was not refused with EINVAL",
                     strlen(long_prefix));
  return cairn_plugin_add_handler(p, "job.state.*", on_state, NULL);
}
