/* job-stats: the jobtap plugin shipped with cairn. Reports through its own stats context:
 *   jobs.state.<state>   gauge, jobs now in each state (new ... inactive)
 *   jobs.submitted       counter, jobs submitted
 *   jobs.finished        counter, jobs that reached INACTIVE
 *   jobs.run-time        timing (ms), each job's time in RUN
 * conf: prefix=TEXT (default: the broker's stats.prefix), period=SECONDS (default stats.period).
 * Load it with `cairn jobtap load job-stats` or the config key job-manager.plugins.
 * The state gauges are absolute counts (a gauge set, never a +1/-1 change): all seven at load,
 * then each state's whenever its count changes (in aggregated mode, its last value of the
 * period). So a statsd server shows the broker's own numbers whenever the plugin was loaded and
 * after a restart, and a lost packet is made good by the next change of that state.
 * Invariant: counts[i] is the number of jobs the job manager holds in state 1 << i, as told by
 * job.new (also called at load for jobs that already exist), job.state.* and job.destroy. */
#include <cairn/jobtap.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

enum { kStates = 7 };

static const char *const gauge_names[kStates] = {
    "jobs.state.new", "jobs.state.depend",  "jobs.state.priority", "jobs.state.sched",
    "jobs.state.run", "jobs.state.cleanup", "jobs.state.inactive",
};

struct job_counts {
  int64_t counts[kStates];
};

/* The index of `state` in counts (CAIRN_JOB_RUN -> 4); -1 for a value that is no state. */
static int state_index(int64_t state) {
  for (int i = 0; i < kStates; i++)
    if (state == (INT64_C(1) << i)) return i;
  return -1;
}

static struct job_counts *counts_of(cairn_plugin_t *p) {
  return cairn_plugin_aux_get(p, "job-stats::counts");
}

/* The count of state index i, as an absolute gauge value. */
static void send_count(cairn_plugin_t *p, const struct job_counts *c, int i) {
  cairn_stats_gauge_set(cairn_plugin_stats(p), gauge_names[i], c->counts[i]);
}

/* Moves one job out of `from` and into `to` (either may be 0: none) and sends both counts. */
static void move_job(cairn_plugin_t *p, int64_t from, int64_t to) {
  struct job_counts *c = counts_of(p);
  int i = state_index(from), j = state_index(to);
  if (!c || i == j) return;
  if (i >= 0 && c->counts[i] > 0) {
    c->counts[i]--;
    send_count(p, c, i);
  }
  if (j >= 0) {
    c->counts[j]++;
    send_count(p, c, j);
  }
}

static int job_state(cairn_plugin_t *p, const char *topic, cairn_plugin_args_t *args,
                     int64_t *state) {
  if (cairn_plugin_arg_int(args, "state", state) == 0) return 0;
  cairn_plugin_log(p, LOG_ERR, "%s: no state given", topic);
  return -1;
}

/* A job submitted now (state NEW), or one that existed when the plugin was loaded. */
static int on_new(cairn_plugin_t *p, const char *topic, cairn_plugin_args_t *args, void *arg) {
  int64_t state;
  (void)arg;
  if (job_state(p, topic, args, &state) < 0) return -1;
  move_job(p, 0, state);
  return 0;
}

/* A job the job manager forgets (purged when inactive, or at shutdown in any state). */
static int on_destroy(cairn_plugin_t *p, const char *topic, cairn_plugin_args_t *args, void *arg) {
  int64_t state;
  (void)arg;
  if (job_state(p, topic, args, &state) < 0) return -1;
  move_job(p, state, 0);
  return 0;
}

static int on_state(cairn_plugin_t *p, const char *topic, cairn_plugin_args_t *args, void *arg) {
  cairn_stats_t *s = cairn_plugin_stats(p);
  int64_t state, prev;
  double t_run, t_cleanup;

  (void)arg;
  if (job_state(p, topic, args, &state) < 0) return -1;
  if (cairn_plugin_arg_int(args, "prev_state", &prev) == 0) {
    move_job(p, prev, state);
  } else if (state == CAIRN_JOB_NEW) {
    /* The first transition of a new job, already counted in NEW by job.new. */
    cairn_stats_counter_add(s, "jobs.submitted", 1);
  }

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
  struct job_counts *counts;

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
  counts = calloc(1, sizeof *counts);
  if (!counts || cairn_plugin_aux_set(p, "job-stats::counts", counts, free) < 0) {
    free(counts);
    cairn_plugin_log(p, LOG_ERR, "out of memory");
    return -1;
  }
  if (cairn_plugin_add_handler(p, "job.new", on_new, NULL) < 0 ||
      cairn_plugin_add_handler(p, "job.state.*", on_state, NULL) < 0 ||
      cairn_plugin_add_handler(p, "job.destroy", on_destroy, NULL) < 0) {
    cairn_plugin_log(p, LOG_ERR, "cannot register handlers");
    return -1;
  }
  /* Zeros until the job manager tells of its jobs: a statsd server stops showing what an
   * earlier broker (or an earlier load of this plugin) counted. */
  for (int i = 0; i < kStates; i++) send_count(p, counts, i);
  /* Declares the counters: from now on each packet of this context carries them, 0 included
   * (cairn-stats(3)), so a graph shows 0 jobs, not "no data", until the first job. */
  cairn_stats_counter_add(s, "jobs.submitted", 0);
  cairn_stats_counter_add(s, "jobs.finished", 0);
  return 0;
}
