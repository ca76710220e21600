// The broker as a module sees it: register request handlers by topic, answer now or later,
// get a stats context, read configuration, hook the heartbeat and shutdown.
// Modules (content, job-manager) include only this header of the broker, so their logic and
// their service glue can be tested with a fake ModuleContext.
#pragma once

#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "broker/module-api/config_key.hpp"
#include "libmsg/message.hpp"
#include "libutil/result.hpp"

namespace cairn::reactor {
class Loop;
}
namespace cairn::stats {
class Context;
}

namespace cairn::broker {

// Handle for answering one request; copyable, may be kept and used after the handler returns
// (e.g. when a backing-store read completes). Exactly one of ok()/error() answers a plain
// request; a streaming request gets any number of stream() calls then end() or error().
// Payloads are views, read only during the call: a reply is copied once, where it leaves.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void ok(std::string_view payload = {}) = 0;
  virtual void error(int errnum, std::string_view text = {}) = 0;
  // Answers with `e`'s errno and text: how a handler passes on a Result's failure.
  void fail(const util::Error& e) { error(e.errnum, e.text); }
  virtual void stream(std::string_view payload) = 0;
  virtual void end() = 0;  // ENODATA: the stream is over
};
using ResponderPtr = std::shared_ptr<Responder>;

using Handler = std::function<void(const msg::Message& request, ResponderPtr responder)>;

// Log levels, syslog numbering (LOG_ERR = 3 ... LOG_DEBUG = 7).
enum class Level : int { kErr = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

// The Level of a syslog priority given as a number (a jobtap plugin's, libstats'): the more
// severe ones (LOG_EMERG ... LOG_CRIT) are kErr, anything past LOG_DEBUG is kDebug.
constexpr Level level_from_syslog(int priority) {
  if (priority < static_cast<int>(Level::kErr)) return Level::kErr;
  if (priority > static_cast<int>(Level::kDebug)) return Level::kDebug;
  return static_cast<Level>(priority);
}

class ModuleContext {
 public:
  virtual ~ModuleContext() = default;
  virtual reactor::Loop& loop() = 0;
  // Registers `handler` for requests whose topic equals `topic` (e.g. "content.store").
  virtual void register_service(const std::string& topic, Handler handler) = 0;
  // A new stats context with the broker's prefix and period (stats.prefix / stats.period).
  virtual std::unique_ptr<stats::Context> stats_context() = 0;
  // The configuration, typed and checked: every key the module declared (its config_keys()),
  // e.g. config().string("content.hash") -> "sha1" (defaults applied).
  virtual const ConfigValues& config() const = 0;
  virtual const std::string& statedir() const = 0;
  virtual int rank() const = 0;
  virtual void log(Level level, std::string_view text) = 0;
  // Called on every heartbeat (heartbeat.period).
  virtual void on_heartbeat(std::function<void()> fn) = 0;
  // Called once at shutdown, before the broker exits; the module calls `done` when its
  // shutdown work (e.g. the final flush) is finished. The loop keeps running meanwhile.
  virtual void on_shutdown(std::function<void(std::function<void()> done)> fn) = 0;
  // Reports that data the module had accepted is lost, e.g. blobs its shutdown flush could not
  // write to the backing store. `what` is for the user, in one line: what was lost, why, and
  // what to do. The module logs its own error line as well; the broker keeps every report, and
  // `cairn start` prints each on stderr when it exits and then exits non-zero
  // (cairn-start(1), EXIT STATUS).
  virtual void report_lost_data(std::string what) = 0;
  // Lets requests whose payload is up to `bytes` long reach this module's services from
  // local:// peers (the broker alone takes frames of about 1 MiB; the largest any module asks
  // for wins, up to the stream's own limit). Called while the module is created, before the
  // broker serves anyone. The default does nothing, for a context without local:// peers.
  virtual void accept_payloads_up_to(uint64_t bytes) { (void)bytes; }
  // Sends `request` to a service registered in this broker (e.g. the job manager storing job
  // output with content.store) and calls `on_response` once with its response, possibly before
  // returning. The default answers ENOSYS, for a broker that does not route requests between
  // modules; a caller must cope with that.
  virtual void call(msg::Message request,
                    std::function<void(const msg::Message& response)> on_response) {
    on_response(msg::Message::error(request, ENOSYS, "in-process requests are not supported"));
  }
};

// A loaded module. The broker creates its modules at start-up through the factories its program
// lists (src/cmd/broker_modules.cpp; each module declares its factory and its configuration
// keys in its own header, e.g. `cairn::content::create_module(...)` and
// `cairn::content::config_keys(...)`), runs their shutdown hooks at exit, then destroys them in
// reverse creation order.
class Module {
 public:
  virtual ~Module() = default;
};
using ConfigKeysFn = ConfigKeys (*)();

}  // namespace cairn::broker
