// The job-manager module's service glue: maps requests to JobManager and PluginHost, and job
// output to content.store. Every error reply carries an errno and a text for the user.
// Member order matters: the JobManager is destroyed before the PluginHost, so plugins see the
// final job.destroy events.
#include <config.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "libstats/stats.hpp"
#include "modules/job-manager/job_manager.hpp"
#include "modules/job-manager/jobtap.hpp"
#include "modules/job-manager/module.hpp"

namespace cairn::job_manager {
namespace {

using broker::ModuleContext;
using broker::ResponderPtr;
using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A request payload as a JSON object, or nullopt after answering EPROTO.
std::optional<json> parse_object(const msg::Message& req, const ResponderPtr& r,
                                 const char* expected) {
  json j = json::parse(req.payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    r->error(EPROTO, std::string("the payload must be JSON ") + expected);
    return std::nullopt;
  }
  return j;
}

void put_output(json& j, const char* name, const Output& o) {
  if (!o.blobref.empty()) {
    j[std::string(name) + "_blobref"] = o.blobref;
  } else if (!o.data.empty()) {
    // Not stored (no content service): the text travels in the reply instead.
    j[std::string(name) + "_data"] = o.data;
  }
  if (o.dropped > 0) j[std::string(name) + "_truncated"] = o.dropped;
}

json job_to_json(const Job& job) {
  json j = {{"id", job.id},
            {"state", state_name(job.state)},
            {"command", job.command},
            {"userid", job.userid},
            {"t_submit", job.t_submit}};
  if (job.t_run > 0) j["t_run"] = job.t_run;
  if (job.t_cleanup > 0) j["t_cleanup"] = job.t_cleanup;
  if (job.t_inactive > 0) j["t_inactive"] = job.t_inactive;
  if (job.exited) {
    j["status"] = job.wait_status;
    j["exit_code"] = job.exit_code;
    if (WIFSIGNALED(job.wait_status)) j["signal"] = WTERMSIG(job.wait_status);
  }
  if (!job.error.empty()) j["error"] = job.error;
  put_output(j, "stdout", job.out);
  put_output(j, "stderr", job.err);
  return j;
}

class JobManagerModule : public broker::Module {
 public:
  explicit JobManagerModule(ModuleContext& ctx);

 private:
  void store_blob(std::string blob, StoreDone done);
  void submit(const msg::Message& req, const ResponderPtr& r);
  void list(const ResponderPtr& r);
  void wait(const msg::Message& req, const ResponderPtr& r);
  void jobtap_load(const msg::Message& req, const ResponderPtr& r);
  void jobtap_list(const ResponderPtr& r);
  void jobtap_remove(const msg::Message& req, const ResponderPtr& r);

  ModuleContext& ctx_;
  PluginHost plugins_;
  JobManager jobs_;
};

JobManagerModule::JobManagerModule(ModuleContext& ctx)
    : ctx_(ctx),
      plugins_([this] { return make_plugin_stats(ctx_.stats_context()); },
               [this](int level, const std::string& text) {
                 ctx_.log(broker::level_from_syslog(level), text);
               },
               PluginHost::default_search_path()),
      jobs_(ctx.loop(), plugins_,
            [this](std::string blob, StoreDone done) { store_blob(std::move(blob), done); }) {
  for (const auto& name : ctx.config().list("job-manager.plugins")) {
    if (auto loaded = jobs_.load_plugin(name); !loaded) {
      throw std::runtime_error("job-manager.plugins: cannot load " + name + ": " +
                               loaded.error().text);
    }
  }

  auto on = [this, &ctx](const char* topic, auto fn) {
    ctx.register_service(topic, [this, fn](const msg::Message& req, ResponderPtr r) {
      try {
        (this->*fn)(req, r);
      } catch (const std::exception& e) {
        r->error(EPROTO, e.what());
      }
    });
  };
  on("job-manager.submit", &JobManagerModule::submit);
  on("job-manager.wait", &JobManagerModule::wait);
  on("jobtap.load", &JobManagerModule::jobtap_load);
  on("jobtap.remove", &JobManagerModule::jobtap_remove);
  ctx.register_service("job-manager.list",
                       [this](const msg::Message&, ResponderPtr r) { list(r); });
  ctx.register_service("jobtap.list",
                       [this](const msg::Message&, ResponderPtr r) { jobtap_list(r); });
}

void JobManagerModule::store_blob(std::string blob, StoreDone done) {
  ctx_.call(msg::Message::request("content.store", std::move(blob), 0),
            [done](const msg::Message& resp) {
              if (resp.errnum == 0) {
                done(resp.payload);
                return;
              }
              std::string why = resp.payload.empty() ? strerror(resp.errnum) : resp.payload;
              done(util::Error{resp.errnum, "content.store: " + why});
            });
}

void JobManagerModule::submit(const msg::Message& req, const ResponderPtr& r) {
  auto j = parse_object(req, r, "{\"command\":[\"argv0\",...]}");
  if (!j) return;
  const auto it = j->find("command");
  std::vector<std::string> command;
  if (it != j->end() && it->is_array()) {
    for (const auto& a : *it) {
      if (!a.is_string()) break;
      command.push_back(a.get<std::string>());
    }
    if (command.size() != it->size()) command.clear();
  }
  if (command.empty()) {
    r->error(EPROTO, "\"command\" must be a non-empty array of strings");
    return;
  }
  auto id = jobs_.submit(std::move(command));
  if (!id) {
    r->fail(id.error());
    return;
  }
  r->ok(dump({{"id", *id}}));
}

void JobManagerModule::list(const ResponderPtr& r) {
  json jobs = json::array();
  for (const Job* job : jobs_.jobs()) jobs.push_back(job_to_json(*job));
  r->ok(dump({{"jobs", jobs}}));
}

void JobManagerModule::wait(const msg::Message& req, const ResponderPtr& r) {
  auto j = parse_object(req, r, "{\"id\":N}");
  if (!j) return;
  const auto it = j->find("id");
  if (it == j->end() || !it->is_number_unsigned()) {
    r->error(EPROTO, "\"id\" must be a job id (a positive integer)");
    return;
  }
  uint64_t id = it->get<uint64_t>();
  ResponderPtr responder = r;
  if (!jobs_.wait(id, [responder](const Job& job) { responder->ok(dump(job_to_json(job))); }))
    r->error(ENOENT, "job " + std::to_string(id) + ": no such job");
}

void JobManagerModule::jobtap_load(const msg::Message& req, const ResponderPtr& r) {
  auto j = parse_object(req, r, "{\"path\":\"...\",\"conf\":{\"key\":\"value\"}}");
  if (!j) return;
  const auto path = j->find("path");
  if (path == j->end() || !path->is_string()) {
    r->error(EPROTO, "\"path\" must be a string");
    return;
  }
  Conf conf;
  if (auto c = j->find("conf"); c != j->end()) {
    if (!c->is_object()) {
      r->error(EPROTO, "\"conf\" must be an object of strings");
      return;
    }
    for (const auto& [k, v] : c->items()) {
      if (!v.is_string()) {
        r->error(EPROTO, "conf value of " + k + " must be a string");
        return;
      }
      conf[k] = v.get<std::string>();
    }
  }
  std::string target = path->get<std::string>();
  if (auto loaded = jobs_.load_plugin(target, std::move(conf)); !loaded) {
    r->fail(loaded.error());
    return;
  }
  const PluginInfo loaded = plugins_.list().back();
  r->ok(dump({{"name", loaded.name}, {"unused", loaded.unused_conf}}));
}

void JobManagerModule::jobtap_list(const ResponderPtr& r) {
  json plugins = json::array();
  for (const auto& p : plugins_.list())
    plugins.push_back(
        {{"name", p.name}, {"path", p.path}, {"conf", p.conf}, {"handlers", p.handlers}});
  r->ok(dump({{"plugins", plugins}}));
}

void JobManagerModule::jobtap_remove(const msg::Message& req, const ResponderPtr& r) {
  auto j = parse_object(req, r, "{\"name\":\"...\"}");
  if (!j) return;
  const auto name = j->find("name");
  if (name == j->end() || !name->is_string()) {
    r->error(EPROTO, "\"name\" must be a string");
    return;
  }
  auto removed = plugins_.remove(name->get<std::string>());
  if (!removed) {
    r->fail(removed.error());
    return;
  }
  r->ok(dump({{"removed", *removed}}));
}

}  // namespace

broker::ConfigKeys config_keys() {
  return {broker::ConfigKey::string_list(
      "job-manager.plugins", "jobtap plugins loaded at start-up (names or paths of .so files)")};
}

std::unique_ptr<broker::Module> create_module(broker::ModuleContext& ctx) {
  return std::make_unique<JobManagerModule>(ctx);
}

}  // namespace cairn::job_manager
