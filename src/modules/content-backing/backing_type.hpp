// cairn::content::BackingType: how a backing store makes itself known to the content module —
// its name (the value of content.backing), its own configuration keys, and a factory that
// opens it. Each backing store declares one in its own directory (content-sqlite/, ...); the
// broker's program lists them (src/cmd/broker_modules.cpp) and hands the list to the content
// module, which picks one by name. A store in a module of its own (rados, s3) exports a
// BackingModuleExport instead, loaded only when configured (content/backing_module.hpp).
// Invariant: open() either returns a working Backing (or null for a memory-only cache) or an
// Error that says what failed and names the key, path or address at fault.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/module-api/config_key.hpp"
#include "broker/module-api/module.hpp"
#include "libutil/result.hpp"
#include "modules/content-backing/backing.hpp"

namespace cairn::reactor {
class Loop;
}

namespace cairn::content {

// What a backing store gets to open itself with.
struct BackingEnv {
  reactor::Loop& loop;
  const std::string& statedir;         // the broker's state directory (exists)
  const broker::ConfigValues& config;  // its own keys (and every other), typed and checked
  std::function<void(broker::Level, std::string_view)> log;
};

struct BackingType {
  std::string name;                            // content.backing = <name>
  std::string help;                            // one line, for content.backing's documentation
  broker::ConfigKeysFn config_keys = nullptr;  // its own keys (e.g. rados.pool); null: none
  // Opens the store. A null Backing means memory only (content.backing = none).
  std::function<util::Result<std::unique_ptr<Backing>>(const BackingEnv& env)> open;
};

using BackingTypes = std::vector<BackingType>;

// What a backing store module (a shared object) exports, as the C symbol
// kBackingModuleSymbol: the cairn version it was built with (a module of another version is
// refused: the types above cross the boundary) and its open().
struct BackingModuleExport {
  const char* version;
  util::Result<std::unique_ptr<Backing>> (*open)(const BackingEnv& env);
};
inline constexpr char kBackingModuleSymbol[] = "cairn_backing_module";

}  // namespace cairn::content
