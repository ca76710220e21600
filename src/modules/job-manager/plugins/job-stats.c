/* job-stats: the jobtap plugin shipped with cairn. Reports through its own stats context:
 *   jobs.state.<state>   gauge, jobs now in each state (new ... inactive)
 *   jobs.submitted       counter, jobs submitted
 *   jobs.finished        counter, jobs that reached INACTIVE
 *   jobs.run-time        timing (ms), each job's time in RUN
 * conf: prefix=TEXT (default: the broker's stats.prefix), period=SECONDS (default stats.period).
 * Load it with `cairn jobtap load job-stats` or the config key job-manager.plugins. */
#include <cairn/jobtap.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

/* "jobs.state.run" for CAIRN_JOB_RUN; NULL for a value that is no state. */
static const char *gauge_name(int64_t state) {
  switch (state) {
    case CAIRN_JOB_NEW:
      return "jobs.state.new";
    case CAIRN_JOB_DEPEND:
      return "jobs.state.depend";
    case CAIRN_JOB_PRIORITY:
      return "jobs.state.priority";
    case CAIRN_JOB_SCHED:
      return "jobs.state.sched";
    case CAIRN_JOB_RUN:
      return "jobs.state.run";
    case CAIRN_JOB_CLEANUP:
      return "jobs.state.cleanup";
    case CAIRN_JOB_INACTIVE:
      return "jobs.state.inactive";
    default:
      return NULL;
  }
}

static int on_new(cairn_plugin_t *p, const char *topic, cairn_plugin_args_t *args, void *arg) {
  (void)topic;
  (void)args;
  (void)arg;
  cairn_stats_counter_add(cairn_plugin_stats(p), "jobs.submitted", 1);
  return 0;
}

static int on_state(cairn_plugin_t *p, const char *topic, cairn_plugin_args_t *args, void *arg) {
  cairn_stats_t *s = cairn_plugin_stats(p);
  int64_t state, prev;
  double t_run, t_cleanup;

  (void)topic;
  (void)arg;
  if (cairn_plugin_arg_int(args, "state", &state) < 0) {
    cairn_plugin_log(p, LOG_ERR, "%s: no state given", topic);
    return -1;
  }
  if (gauge_name(state)) cairn_stats_gauge_inc(s, gauge_name(state), 1);
  if (cairn_plugin_arg_int(args, "prev_state", &prev) == 0 && gauge_name(prev))
    cairn_stats_gauge_inc(s, gauge_name(prev), -1);

  if (state == CAIRN_JOB_CLEANUP && cairn_plugin_arg_double(args, "t_run", &t_run) == 0 &&
      cairn_plugin_arg_double(args, "t_cleanup", &t_cleanup) == 0 && t_cleanup >= t_run)
    cairn_stats_timing(s, "jobs.run-time", (t_cleanup - t_run) * 1e3);
  if (state == CAIRN_JOB_INACTIVE) cairn_stats_counter_add(s, "jobs.finished", 1);
  return 0;
}

int cairn_plugin_init(cairn_plugin_t *p) {
  cairn_stats_t *s = cairn_plugin_stats(p);
  const char *prefix = cairn_plugin_conf(p, "prefix");
  const char *period = cairn_plugin_conf(p, "period");

  if (prefix && cairn_stats_set_prefix(s, "%s", prefix) < 0) {
    cairn_plugin_log(p, LOG_ERR,
                     "prefix=%s: refused (at most 127 characters, no ':|@' "
                     "or spaces)",
                     prefix);
    return -1;
  }
  if (period) {
    char *end;
    double seconds;
    errno = 0;
    seconds = strtod(period, &end);
    if (errno != 0 || end == period || *end != '\0' || cairn_stats_set_period(s, seconds) < 0) {
      cairn_plugin_log(p, LOG_ERR, "period=%s: not a number of seconds >= 0", period);
      return -1;
    }
  }
  if (cairn_plugin_add_handler(p, "job.new", on_new, NULL) < 0 ||
      cairn_plugin_add_handler(p, "job.state.*", on_state, NULL) < 0) {
    cairn_plugin_log(p, LOG_ERR, "cannot register handlers");
    return -1;
  }
  return 0;
}
