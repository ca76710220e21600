// The jobtap plugin host: loads plugin shared objects, keeps each plugin's handlers, conf, aux
// data and its own stats context, and calls matching handlers for each job event.
// Invariants: plugins are kept in load order and handlers are called in that order; a plugin
// is in the list only if its cairn_plugin_init succeeded; a plugin's aux destructors run before
// its shared object is closed. The C API of cairn/jobtap.h is implemented in jobtap.cpp.
#pragma once

#include <cairn/jobtap.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "libutil/result.hpp"
#include "libutil/shared_object.hpp"
#include "modules/job-manager/job.hpp"

// The data of one event as the C API reads it: a small fixed table, filled on the stack for
// each event so calling plugins allocates nothing.
struct cairn_plugin_args {
  enum class Kind { kInt, kDouble, kString };
  struct Entry {
    const char* key;
    Kind kind;
    int64_t i;
    double d;
    const char* s;
  };
  static constexpr size_t kMaxEntries = 16;
  Entry entries[kMaxEntries];
  size_t count = 0;

  void set_int(const char* key, int64_t v) { add({key, Kind::kInt, v, 0, nullptr}); }
  void set_double(const char* key, double v) { add({key, Kind::kDouble, 0, v, nullptr}); }
  void set_string(const char* key, const char* v) { add({key, Kind::kString, 0, 0, v}); }
  const Entry* find(const char* key) const;

 private:
  void add(const Entry& e) {
    if (count < kMaxEntries) entries[count++] = e;
  }
};

namespace cairn::job_manager {

using util::SharedObject;

// A plugin's own stats context: `c_api` stays valid while `owner` lives. Type-erased so the
// host needs nothing of libstats (the service makes these from ModuleContext::stats_context()).
struct PluginStats {
  std::shared_ptr<void> owner;
  cairn_stats_t* c_api = nullptr;
};
using StatsFactory = std::function<PluginStats()>;

// PluginStats from a std::unique_ptr<stats::Context> (or any owner with c_api()); a template
// so this header needs nothing of libstats.
template <typename ContextPtr>
PluginStats make_plugin_stats(ContextPtr context) {
  PluginStats ps;
  if (context) ps.c_api = context->c_api();
  ps.owner = std::shared_ptr<typename ContextPtr::element_type>(std::move(context));
  return ps;
}
using LogFn = std::function<void(int level, const std::string& text)>;
using Conf = std::map<std::string, std::string>;

struct PluginInfo {
  std::string name;
  std::string path;
  Conf conf;
  size_t handlers = 0;
  // The keys of `conf` that cairn_plugin_init never asked for (cairn_plugin_conf), in key
  // order: most likely typos, since a plugin reads its settings in init.
  std::vector<std::string> unused_conf;
};

}  // namespace cairn::job_manager

// One loaded plugin (the C API's cairn_plugin_t).
struct cairn_plugin {
  struct Handler {
    std::string glob;
    cairn_plugin_f cb;
    void* arg;
  };
  struct Aux {
    void* value;
    void (*destroy)(void*);
  };

  ~cairn_plugin();
  void log(int level, const std::string& text);

  cairn::job_manager::SharedObject so;  // first member: closed last
  std::string name;
  std::string path;
  cairn::job_manager::Conf conf;
  std::set<std::string, std::less<>> conf_asked;  // keys cairn_plugin_conf was asked for in init
  std::vector<std::string> unused_conf;           // keys of conf not in conf_asked
  std::vector<Handler> handlers;
  std::map<std::string, Aux> aux;
  cairn::job_manager::PluginStats stats;
  cairn::job_manager::LogFn host_log;
  bool initializing = false;
  std::string init_complaint;  // last warning/error logged during init
};

namespace cairn::job_manager {

class PluginHost {
 public:
  // `search_path`: directories where a bare plugin name is looked up, in order.
  PluginHost(StatsFactory stats, LogFn log, std::vector<std::string> search_path);
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // The search path of a broker: $CAIRN_PLUGIN_PATH (colon-separated) then PLUGINDIR.
  static std::vector<std::string> default_search_path();

  // Loads a plugin by path (contains '/') or bare name (`job-stats` or `job-stats.so`, looked
  // up in the search path). Errors: ENOENT (not found), EEXIST (same name loaded), EINVAL
  // (dlopen failed or no cairn_plugin_init), ECANCELED (init returned < 0); the text says why.
  // Settings of `conf` that init did not ask for are logged as a warning and listed in the
  // plugin's PluginInfo::unused_conf; the plugin is loaded all the same.
  util::Status load(const std::string& path_or_name, Conf conf = {});
  // Unloads the plugin `name` (with or without ".so"), or every plugin for "all". Returns the
  // number unloaded; ENOENT if none matched (for "all", none loaded is 0, not an error).
  util::Result<size_t> remove(const std::string& name);
  std::vector<PluginInfo> list() const;
  size_t size() const { return plugins_.size(); }

  // Calls every handler whose glob matches `topic`, in load order. A handler returning < 0 is
  // logged; the rest still run.
  void call(const char* topic, cairn_plugin_args* args);
  // As call(), for the most recently loaded plugin only (JobManager::load_plugin tells it of
  // the jobs that already exist).
  void call_newest(const char* topic, cairn_plugin_args* args);

  // The plugin's name for a path: its file name without ".so".
  static std::string name_of(const std::string& path);

 private:
  std::optional<std::string> resolve(const std::string& path_or_name) const;
  // Calls p's handlers whose glob matches `topic`; a failing one is logged.
  static void call_plugin(cairn_plugin& p, const char* topic, cairn_plugin_args* args);

  StatsFactory stats_;
  LogFn log_;
  std::vector<std::string> search_path_;
  std::vector<std::unique_ptr<cairn_plugin>> plugins_;
};

}  // namespace cairn::job_manager
