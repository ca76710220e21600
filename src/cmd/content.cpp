// `cairn content`: store, load, missing, flush, dropcache and stats against the broker's content
// cache (doc/architecture.md), through libclient. Blobs pass through unchanged (binary safe). The
// bulk modes (FILE..., --bulk, --netstrings, several BLOBREFs) keep many requests in flight on one
// connection (pipeline.hpp) and handle the replies in input order: each prints or writes its
// result in order, and the first error stops the run after everything before it is done.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cmd/commands.hpp"
#include "cmd/common.hpp"
#include "cmd/netstring.hpp"
#include "cmd/pipeline.hpp"
#include "cmd/progress.hpp"
#include "libclient/client.hpp"
#include "libutil/blobref.hpp"
#include "libutil/fd.hpp"
#include "libutil/file.hpp"

namespace cairn::cmd {

namespace {

// How the blobs to store are given.
enum class StoreInput {
  kStdin,       // standard input is one blob
  kLines,       // --bulk: each line of standard input is one
  kNetstrings,  // --netstrings: each netstring of standard input is one
  kFiles,       // FILE...: each file is one ('-': standard input)
};

bool write_all(std::string_view data) {
  return std::fwrite(data.data(), 1, data.size(), stdout) == data.size();
}

util::Error stdout_error() {
  return util::Error{errno ? errno : EIO, std::string("stdout: ") + std::strerror(errno)};
}

// The next line of standard input, without its newline, into `line`; false at its end. Through
// stdio's getline(3): std::getline on std::cin, synchronized with stdio, reads a byte at a time.
bool read_line(std::string& line) {
  static char* buffer = nullptr;  // grows to the longest line, kept for the next
  static size_t capacity = 0;
  ssize_t n = ::getline(&buffer, &capacity, stdin);
  if (n < 0) return false;
  size_t size = static_cast<size_t>(n);
  if (size > 0 && buffer[size - 1] == '\n') --size;
  line.assign(buffer, size);
  return true;
}

// The whole of the file `path` ('-': standard input), or "content store: PATH: <why>" (a
// directory fails its read() with EISDIR). Read in large blocks (util::read_all): standard
// input costs no more than a file.
util::Result<std::string> read_file(const std::string& path) {
  auto failed = [&path](int err) {
    return util::Error{err, "content store: " + (path == "-" ? "standard input" : path) + ": " +
                                std::strerror(err)};
  };
  util::UniqueFd opened;
  if (path != "-") {
    opened.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!opened) return failed(errno);
  }
  std::string data;
  if (int err = util::read_all(path == "-" ? STDIN_FILENO : opened.get(), data)) return failed(err);
  return data;
}

// Before reading standard input: if it is a terminal, which would otherwise wait in silence,
// prints `cairn: COMMAND: reading WHAT from the terminal; end with Ctrl-D (or give INSTEAD)`.
void hint_if_terminal(std::string_view command, std::string_view what, std::string_view instead) {
  if (::isatty(STDIN_FILENO))
    std::cerr << "cairn: " << command << ": reading " << what
              << " from the terminal; end with Ctrl-D (or give " << instead << ")" << std::endl;
}

// The same for `cairn content store`, if `input` reads standard input.
void hint_if_terminal(StoreInput input, const std::vector<std::string>& files) {
  std::string_view what = "the blob";
  switch (input) {
    case StoreInput::kLines:
      what = "blobs, one per line,";
      break;
    case StoreInput::kNetstrings:
      what = "netstrings";
      break;
    case StoreInput::kFiles:
      if (std::find(files.begin(), files.end(), "-") == files.end()) return;
      break;
    case StoreInput::kStdin:
      break;
  }
  hint_if_terminal("content store", what, "FILE...");
}

// The items of a bulk store: one blob each, labelled for errors by where it came from.
ItemSource store_source(StoreInput input, const std::vector<std::string>& files) {
  switch (input) {
    case StoreInput::kLines:
      return [line = size_t{0}](Item& item) mutable -> util::Result<bool> {
        if (!read_line(item.payload)) return false;
        item.label = "line " + std::to_string(++line);
        return true;
      };
    case StoreInput::kNetstrings: {
      auto reader = std::make_shared<NetstringReader>(STDIN_FILENO);
      return [reader, n = size_t{0}](Item& item) mutable -> util::Result<bool> {
        uint64_t start = reader->offset();
        auto more = reader->next(item.payload);
        if (!more)
          return util::Error{more.error().errnum,
                             "content store: standard input: " + more.error().text};
        if (*more)
          item.label = "netstring " + std::to_string(++n) + " (at byte offset " +
                       std::to_string(start) + ")";
        return more;
      };
    }
    case StoreInput::kFiles:
      return [&files, i = size_t{0}](Item& item) mutable -> util::Result<bool> {
        if (i == files.size()) return false;
        const std::string& path = files[i++];
        auto data = read_file(path);
        if (!data) return data.error();
        item.payload = std::move(data).value();
        item.label = path == "-" ? "standard input" : path;
        return true;
      };
    case StoreInput::kStdin:
      break;
  }
  return [](Item&) -> util::Result<bool> { return false; };
}

int store(StoreInput input, const std::vector<std::string>& files) {
  if (input == StoreInput::kFiles && std::count(files.begin(), files.end(), "-") > 1)
    return usage_fail("content store", "'-' (standard input) may be given only once");
  auto c = connect_or_fail();
  if (!c) return 1;
  hint_if_terminal(input, files);
  if (input == StoreInput::kStdin) {
    auto blob = read_file("-");
    if (!blob) return fail(blob.error());
    client::Response r = c->rpc("content.store", *blob);
    if (!r.ok()) return fail_response("content store", "content.store", r);
    std::cout << r.payload << '\n';
    return 0;
  }
  Progress progress("stored", Progress::wanted(true));
  int rc = pipeline(
      *c, "content.store", store_source(input, files),
      [](const Item& item, client::Response& r) -> util::Result<size_t> {
        if (!r.ok())
          return util::Error{r.errnum, "content store: " + item.label + ": " + r.error_text()};
        if (!write_all(r.payload) || !write_all("\n")) return stdout_error();
        return item.sent_bytes;
      },
      progress);
  progress.clear();
  if (std::fflush(stdout) != 0 && rc == 0) return fail(stdout_error());
  return rc;
}

// The failure to load `blobref` as `content load: BLOBREF: <why>`: `no such blob` for ENOENT,
// else the broker's text. The form of every blobref is checked before it is sent
// (check_blobref), so the broker's EPROTO says what this command cannot know: that the
// blobref is of the other hash than the broker's content.hash.
util::Error load_error(const std::string& blobref, const client::Response& r) {
  if (r.errnum == ENOENT) return util::Error{ENOENT, "content load: " + blobref + ": no such blob"};
  return util::Error{r.errnum, "content load: " + blobref + ": " + r.error_text()};
}

// Writes blobs into an existing directory as DIR/BLOBREF: each is written to a temporary name
// in DIR and renamed into place, so DIR/BLOBREF never holds part of a blob. The file mode is
// 0666 less the umask, as for any new file.
class DirWriter {
 public:
  explicit DirWriter(std::string dir) : dir_(std::move(dir)) {
    mode_t mask = ::umask(0);
    ::umask(mask);
    mode_ = 0666 & ~mask;
  }
  // EINVAL or the errno of stat() with what to do, if the directory cannot be used.
  util::Status check() const {
    struct stat st {};
    if (::stat(dir_.c_str(), &st) != 0) {
      int err = errno;
      std::string what = "content load: -o " + dir_ + ": " + std::strerror(err);
      if (err == ENOENT) what += " (create the directory first, e.g. mkdir -p " + dir_ + ")";
      return util::Error{err, what};
    }
    if (!S_ISDIR(st.st_mode))
      return util::Error{ENOTDIR, "content load: -o " + dir_ + ": not a directory"};
    return {};
  }
  util::Status write(const std::string& blobref, std::string_view data) const {
    std::string path = dir_ + "/" + blobref;
    std::string tmp = dir_ + "/." + blobref + ".XXXXXX";
    auto failed = [&](const std::string& file, int err) {
      ::unlink(tmp.c_str());
      return util::Error{err, "content load: " + blobref + ": " + file + ": " + std::strerror(err)};
    };
    util::UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (!fd)
      return util::Error{errno, "content load: " + blobref + ": cannot create a file in " + dir_ +
                                    ": " + std::strerror(errno)};
    if (::fchmod(fd.get(), mode_) != 0) return failed(tmp, errno);
    if (int err = util::write_all(fd.get(), data)) return failed(tmp, err);
    if (::close(fd.release()) != 0) return failed(tmp, errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) return failed(path, errno);
    return {};
  }

 private:
  std::string dir_;
  mode_t mode_;
};

// `content load: [line N: ]REF: malformed blobref`, checked before any request: a blobref
// also names a file under -o, so nothing but a blobref may get there.
util::Status check_blobref(const std::string& ref, const std::string& where = {}) {
  if (util::blobref_parse(ref)) return {};
  return util::Error{EINVAL, "content load: " + where + ref + ": malformed blobref"};
}

int load(const std::vector<std::string>& blobrefs, bool bulk, const std::string& dir) {
  if (!bulk && blobrefs.empty())
    return usage_fail("content load",
                      "give a BLOBREF (several with -o DIR), or --bulk to read blobrefs from "
                      "standard input");
  if (!bulk && blobrefs.size() > 1 && dir.empty())
    return usage_fail("content load",
                      "several BLOBREFs need -o DIR (each blob is written to DIR/BLOBREF)");
  for (const std::string& ref : blobrefs)
    if (auto ok = check_blobref(ref); !ok) return fail(ok.error());
  DirWriter writer(dir);
  if (!dir.empty())
    if (auto ok = writer.check(); !ok) return fail(ok.error());
  auto c = connect_or_fail();
  if (!c) return 1;
  if (!bulk && dir.empty()) {
    client::Response r = c->rpc("content.load", blobrefs[0]);
    if (r.errnum == ETIMEDOUT) return fail_response("content load", "content.load", r);
    if (!r.ok()) return fail(load_error(blobrefs[0], r));
    if (!write_all(r.payload) || std::fflush(stdout) != 0) return fail(stdout_error());
    return 0;
  }
  ItemSource source;
  if (bulk) {
    hint_if_terminal("content load", "blobrefs, one per line,", "BLOBREF...");
    source = [line = size_t{0}](Item& item) mutable -> util::Result<bool> {
      if (!read_line(item.payload)) return false;
      ++line;
      if (auto ok = check_blobref(item.payload, "line " + std::to_string(line) + ": "); !ok)
        return ok.error();
      item.label = item.payload;
      return true;
    };
  } else {
    source = [&blobrefs, i = size_t{0}](Item& item) mutable -> util::Result<bool> {
      if (i == blobrefs.size()) return false;
      item.payload = item.label = blobrefs[i++];
      return true;
    };
  }
  Progress progress("loaded", Progress::wanted(dir.empty()));
  int rc = pipeline(
      *c, "content.load", source,
      [&dir, &writer](const Item& item, client::Response& r) -> util::Result<size_t> {
        if (!r.ok()) return load_error(item.label, r);
        if (!dir.empty()) {
          if (auto ok = writer.write(item.label, r.payload); !ok) return ok.error();
        } else if (!write_all(r.payload) || !write_all("\n")) {
          return stdout_error();
        }
        return r.payload.size();
      },
      progress);
  progress.clear();
  if (std::fflush(stdout) != 0 && rc == 0) return fail(stdout_error());
  return rc;
}

// One content.missing request for every BLOBREF (one per line); the broker's reply, the refs
// it holds nowhere in argument order, is printed as it comes. Exit 0 whether or not any is
// missing: the output is the answer.
int missing(const std::vector<std::string>& blobrefs) {
  if (blobrefs.empty())
    return usage_fail("content missing", "give the BLOBREFs to look for (one or more)");
  std::string payload;
  for (const std::string& ref : blobrefs) {
    if (!util::blobref_parse(ref))
      return fail(util::Error{EINVAL, "content missing: " + ref +
                                          ": malformed blobref (expected sha1-<40 hex digits>, "
                                          "or sha256-<64> with content.hash = sha256)"});
    payload += ref;
    payload += '\n';
  }
  auto c = connect_or_fail();
  if (!c) return 1;
  client::Response r = c->rpc("content.missing", payload);
  if (!r.ok()) return fail_response("content missing", "content.missing", r);
  if (!write_all(r.payload) || std::fflush(stdout) != 0) return fail(stdout_error());
  return 0;
}

// flush, dropcache: empty request, empty reply.
int simple(const std::string& name) {
  auto c = connect_or_fail();
  if (!c) return 1;
  std::string topic = "content." + name;
  client::Response r = c->rpc(topic);
  if (!r.ok()) return fail_response("content " + name, topic, r);
  return 0;
}

int stats() {
  auto c = connect_or_fail();
  if (!c) return 1;
  client::Response r = c->rpc("content.stats-get");
  if (!r.ok()) return fail_response("content stats", "content.stats-get", r);
  auto j = nlohmann::json::parse(r.payload, nullptr, false);
  if (j.is_discarded()) return fail("content stats", "the broker's reply is not JSON");
  std::cout << j.dump(2) << '\n';
  return 0;
}

}  // namespace

void add_content(CLI::App& app, int& status) {
  auto* content = app.add_subcommand("content", "store and load blobs in the content cache");
  content->require_subcommand(1);

  struct StoreArgs {
    bool bulk = false;
    bool netstrings = false;
    std::vector<std::string> files;
  };
  auto sa = std::make_shared<StoreArgs>();
  auto* st = content->add_subcommand(
      "store",
      "store standard input (or each FILE) as one blob and print its blobref; the bulk modes "
      "print one blobref per line, in input order, with many requests in flight");
  auto* files = st->add_option("FILE", sa->files,
                               "store each file as one blob ('-': standard input); stops at the "
                               "first file that cannot be read, after the blobrefs of the files "
                               "before it");
  auto* bulk = st->add_flag("--bulk", sa->bulk,
                            "store each line of standard input (without its newline) as a blob");
  auto* netstrings = st->add_flag(
      "--netstrings", sa->netstrings,
      "read blobs from standard input as netstrings (5:hello,), binary safe: a blob may hold "
      "newlines and NUL bytes");
  bulk->excludes(netstrings)->excludes(files);
  netstrings->excludes(files);
  st->callback([&status, sa] {
    StoreInput input = sa->bulk            ? StoreInput::kLines
                       : sa->netstrings    ? StoreInput::kNetstrings
                       : sa->files.empty() ? StoreInput::kStdin
                                           : StoreInput::kFiles;
    status = store(input, sa->files);
  });

  struct LoadArgs {
    std::vector<std::string> blobrefs;
    bool bulk = false;
    std::string dir;
  };
  auto la = std::make_shared<LoadArgs>();
  auto* ld = content->add_subcommand(
      "load", "write the blob BLOBREF to standard output, or each BLOBREF to DIR/BLOBREF (-o)");
  auto* refs = ld->add_option("BLOBREF", la->blobrefs,
                              "blobref, e.g. sha1-<40 hex digits>; several need -o DIR");
  ld->add_flag("--bulk", la->bulk,
               "read one blobref per line from standard input; write each blob followed by a "
               "newline, or to DIR/BLOBREF with -o")
      ->excludes(refs);
  ld->add_option("-o,--output-dir", la->dir,
                 "write each blob to DIR/BLOBREF (through a temporary name, then renamed); DIR "
                 "must exist");
  ld->callback([&status, la] { status = load(la->blobrefs, la->bulk, la->dir); });

  auto missing_refs = std::make_shared<std::vector<std::string>>();
  auto* ms = content->add_subcommand(
      "missing",
      "print, in order, each BLOBREF that neither the cache nor the backing store holds (one "
      "request for all); store those, e.g. with `cairn content store FILE...`");
  ms->add_option("BLOBREF", *missing_refs, "blobref, e.g. sha1-<40 hex digits>");
  ms->callback([&status, missing_refs] { status = missing(*missing_refs); });

  content->add_subcommand("flush", "wait until every blob is on the backing store")
      ->callback([&status] { status = simple("flush"); });
  content->add_subcommand("dropcache", "drop every clean blob from the cache")->callback([&status] {
    status = simple("dropcache");
  });
  content->add_subcommand("stats", "print the cache's counters as JSON")->callback([&status] {
    status = stats();
  });
}

}  // namespace cairn::cmd
