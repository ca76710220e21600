/* Test plugin for t1200: aggregated mode (period 1 s) under the prefix cairn.job.state.
 * Counts every state entered, times each job's RUN ("run.timing") and keeps a running count
 * of inactive jobs. */
#include <cairn/jobtap.h>
#include <errno.h>
#include <string.h>
#include <syslog.h>

static int64_t inactive_total;

static int on_state(cairn_plugin_t *p, const char *topic, cairn_plugin_args_t *args, void *arg) {
  cairn_stats_t *s = cairn_plugin_stats(p);
  int64_t state;
  double t_run, t_cleanup;

  (void)topic;
  (void)arg;
  if (cairn_plugin_arg_int(args, "state", &state) < 0) return -1;
  cairn_stats_counter_add(s, cairn_job_statetostr(state, false), 1);
  if (state == CAIRN_JOB_CLEANUP) {
    if (cairn_plugin_arg_double(args, "t_run", &t_run) < 0 ||
        cairn_plugin_arg_double(args, "t_cleanup", &t_cleanup) < 0)
      return -1;
    cairn_stats_timing(s, "run.timing", (t_cleanup - t_run) * 1e3);
  }
  if (state == CAIRN_JOB_INACTIVE) cairn_stats_count(s, "inactive", ++inactive_total);
  return 0;
}

int cairn_plugin_init(cairn_plugin_t *p) {
  cairn_stats_t *s = cairn_plugin_stats(p);

  if (cairn_stats_set_prefix(s, "cairn.job.state") < 0 || cairn_stats_set_period(s, 1.0) < 0) {
    cairn_plugin_log(p, LOG_ERR, "cannot set prefix or period: %s", strerror(errno));
    return -1;
  }
  return cairn_plugin_add_handler(p, "job.state.*", on_state, NULL);
}
