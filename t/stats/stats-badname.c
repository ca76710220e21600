/* Test plugin for t1003: the bug of a gauge named after cairn_job_statetostr() of a state that
 * is no state ("?"). Immediate mode under the prefix cairn.job.badname. At init it decrements
 * the gauge of an unknown state exactly once (libstats must refuse and count it, never send
 * "cairn.job.badname.?:-1|g") and sets "loaded" to 1; on every state change it moves a job
 * from the gauge of its previous state to that of its new one, as a real plugin would. */
#include <cairn/jobtap.h>
#include <errno.h>
#include <string.h>
#include <syslog.h>

static int on_state(cairn_plugin_t *p, const char *topic, cairn_plugin_args_t *args, void *arg) {
  cairn_stats_t *s = cairn_plugin_stats(p);
  int64_t state, prev;

  (void)topic;
  (void)arg;
  if (cairn_plugin_arg_int(args, "state", &state) < 0) return -1;
  cairn_stats_gauge_inc(s, cairn_job_statetostr(state, false), 1);
  if (cairn_plugin_arg_int(args, "prev_state", &prev) == 0)
    cairn_stats_gauge_inc(s, cairn_job_statetostr(prev, false), -1);
  else if (errno != ENOENT)
    return -1;
  return 0;
}

int cairn_plugin_init(cairn_plugin_t *p) {
  cairn_stats_t *s = cairn_plugin_stats(p);

  if (cairn_stats_set_prefix(s, "cairn.job.badname") < 0 || cairn_stats_set_period(s, 0) < 0) {
    cairn_plugin_log(p, LOG_ERR, "cannot set prefix or period: %s", strerror(errno));
    return -1;
  }
  errno = 0;
  if (cairn_stats_set_prefix(s, "cairn.job.%s", cairn_job_statetostr(-1, false)) != -1 ||
      errno != EINVAL)
    cairn_plugin_log(p, LOG_ERR, "a prefix with '?' was not refused with EINVAL");
  cairn_stats_gauge_inc(s, cairn_job_statetostr(-1, false), -1);
  cairn_stats_gauge_set(s, "loaded", 1);
  return cairn_plugin_add_handler(p, "job.state.*", on_state, NULL);
}
