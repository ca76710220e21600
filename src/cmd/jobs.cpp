// `cairn submit`, `cairn run`, `cairn jobs`, `cairn job wait` and `cairn jobtap load|list|remove`:
// the job manager from the command line (job-manager.* and jobtap.* topics, doc/protocol.md).
// `cairn run` copies the job's stdout/stderr (content blobs) to its own and exits with the
// job's exit code (128+N for a signal), so it can stand in for the command in scripts.
#include <fmt/format.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "cmd/common.hpp"
#include "libclient/client.hpp"

namespace cairn::cmd {
namespace {

using client::Client;
using client::Response;
using nlohmann::json;

// A job's end may take any time: waits are not bounded by CAIRN_RPC_TIMEOUT.
constexpr std::chrono::milliseconds kForever = std::chrono::hours(24 * 365);

// The reply of `topic` as JSON, or nullopt after printing why (status set to 1).
std::optional<json> call(Client& c, const std::string& topic, const json& request, int& status,
                         std::chrono::milliseconds timeout = {}) {
  Response r;
  if (timeout.count() > 0) {
    uint32_t tag = c.send(topic, request.dump());
    if (tag == 0) {
      status = fail(topic, "cannot send the request to the broker");
      return std::nullopt;
    }
    r = c.recv_for(tag, timeout);
  } else {
    r = c.rpc(topic, request.dump());
  }
  if (!r.ok()) {
    status = fail_response(topic, r);
    return std::nullopt;
  }
  json j = json::parse(r.payload, nullptr, false);
  if (j.is_discarded()) {
    status = fail(topic, "the broker's reply is not JSON");
    return std::nullopt;
  }
  return j;
}

// The argv of the job for the words given to `cairn run` or `cairn submit`: exactly one word
// that holds white space is a shell command line, run through /bin/sh -c as `cairn start`
// runs its one argument (`cairn run 'a && b'`); anything else is the argv itself, executed
// without a shell.
std::vector<std::string> job_argv(const std::vector<std::string>& command) {
  if (command.size() == 1 && command[0].find_first_of(" \t\n") != std::string::npos)
    return {"/bin/sh", "-c", command[0]};
  return command;
}

std::optional<uint64_t> submit(Client& c, const std::vector<std::string>& command, int& status) {
  auto reply = call(c, "job-manager.submit", {{"command", job_argv(command)}}, status);
  if (!reply) return std::nullopt;
  return reply->value("id", uint64_t{0});
}

// Writes one captured stream of a finished job to `out`; false (status set) on failure.
bool copy_output(Client& c, const json& job, const std::string& name, FILE* out, int& status) {
  std::string data;
  if (auto ref = job.find(name + "_blobref"); ref != job.end()) {
    Response r = c.rpc("content.load", ref->get<std::string>());
    if (!r.ok()) {
      status = fail("content.load " + ref->get<std::string>(),
                    r.error_text() + " (the job's " + name + " is lost)");
      return false;
    }
    data = std::move(r.payload);
  } else if (auto text = job.find(name + "_data"); text != job.end()) {
    data = text->get<std::string>();
  }
  if (!data.empty()) {
    std::fwrite(data.data(), 1, data.size(), out);
    std::fflush(out);
  }
  return true;
}

int exit_code_of(const json& job) { return job.value("exit_code", 1); }

int cmd_submit(const std::vector<std::string>& command) {
  int status = 0;
  auto c = connect_or_fail();
  if (!c) return 1;
  auto id = submit(*c, command, status);
  if (!id) return status;
  fmt::print("{}\n", *id);
  return 0;
}

int cmd_run(const std::vector<std::string>& command) {
  int status = 0;
  auto c = connect_or_fail();
  if (!c) return 1;
  auto id = submit(*c, command, status);
  if (!id) return status;
  auto job = call(*c, "job-manager.wait", {{"id", *id}}, status, kForever);
  if (!job) return status;
  if (!copy_output(*c, *job, "stdout", stdout, status)) return status;
  if (!copy_output(*c, *job, "stderr", stderr, status)) return status;
  return exit_code_of(*job);
}

int cmd_wait(uint64_t id) {
  int status = 0;
  auto c = connect_or_fail();
  if (!c) return 1;
  auto job = call(*c, "job-manager.wait", {{"id", id}}, status, kForever);
  if (!job) return status;
  if (job->contains("error")) fail(fmt::format("job {}", id), (*job)["error"].get<std::string>());
  return exit_code_of(*job);
}

std::string clock_time(double t) {
  std::time_t secs = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

int cmd_jobs(bool as_json) {
  int status = 0;
  auto c = connect_or_fail();
  if (!c) return 1;
  auto reply = call(*c, "job-manager.list", json::object(), status);
  if (!reply) return status;
  if (as_json) {
    fmt::print("{}\n", reply->dump(-1, ' ', false, json::error_handler_t::replace));
    return 0;
  }
  fmt::print("{:>6}  {:<8}  {:>4}  {:<19}  {:>9}  {}\n", "ID", "STATE", "EXIT", "SUBMITTED",
             "RUNTIME", "COMMAND");
  for (const auto& job : (*reply)["jobs"]) {
    std::string command;
    for (const auto& a : job["command"])
      command += (command.empty() ? "" : " ") + a.get<std::string>();
    std::string exit =
        job.contains("exit_code") ? std::to_string(job["exit_code"].get<int>()) : "-";
    std::string runtime = "-";
    if (job.contains("t_run")) {
      double end = job.contains("t_cleanup") ? job["t_cleanup"].get<double>()
                                             : static_cast<double>(std::time(nullptr));
      runtime = fmt::format("{:.3f}s", std::max(0.0, end - job["t_run"].get<double>()));
    }
    fmt::print("{:>6}  {:<8}  {:>4}  {:<19}  {:>9}  {}\n", job["id"].get<uint64_t>(),
               job["state"].get<std::string>(), exit, clock_time(job["t_submit"].get<double>()),
               runtime, command);
  }
  return 0;
}

// A path is sent absolute (the broker's working directory may differ); a bare name is looked
// up by the broker in its plugin path.
std::string plugin_target(const std::string& arg) {
  if (arg.find('/') == std::string::npos) return arg;
  char buf[PATH_MAX];
  if (realpath(arg.c_str(), buf)) return buf;
  return arg;
}

int cmd_jobtap_load(const std::string& path, const std::vector<std::string>& settings) {
  json conf = json::object();
  for (const auto& kv : settings) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return usage_fail("jobtap load", "'" + kv + "' is not KEY=VALUE");
    conf[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto c = connect_or_fail();
  if (!c) return 1;
  Response r = c->rpc("jobtap.load", json{{"path", plugin_target(path)}, {"conf", conf}}.dump());
  if (!r.ok()) return fail("jobtap load " + path, r.error_text());
  // A setting the plugin's init never asked for is most likely a typo: say so, but the plugin
  // is loaded and the command succeeds.
  json reply = json::parse(r.payload, nullptr, false);
  if (!reply.is_object()) return 0;
  auto unused = reply.find("unused");
  if (unused == reply.end() || !unused->is_array()) return 0;
  const std::string name = reply.value("name", path);
  for (const auto& key : *unused)
    if (key.is_string())
      std::cerr << "cairn: jobtap load: " << name << ": setting '" << key.get<std::string>()
                << "' was not used by the plugin (a typo?)" << std::endl;
  return 0;
}

int cmd_jobtap_list() {
  int status = 0;
  auto c = connect_or_fail();
  if (!c) return 1;
  auto reply = call(*c, "jobtap.list", json::object(), status);
  if (!reply) return status;
  for (const auto& p : (*reply)["plugins"]) {
    std::string conf;
    for (const auto& [k, v] : p["conf"].items()) conf += " " + k + "=" + v.get<std::string>();
    fmt::print("{}\t{}{}\n", p["name"].get<std::string>(), p["path"].get<std::string>(), conf);
  }
  return 0;
}

int cmd_jobtap_remove(const std::string& name) {
  auto c = connect_or_fail();
  if (!c) return 1;
  Response r = c->rpc("jobtap.remove", json{{"name", name}}.dump());
  if (!r.ok()) return fail("jobtap remove " + name, r.error_text());
  return 0;
}

// The command after the subcommand, taken verbatim (its options are its own).
CLI::App* command_subcommand(CLI::App& app, const char* name, const char* help) {
  auto* sub = app.add_subcommand(name, help);
  sub->prefix_command();
  sub->positionals_at_end(false);
  sub->footer(
      "One argument that holds a space is a shell command line, run through /bin/sh -c\n"
      "(cairn run 'a && b'); more are the command and its arguments, run without a shell.");
  return sub;
}

}  // namespace

void add_jobs(CLI::App& app, int& status) {
  auto* submit =
      command_subcommand(app, "submit", "Submit COMMAND [ARG...] as a job; print its id");
  submit->callback([submit, &status] {
    auto command = submit->remaining();
    status = command.empty()
                 ? usage_fail("submit", "no command given: cairn submit COMMAND [ARG...]")
                 : cmd_submit(command);
  });

  auto* run = command_subcommand(app, "run",
                                 "Run COMMAND [ARG...] as a job: wait, print its output, exit "
                                 "with its status");
  run->callback([run, &status] {
    auto command = run->remaining();
    status = command.empty() ? usage_fail("run", "no command given: cairn run COMMAND [ARG...]")
                             : cmd_run(command);
  });

  auto* jobs = app.add_subcommand("jobs", "List jobs: id, state, exit code, times, command");
  const std::string json_help = "print the job-manager.list reply as JSON";
  auto* as_json = jobs->add_flag("--json", json_help);
  jobs->callback([as_json, &status] { status = cmd_jobs(as_json->count() > 0); });

  auto* job = app.add_subcommand("job", "Operate on one job");
  job->require_subcommand(1);
  auto* wait = job->add_subcommand("wait", "Wait for job ID to end; exit with its status");
  wait->add_option("ID", "job id (from cairn submit)")->required()->check(at_least(1));
  wait->callback([wait, &status] { status = cmd_wait(wait->get_option("ID")->as<uint64_t>()); });

  auto* jobtap = app.add_subcommand("jobtap", "Load, list and remove jobtap plugins");
  jobtap->require_subcommand(1);
  auto* load = jobtap->add_subcommand("load", "Load a plugin: PATH or NAME, then KEY=VALUE...");
  auto plugin = std::make_shared<std::string>();
  auto settings = std::make_shared<std::vector<std::string>>();
  load->add_option("PLUGIN", *plugin, "path of a plugin .so, or a name in the plugin path")
      ->required();
  load->add_option("SETTINGS", *settings,
                   "KEY=VALUE settings the plugin reads with cairn_plugin_conf");
  load->callback([plugin, settings, &status] { status = cmd_jobtap_load(*plugin, *settings); });
  auto* list = jobtap->add_subcommand("list", "List loaded plugins: name, path, settings");
  list->callback([&status] { status = cmd_jobtap_list(); });
  auto* remove = jobtap->add_subcommand("remove", "Unload plugin NAME, or every plugin with all");
  remove->add_option("NAME", "plugin name (file name without .so), or all")->required();
  remove->callback([remove, &status] {
    status = cmd_jobtap_remove(remove->get_option("NAME")->as<std::string>());
  });
}

}  // namespace cairn::cmd
