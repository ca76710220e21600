// See backing_module.hpp.
#include "modules/content/backing_module.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>

#include "config.h"  // PACKAGE_VERSION
#include "libutil/shared_object.hpp"

namespace cairn::content {

namespace {

// The store opened by a module, and the module, which outlives it.
class ModuleBacking final : public Backing {
 public:
  ModuleBacking(std::shared_ptr<util::SharedObject> module, std::unique_ptr<Backing> store)
      : module_(std::move(module)), store_(std::move(store)) {}
  void store(const util::Digest& key, std::string_view data, StoreCallback cb) override {
    store_->store(key, data, std::move(cb));
  }
  void load(const util::Digest& key, LoadCallback cb) override { store_->load(key, std::move(cb)); }
  void exists(const util::Digest& key, ExistsCallback cb) override {
    store_->exists(key, std::move(cb));
  }
  std::string describe(const util::Digest& key) const override { return store_->describe(key); }

 private:
  std::shared_ptr<util::SharedObject> module_;  // first member: destroyed after store_
  std::unique_ptr<Backing> store_;
};

util::Result<std::unique_ptr<Backing>> open_module(const BackingModuleFile& m,
                                                   const BackingEnv& env) {
  const char* env_dir = std::getenv("CAIRN_MODULE_DIR");
  const std::string dir = env_dir && *env_dir ? env_dir : m.dir;
  const std::string path = dir + "/" + m.file;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return util::Error{
        ENOENT, fmt::format("its broker module {} is not installed: install the cairn package "
                            "that ships it (cairn builds it when configure finds {}), or choose "
                            "another content.backing",
                            path, m.build_needs)};
  }
  // RTLD_NODELETE: the libraries a module brings (librados, libs3) keep threads and state
  // that are not made to be unloaded; the handle is still closed when the store is gone.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!handle) {
    const char* why = dlerror();
    return util::Error{ENOEXEC, fmt::format("cannot load its broker module {}: {}: install {} "
                                            "(which it needs), or choose another content.backing",
                                            path, why ? why : "dlopen failed", m.runtime_needs)};
  }
  auto module = std::make_shared<util::SharedObject>(handle);
  const auto* exported =
      static_cast<const BackingModuleExport*>(module->symbol(kBackingModuleSymbol));
  if (!exported || !exported->version || !exported->open) {
    return util::Error{ENOEXEC, fmt::format("{} is not a cairn backing store module (it has no "
                                            "{}): reinstall cairn",
                                            path, kBackingModuleSymbol)};
  }
  if (std::strcmp(exported->version, PACKAGE_VERSION) != 0) {
    return util::Error{ENOEXEC, fmt::format("{} is from cairn {}, this broker is cairn {}: "
                                            "install the module of the same version",
                                            path, exported->version, PACKAGE_VERSION)};
  }
  auto opened = exported->open(env);
  if (!opened) return opened.error();
  std::unique_ptr<Backing> store = std::move(opened).value();
  if (!store) return store;
  return std::unique_ptr<Backing>(std::make_unique<ModuleBacking>(module, std::move(store)));
}

}  // namespace

BackingType module_backing_type(std::string name, std::string help,
                                broker::ConfigKeysFn config_keys, BackingModuleFile module) {
  return {std::move(name), std::move(help), config_keys,
          [m = std::move(module)](const BackingEnv& env) { return open_module(m, env); }};
}

}  // namespace cairn::content
