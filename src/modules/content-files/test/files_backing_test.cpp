// Unit tests for the files backing store: the file a blob goes to, round trips (NUL bytes, the
// empty blob), a good copy is not rewritten while a corrupt one is replaced, exists, ENOENT, a
// read-only directory (EACCES) and a failed write leave no temporary file, start-up errors name
// files.dir, and the whole type through ThreadedBacking with several brokers' worth of concurrent
// stores of one blob. As root, "read-only" is made real by dropping CAP_DAC_OVERRIDE from the
// test's thread.
#include "modules/content-files/files_backing.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "libtest/run_until.hpp"
#include "libtest/temp_dir.hpp"

using namespace cairn;
using namespace cairn::content;
namespace fs = std::filesystem;

namespace {

using test::TempDir;  // its destructor gives back the permissions a test took away

// While alive, this thread cannot bypass file permissions even as root (the effective set loses
// CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER; the permitted set keeps them, so they
// come back at destruction). Capabilities are per thread: other threads are not affected.
class PermissionsApply {
 public:
  PermissionsApply() {
    if (::geteuid() != 0) return;
    hdr_.version = _LINUX_CAPABILITY_VERSION_3;
    hdr_.pid = 0;
    if (syscall(SYS_capget, &hdr_, saved_) != 0) return;
    __user_cap_data_struct reduced[2] = {saved_[0], saved_[1]};
    for (int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER})
      reduced[cap / 32].effective &= ~(1u << (cap % 32));
    dropped_ = syscall(SYS_capset, &hdr_, reduced) == 0;
  }
  ~PermissionsApply() {
    if (dropped_) syscall(SYS_capset, &hdr_, saved_);
  }
  // False if this is root and the capability could not be dropped (a test then skips).
  bool ok() const { return ::geteuid() != 0 || dropped_; }

 private:
  __user_cap_header_struct hdr_{};
  __user_cap_data_struct saved_[2]{};
  bool dropped_ = false;
};

util::Digest digest(std::string_view data) {
  util::Hasher h(util::HashType::kSha1);
  return h.hash(data);
}

std::unique_ptr<FilesStore> open_or_fail(const std::string& dir) {
  auto s = FilesStore::open(dir);
  if (!s) {
    ADD_FAILURE() << s.error().text;
    return nullptr;
  }
  return std::move(s).value();
}

// Every name under `dir`, recursively, relative to it.
std::vector<std::string> tree(const std::string& dir) {
  std::vector<std::string> names;
  for (auto& e : fs::recursive_directory_iterator(dir))
    names.push_back(fs::relative(e.path(), dir).string());
  std::sort(names.begin(), names.end());
  return names;
}

bool has_temporary(const std::string& dir) {
  for (auto& n : tree(dir))
    if (n.find(".tmp.") != std::string::npos) return true;
  return false;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using cairn::test::run_until;

}  // namespace

TEST(FilesStore, ABlobIsOneFileNamedByItsBlobrefInAFanOutDirectory) {
  TempDir dir;
  auto store = open_or_fail(dir.path());
  ASSERT_TRUE(store);
  std::string data = "hello";
  std::string ref = util::blobref_format(digest(data));
  ASSERT_TRUE(store->put(digest(data), data));
  std::string expect = dir.path() + "/sha1/" + ref.substr(5, 2) + "/" + ref;
  EXPECT_EQ(store->path_of(digest(data)), expect);
  EXPECT_EQ(slurp(expect), data);
  EXPECT_EQ(tree(dir.path()), (std::vector<std::string>{"sha1", "sha1/" + ref.substr(5, 2),
                                                        "sha1/" + ref.substr(5, 2) + "/" + ref}));
  auto got = store->get(digest(data));
  ASSERT_TRUE(got) << got.error().text;
  EXPECT_EQ(*got, data);
}

TEST(FilesStore, Sha256BlobsGoUnderTheirOwnHashDirectory) {
  TempDir dir;
  auto store = open_or_fail(dir.path());
  util::Hasher h(util::HashType::kSha256);
  util::Digest d = h.hash("x");
  ASSERT_TRUE(store->put(d, "x"));
  std::string ref = util::blobref_format(d);
  EXPECT_TRUE(fs::is_regular_file(dir.path() + "/sha256/" + ref.substr(7, 2) + "/" + ref));
}

TEST(FilesStore, BlobsWithNulBytesAndTheEmptyBlobRoundTrip) {
  TempDir dir;
  auto store = open_or_fail(dir.path());
  std::string binary("\0a\0\xff\0\n", 6);
  std::string big(300000, '\0');
  for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>(i * 7);
  for (const std::string& data : {binary, std::string(), big}) {
    ASSERT_TRUE(store->put(digest(data), data));
    auto got = store->get(digest(data));
    ASSERT_TRUE(got) << got.error().text;
    EXPECT_EQ(*got, data);
  }
}

TEST(FilesStore, StoringAnExistingGoodCopySucceedsWithoutRewritingIt) {
  TempDir dir;
  auto store = open_or_fail(dir.path());
  std::string data(200000, 'x');  // larger than one compare chunk
  data[150000] = 'y';
  ASSERT_TRUE(store->put(digest(data), data));
  struct stat before, after;
  ASSERT_EQ(::stat(store->path_of(digest(data)).c_str(), &before), 0);
  ASSERT_TRUE(store->put(digest(data), data));
  ASSERT_EQ(::stat(store->path_of(digest(data)).c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);  // a rename would have brought a new inode
  EXPECT_EQ(slurp(store->path_of(digest(data))), data);
}

// A copy whose size differs (truncated, padded) or whose bytes differ at the same size (a
// flipped bit) is replaced when the blob is stored again, and leaves no temporary file.
TEST(FilesStore, StoringAgainReplacesACopyOfTheWrongSizeOrBytes) {
  TempDir dir;
  auto store = open_or_fail(dir.path());
  std::string data(200000, 'x');
  data[150000] = 'y';
  std::string path = store->path_of(digest(data));
  std::string flipped = data;
  flipped[150000] = 'z';
  for (const std::string& bad : {data.substr(0, 1000), data + "tail", std::string(), flipped}) {
    ASSERT_TRUE(store->put(digest(data), data));
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << bad;
    }
    ASSERT_EQ(slurp(path), bad);
    auto put = store->put(digest(data), data);
    ASSERT_TRUE(put) << put.error().text;
    EXPECT_EQ(slurp(path), data) << "a corrupt copy of " << bad.size() << " bytes was kept";
    EXPECT_FALSE(has_temporary(dir.path()));
  }
}

TEST(FilesStore, ExistsIsAStatOfTheBlobsFile) {
  TempDir dir;
  auto store = open_or_fail(dir.path());
  auto none = store->exists(digest("never stored"));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().errnum, ENOENT);
  ASSERT_TRUE(store->put(digest("here"), "here"));
  EXPECT_TRUE(store->exists(digest("here")));
  // Only the name is looked at: a corrupt copy exists (a load finds it corrupt).
  { std::ofstream(store->path_of(digest("here")), std::ios::trunc) << "bad"; }
  EXPECT_TRUE(store->exists(digest("here")));
  EXPECT_EQ(store->describe(digest("here")), "file " + store->path_of(digest("here")));
}

TEST(FilesStore, MissingBlobIsEnoent) {
  TempDir dir;
  auto store = open_or_fail(dir.path());
  auto got = store->get(digest("never stored"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().errnum, ENOENT);
  EXPECT_NE(got.error().text.find(store->path_of(digest("never stored"))), std::string::npos)
      << got.error().text;
}

TEST(FilesStore, UnreadableBlobGivesItsErrnoAsIs) {
  TempDir dir;
  auto store = open_or_fail(dir.path());
  ASSERT_TRUE(store->put(digest("secret"), "secret"));
  ASSERT_EQ(::chmod(store->path_of(digest("secret")).c_str(), 0), 0);
  PermissionsApply perms;
  if (!perms.ok()) GTEST_SKIP() << "root, and CAP_DAC_OVERRIDE cannot be dropped";
  auto got = store->get(digest("secret"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().errnum, EACCES);
}

TEST(FilesStore, ReadOnlyDirectoryFailsPutWithEaccesAndLeavesNothing) {
  TempDir dir;
  auto store = open_or_fail(dir.path());
  ASSERT_TRUE(store->put(digest("first"), "first"));  // makes sha1/ and one fan-out directory
  auto before = tree(dir.path());
  for (auto& n : before)
    if (fs::is_directory(dir.path() + "/" + n)) ::chmod((dir.path() + "/" + n).c_str(), 0555);
  ::chmod(dir.path().c_str(), 0555);
  PermissionsApply perms;
  if (!perms.ok()) GTEST_SKIP() << "root, and CAP_DAC_OVERRIDE cannot be dropped";
  // A new fan-out directory cannot be made, and an existing one takes no new file.
  std::string same_fanout;
  for (int i = 0; same_fanout.empty(); i++) {
    std::string candidate = "blob " + std::to_string(i);
    if (util::blobref_format(digest(candidate)).substr(5, 2) ==
        util::blobref_format(digest("first")).substr(5, 2))
      same_fanout = candidate;
  }
  for (const std::string& data : {std::string("elsewhere"), same_fanout}) {
    util::Status st = store->put(digest(data), data);
    ASSERT_FALSE(st) << data;
    EXPECT_TRUE(st.error().errnum == EACCES || st.error().errnum == EROFS) << st.error().text;
    EXPECT_NE(st.error().text.find(dir.path()), std::string::npos) << st.error().text;
  }
  EXPECT_EQ(tree(dir.path()), before);
  auto got = store->get(digest("first"));  // reading still works
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "first");
}

// A write that fails after its temporary file exists: the file system refuses to grow the file
// (RLIMIT_FSIZE with SIGXFSZ ignored: EFBIG), or the final name is taken by a directory (EISDIR
// at the rename). Either way the temporary file is removed.
TEST(FilesStore, AFailedWriteLeavesNoTemporaryFileBehind) {
  TempDir dir;
  auto store = open_or_fail(dir.path());
  std::string big(8192, 'x');
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 100;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  util::Status st = store->put(digest(big), big);  // nothing printed while the limit holds
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().errnum, EFBIG) << st.error().text;
  EXPECT_FALSE(has_temporary(dir.path()));
  EXPECT_FALSE(fs::exists(store->path_of(digest(big))));

  std::string data = "squatted";
  fs::create_directories(store->path_of(digest(data)) + "/inside");
  st = store->put(digest(data), data);
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().errnum == EISDIR || st.error().errnum == ENOTEMPTY ||
              st.error().errnum == EEXIST)
      << st.error().text;
  EXPECT_FALSE(has_temporary(dir.path()));

  ASSERT_TRUE(store->put(digest(big), big));  // and once the cause is gone, it works
  EXPECT_EQ(*store->get(digest(big)), big);
}

TEST(FilesStore, OpenRefusesAnUnusableDirectoryNamingFilesDir) {
  TempDir dir;
  auto empty = FilesStore::open("");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().text.find("files.dir is not set"), std::string::npos);

  auto missing = FilesStore::open(dir.path() + "/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errnum, ENOENT);
  EXPECT_NE(missing.error().text.find("files.dir " + dir.path() + "/nope"), std::string::npos)
      << missing.error().text;

  std::ofstream(dir.path() + "/file") << "x";
  auto file = FilesStore::open(dir.path() + "/file");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().errnum, ENOTDIR);
  EXPECT_NE(file.error().text.find("files.dir"), std::string::npos);

  fs::create_directory(dir.path() + "/ro");
  ::chmod((dir.path() + "/ro").c_str(), 0555);
  PermissionsApply perms;
  if (!perms.ok()) GTEST_SKIP() << "root, and CAP_DAC_OVERRIDE cannot be dropped";
  auto ro = FilesStore::open(dir.path() + "/ro");
  ASSERT_FALSE(ro);
  EXPECT_EQ(ro.error().errnum, EACCES);
  EXPECT_NE(ro.error().text.find("files.dir " + dir.path() + "/ro: cannot create files in it"),
            std::string::npos)
      << ro.error().text;
  EXPECT_TRUE(tree(dir.path() + "/ro").empty());
}

// The registered type: keys, defaults, and a round trip through ThreadedBacking where several
// stores of one blob race (as brokers sharing files.dir would).
TEST(FilesBackingType, OpensFromItsKeysAndServesConcurrentStoresOfOneBlob) {
  TempDir dir;
  BackingType type = files_backing_type();
  EXPECT_EQ(type.name, "files");
  broker::ConfigKeys keys = type.config_keys();
  auto config = broker::ConfigValues::with_defaults(keys);
  EXPECT_EQ(config.string("files.dir"), "");
  EXPECT_EQ(config.integer("files.threads"), 4);
  reactor::Loop loop;
  std::string statedir = dir.path();
  std::vector<std::string> logged;
  BackingEnv env{loop, statedir, config,
                 [&](broker::Level, std::string_view text) { logged.emplace_back(text); }};
  auto unset = type.open(env);
  ASSERT_FALSE(unset);
  EXPECT_NE(unset.error().text.find("files.dir"), std::string::npos);

  for (auto& k : keys)
    if (k.name == "files.dir") {
      ASSERT_EQ(config.set(k, dir.path() + "/blobs"), "");
    }
  fs::create_directory(dir.path() + "/blobs");
  auto opened = type.open(env);
  ASSERT_TRUE(opened) << opened.error().text;
  std::unique_ptr<Backing> b = std::move(opened).value();
  std::string data("shared\0blob", 11);
  int stored = 0, failed = 0;
  for (int i = 0; i < 32; i++)
    b->store(digest(data), data, [&](const util::Status& status) {
      stored++;
      if (!status) failed++;
    });
  ASSERT_TRUE(run_until(loop, [&] { return stored == 32; }));
  EXPECT_EQ(failed, 0);
  EXPECT_FALSE(has_temporary(dir.path() + "/blobs"));
  int got = -1;
  std::string out;
  b->load(digest(data), [&](const util::Result<std::string_view>& blob) {
    got = blob.errnum();
    if (blob) out = *blob;
  });
  run_until(loop, [&] { return got != -1; });
  EXPECT_EQ(got, 0);
  EXPECT_EQ(out, data);
  got = -1;
  b->load(digest("absent"),
          [&](const util::Result<std::string_view>& loaded) { got = loaded.errnum(); });
  run_until(loop, [&] { return got != -1; });
  EXPECT_EQ(got, ENOENT);
  got = -1;
  b->exists(digest(data), [&](const util::Status& st) { got = st.errnum(); });
  run_until(loop, [&] { return got != -1; });
  EXPECT_EQ(got, 0);
  got = -1;
  b->exists(digest("absent"), [&](const util::Status& st) { got = st.errnum(); });
  run_until(loop, [&] { return got != -1; });
  EXPECT_EQ(got, ENOENT);
  EXPECT_NE(b->describe(digest(data)).find(dir.path() + "/blobs/sha1/"), std::string::npos);
  EXPECT_TRUE(logged.empty());  // ENOENT of a load or an exists is an answer, not logged
}
