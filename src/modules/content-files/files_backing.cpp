// One file per blob under files.dir (see files_backing.hpp).
#include "modules/content-files/files_backing.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "libutil/fd.hpp"
#include "libutil/file.hpp"

namespace cairn::content {

namespace {

util::Error sys_error(int errnum, const std::string& what) {
  return util::Error{errnum, fmt::format("{}: {}", what, std::strerror(errnum))};
}

using util::fsync_dir;
using util::make_dir;
using util::write_all;

// Whether `path` is a regular file holding exactly `data`: one fstat when the size differs (a
// truncated or padded copy), a read compared with `data` only when it matches. Comparing the
// bytes is exact and cheaper than hashing them; `data` hashes to the blobref (the cache
// computed it). Any failure to tell counts as "no": the caller then writes a fresh copy.
bool holds(const std::string& path, std::string_view data) {
  util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  struct stat st;
  if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) return false;
  if (static_cast<uint64_t>(st.st_size) != data.size()) return false;
  char buf[65536];
  size_t have = 0;
  while (have < data.size()) {
    ssize_t n = ::read(fd.get(), buf, std::min(sizeof buf, data.size() - have));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (std::memcmp(buf, data.data() + have, static_cast<size_t>(n)) != 0) return false;
    have += static_cast<size_t>(n);
  }
  return true;
}

uint64_t random_nonce() {
  uint64_t n = 0;
  if (getrandom(&n, sizeof n, 0) != static_cast<ssize_t>(sizeof n))
    n = static_cast<uint64_t>(::getpid()) << 32 ^ static_cast<uint64_t>(::time(nullptr));
  return n;
}

broker::ConfigKeys files_config_keys() {
  using broker::ConfigKey;
  return {
      ConfigKey::string("files.dir", "",
                        "directory of the files backing store, one file per blob; may be shared "
                        "by several brokers (required with content.backing = files)"),
      ConfigKey::integer("files.threads", 4, 1, 64, "threads doing the files backing store's I/O"),
  };
}

util::Result<std::unique_ptr<Backing>> open_files_backing(const BackingEnv& env) {
  auto store = FilesStore::open(env.config.string("files.dir"));
  if (!store) return store.error();
  auto threads = static_cast<unsigned>(env.config.integer("files.threads"));
  return open_threaded_backing(env, "files", std::move(store).value(), threads);
}

}  // namespace

BackingType files_backing_type() {
  return {"files", "one file per blob under files.dir, which brokers may share", files_config_keys,
          open_files_backing};
}

util::Result<std::unique_ptr<FilesStore>> FilesStore::open(const std::string& dir) {
  if (dir.empty())
    return util::Error{EINVAL,
                       "files.dir is not set: content.backing = files needs the directory to "
                       "keep the blobs in (a shared one, for several brokers)"};
  std::error_code ec;
  std::string abs = std::filesystem::absolute(dir, ec).lexically_normal().string();
  if (ec || abs.empty()) abs = dir;
  if (abs.size() > 1 && abs.back() == '/') abs.pop_back();
  struct stat st;
  if (::stat(abs.c_str(), &st) < 0) return sys_error(errno, "files.dir " + abs);
  if (!S_ISDIR(st.st_mode)) return sys_error(ENOTDIR, "files.dir " + abs);
  // Writable? Only trying tells (a read-only mount, an immutable directory, root or not).
  std::string probe = abs + "/.probe." + std::to_string(::getpid());
  util::UniqueFd fd(::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return sys_error(errno, "files.dir " + abs + ": cannot create files in it");
  fd.reset();
  ::unlink(probe.c_str());
  return std::unique_ptr<FilesStore>(new FilesStore(abs, random_nonce()));
}

std::string FilesStore::path_of(const util::Digest& key) const {
  char ref[util::kMaxBlobrefSize];
  size_t n = util::blobref_format(key, ref);
  std::string_view name(ref, n);
  std::string_view hash = util::hash_name(key.type);
  return fmt::format("{}/{}/{}/{}", dir_, hash, name.substr(hash.size() + 1, 2), name);
}

util::Status FilesStore::make_fanout(const std::string& fanout) const {
  std::string hash_dir = std::filesystem::path(fanout).parent_path().string();
  if (int e = make_dir(hash_dir)) return sys_error(e, "cannot create " + hash_dir);
  if (int e = make_dir(fanout)) return sys_error(e, "cannot create " + fanout);
  return {};
}

util::Status FilesStore::put(const util::Digest& key, std::string_view data) {
  std::string path = path_of(key);
  // A good copy is left alone; a corrupt one (wrong size or bytes) is replaced below.
  if (holds(path, data)) return {};
  size_t slash = path.rfind('/');
  std::string fanout = path.substr(0, slash);
  std::string name = path.substr(slash + 1);

  std::string tmp;
  util::UniqueFd fd;
  for (int attempt = 0; !fd && attempt < 3; attempt++) {
    tmp = fmt::format("{}/.tmp.{}.{:016x}.{}", fanout, name, nonce_, next_tmp_++);
    fd.reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd && errno == ENOENT) {  // the first blob of its fan-out directory
      if (auto made = make_fanout(fanout); !made) return made;
      fd.reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    }
    if (!fd && errno != EEXIST) break;
  }
  if (!fd) return sys_error(errno, "cannot create " + tmp);

  auto fail = [&tmp](int errnum, const char* what) {
    ::unlink(tmp.c_str());
    return util::Status(sys_error(errnum, fmt::format("cannot {} {}", what, tmp)));
  };
  if (int e = write_all(fd.get(), data)) return fail(e, "write");
  if (::fsync(fd.get()) < 0) return fail(errno, "fsync");
  if (::close(fd.release()) < 0) return fail(errno, "close");
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return sys_error(e, fmt::format("cannot rename {} to {}", tmp, path));
  }
  if (int e = fsync_dir(fanout)) return sys_error(e, "cannot fsync " + fanout);
  return {};
}

util::Result<std::string> FilesStore::get(const util::Digest& key) {
  std::string path = path_of(key);
  util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error(errno, "cannot open " + path);
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return sys_error(errno, "cannot stat " + path);
  // A blob's file never changes once renamed into place, so its size is all there is to read:
  // no read to see the end. (A file that is not what it should be fails the content check.)
  std::string data;
  data.resize(static_cast<size_t>(st.st_size));
  size_t have = 0;
  while (have < data.size()) {
    ssize_t n = ::read(fd.get(), data.data() + have, data.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(errno, "cannot read " + path);
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  data.resize(have);
  return data;
}

util::Status FilesStore::exists(const util::Digest& key) {
  std::string path = path_of(key);
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) return sys_error(errno, "cannot stat " + path);
  if (!S_ISREG(st.st_mode)) return sys_error(ENOENT, path + " is not a regular file");
  return {};
}

std::string FilesStore::describe(const util::Digest& key) const { return "file " + path_of(key); }

}  // namespace cairn::content
