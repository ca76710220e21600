// The jobtap plugin host and the C API of cairn/jobtap.h (exported from the broker so that
// plugins resolve it at dlopen time). No C API function lets an exception escape.
#include "modules/job-manager/jobtap.hpp"

#include <config.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifndef PLUGINDIR
#define PLUGINDIR ""
#endif

const cairn_plugin_args::Entry* cairn_plugin_args::find(const char* key) const {
  for (size_t i = 0; i < count; i++) {
    if (std::strcmp(entries[i].key, key) == 0) return &entries[i];
  }
  return nullptr;
}

cairn_plugin::~cairn_plugin() {
  // Aux values are the plugin's: destroy them while its code is still mapped.
  for (auto& [key, a] : aux) {
    if (a.destroy) a.destroy(a.value);
  }
  aux.clear();
  stats = {};
}

void cairn_plugin::log(int level, const std::string& text) {
  if (initializing && level <= LOG_WARNING) init_complaint = text;
  if (host_log) host_log(level, "jobtap: " + name + ": " + text);
}

namespace cairn::job_manager {

namespace {

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

PluginHost::PluginHost(StatsFactory stats, LogFn log, std::vector<std::string> search_path)
    : stats_(std::move(stats)), log_(std::move(log)), search_path_(std::move(search_path)) {}

PluginHost::~PluginHost() {
  // Unload in reverse load order.
  while (!plugins_.empty()) plugins_.pop_back();
}

std::vector<std::string> PluginHost::default_search_path() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("CAIRN_PLUGIN_PATH")) {
    std::string s = env;
    size_t start = 0;
    while (start <= s.size()) {
      size_t end = s.find(':', start);
      if (end == std::string::npos) end = s.size();
      if (end > start) dirs.push_back(s.substr(start, end - start));
      start = end + 1;
    }
  }
  if (PLUGINDIR[0] != '\0') dirs.emplace_back(PLUGINDIR);
  return dirs;
}

std::string PluginHost::name_of(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (ends_with(base, ".so") && base.size() > 3) base.resize(base.size() - 3);
  return base;
}

std::optional<std::string> PluginHost::resolve(const std::string& path_or_name) const {
  if (path_or_name.find('/') != std::string::npos) {
    if (is_file(path_or_name)) return path_or_name;
    return std::nullopt;
  }
  for (const auto& dir : search_path_) {
    for (const char* suffix : {"", ".so"}) {
      std::string candidate = dir + "/" + path_or_name + suffix;
      if (is_file(candidate)) return candidate;
    }
  }
  return std::nullopt;
}

util::Status PluginHost::load(const std::string& path_or_name, Conf conf) {
  if (path_or_name.empty()) return util::Error{EINVAL, "no plugin path or name given"};
  auto path = resolve(path_or_name);
  if (!path) {
    if (path_or_name.find('/') != std::string::npos)
      return util::Error{ENOENT, path_or_name + ": no such file"};
    std::string where;
    for (const auto& dir : search_path_) where += (where.empty() ? "" : ":") + dir;
    return util::Error{ENOENT, path_or_name + ": plugin not found in " +
                                   (where.empty() ? std::string("(empty search path)") : where) +
                                   " (give a path, or set CAIRN_PLUGIN_PATH)"};
  }
  std::string name = name_of(*path);
  for (const auto& p : plugins_) {
    if (p->name == name)
      return util::Error{EEXIST, name + ": a plugin of this name is already loaded"};
  }

  dlerror();
  void* handle = dlopen(path->c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    return util::Error{EINVAL, std::string(why ? why : (*path + ": dlopen failed"))};
  }
  auto plugin = std::make_unique<cairn_plugin>();
  plugin->so.reset(handle);
  plugin->name = name;
  plugin->path = *path;
  plugin->conf = std::move(conf);
  plugin->host_log = log_;
  if (stats_) plugin->stats = stats_();

  using InitFn = int (*)(cairn_plugin_t*);
  auto init = reinterpret_cast<InitFn>(plugin->so.symbol("cairn_plugin_init"));
  if (!init) {
    return util::Error{EINVAL,
                       *path + ": not a cairn jobtap plugin: it does not define cairn_plugin_init"};
  }
  plugin->initializing = true;
  int rc = init(plugin.get());
  plugin->initializing = false;
  if (rc < 0) {
    std::string why = plugin->init_complaint.empty()
                          ? "cairn_plugin_init returned " + std::to_string(rc)
                          : plugin->init_complaint;
    return util::Error{ECANCELED, name + ": initialization failed: " + why};
  }
  for (const auto& [key, value] : plugin->conf)
    if (!plugin->conf_asked.contains(key)) plugin->unused_conf.push_back(key);
  if (log_) {
    log_(LOG_INFO, "jobtap: loaded " + name + " from " + *path);
    for (const auto& key : plugin->unused_conf)
      log_(LOG_WARNING,
           "jobtap: " + name + ": setting '" + key + "' was not used by the plugin (a typo?)");
  }
  plugins_.push_back(std::move(plugin));
  return {};
}

util::Result<size_t> PluginHost::remove(const std::string& name) {
  size_t n = 0;
  std::string bare = name_of(name);
  for (size_t i = plugins_.size(); i-- > 0;) {
    if (name == "all" || plugins_[i]->name == bare) {
      if (log_) log_(LOG_INFO, "jobtap: removed " + plugins_[i]->name);
      plugins_.erase(plugins_.begin() + static_cast<std::ptrdiff_t>(i));
      n++;
    }
  }
  if (n == 0 && name != "all") return util::Error{ENOENT, name + ": no such plugin is loaded"};
  return n;
}

std::vector<PluginInfo> PluginHost::list() const {
  std::vector<PluginInfo> out;
  for (const auto& p : plugins_)
    out.push_back({p->name, p->path, p->conf, p->handlers.size(), p->unused_conf});
  return out;
}

void PluginHost::call(const char* topic, cairn_plugin_args* args) {
  // By index: a handler may add handlers (to its own plugin) while we iterate.
  for (size_t i = 0; i < plugins_.size(); i++) call_plugin(*plugins_[i], topic, args);
}

void PluginHost::call_newest(const char* topic, cairn_plugin_args* args) {
  if (!plugins_.empty()) call_plugin(*plugins_.back(), topic, args);
}

void PluginHost::call_plugin(cairn_plugin& p, const char* topic, cairn_plugin_args* args) {
  for (size_t j = 0; j < p.handlers.size(); j++) {
    const auto& h = p.handlers[j];
    if (fnmatch(h.glob.c_str(), topic, 0) != 0) continue;
    int rc = h.cb(&p, topic, args, h.arg);
    if (rc < 0) {
      p.log(LOG_ERR, std::string(topic) + " callback failed (returned " + std::to_string(rc) +
                         "); the job goes on");
    }
  }
}

}  // namespace cairn::job_manager

// --- C API -------------------------------------------------------------------------------

#define CAIRN_EXPORT __attribute__((visibility("default")))

extern "C" {

CAIRN_EXPORT int cairn_plugin_add_handler(cairn_plugin_t* p, const char* topic_glob,
                                          cairn_plugin_f cb, void* arg) {
  if (!p || !topic_glob || !cb) {
    errno = EINVAL;
    return -1;
  }
  try {
    p->handlers.push_back({topic_glob, cb, arg});
  } catch (...) {
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

// The entry `key` of `args`, to be read into `out` as a kind `readable` accepts; else NULL with
// errno EINVAL (a null argument, or a kind that does not read as asked) or ENOENT (no such key).
static const cairn_plugin_args::Entry* lookup(cairn_plugin_args_t* args, const char* key,
                                              const void* out,
                                              bool (*readable)(cairn_plugin_args::Kind)) {
  if (!args || !key) {
    errno = EINVAL;
    return nullptr;
  }
  const auto* e = args->find(key);
  if (!e) {
    errno = ENOENT;
    return nullptr;
  }
  if (!out || !readable(e->kind)) {
    errno = EINVAL;
    return nullptr;
  }
  return e;
}

using ArgKind = cairn_plugin_args::Kind;

CAIRN_EXPORT int cairn_plugin_arg_int(cairn_plugin_args_t* args, const char* key, int64_t* v) {
  const auto* e = lookup(args, key, v, [](ArgKind k) { return k == ArgKind::kInt; });
  if (!e) return -1;
  *v = e->i;
  return 0;
}

// An int reads as a double too.
CAIRN_EXPORT int cairn_plugin_arg_double(cairn_plugin_args_t* args, const char* key, double* v) {
  const auto* e = lookup(args, key, v, [](ArgKind k) { return k != ArgKind::kString; });
  if (!e) return -1;
  *v = e->kind == ArgKind::kInt ? static_cast<double>(e->i) : e->d;
  return 0;
}

CAIRN_EXPORT int cairn_plugin_arg_string(cairn_plugin_args_t* args, const char* key,
                                         const char** v) {
  const auto* e = lookup(args, key, v, [](ArgKind k) { return k == ArgKind::kString; });
  if (!e) return -1;
  *v = e->s;
  return 0;
}

CAIRN_EXPORT int cairn_plugin_aux_set(cairn_plugin_t* p, const char* key, void* val,
                                      void (*destroy)(void*)) {
  if (!p || !key) {
    errno = EINVAL;
    return -1;
  }
  try {
    auto it = p->aux.find(key);
    if (it != p->aux.end()) {
      cairn_plugin::Aux old = it->second;
      it->second = {val, destroy};
      if (old.destroy && old.value != val) old.destroy(old.value);
    } else {
      p->aux.emplace(key, cairn_plugin::Aux{val, destroy});
    }
  } catch (...) {
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

CAIRN_EXPORT void* cairn_plugin_aux_get(cairn_plugin_t* p, const char* key) {
  if (!p || !key) {
    errno = EINVAL;
    return nullptr;
  }
  auto it = p->aux.find(key);
  if (it == p->aux.end()) {
    errno = ENOENT;
    return nullptr;
  }
  return it->second.value;
}

CAIRN_EXPORT const char* cairn_plugin_conf(cairn_plugin_t* p, const char* key) {
  if (!p || !key) return nullptr;
  if (p->initializing) {
    try {
      p->conf_asked.emplace(key);
    } catch (...) {  // out of memory: at worst the key is reported unused
    }
  }
  auto it = p->conf.find(key);
  return it == p->conf.end() ? nullptr : it->second.c_str();
}

CAIRN_EXPORT const char* cairn_plugin_name(cairn_plugin_t* p) {
  return p ? p->name.c_str() : nullptr;
}

CAIRN_EXPORT void cairn_plugin_log(cairn_plugin_t* p, int level, const char* fmt, ...) {
  if (!p || !fmt) return;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  try {
    p->log(level, buf);
  } catch (...) {
  }
}

CAIRN_EXPORT cairn_stats_t* cairn_plugin_stats(cairn_plugin_t* p) {
  return p ? p->stats.c_api : nullptr;
}

CAIRN_EXPORT const char* cairn_job_statetostr(int64_t state, bool single_char) {
  switch (state) {
    case CAIRN_JOB_NEW:
      return single_char ? "N" : "NEW";
    case CAIRN_JOB_DEPEND:
      return single_char ? "D" : "DEPEND";
    case CAIRN_JOB_PRIORITY:
      return single_char ? "P" : "PRIORITY";
    case CAIRN_JOB_SCHED:
      return single_char ? "S" : "SCHED";
    case CAIRN_JOB_RUN:
      return single_char ? "R" : "RUN";
    case CAIRN_JOB_CLEANUP:
      return single_char ? "C" : "CLEANUP";
    case CAIRN_JOB_INACTIVE:
      return single_char ? "I" : "INACTIVE";
    default:
      return "?";
  }
}

}  // extern "C"
