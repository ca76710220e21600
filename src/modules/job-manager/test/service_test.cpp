// Tests of the job-manager module's service glue with a fake broker: request validation,
// content.store through ModuleContext::call (and the fallback when it is not routed), wait
// replies, jobtap requests and job-manager.plugins.
#include <config.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "broker/module-api/test/fake_context.hpp"
#include "libreactor/reactor.hpp"
#include "libstats/stats.hpp"
#include "modules/job-manager/module.hpp"

using cairn::msg::Message;
using nlohmann::json;

namespace {

const std::string kDir = TEST_PLUGIN_DIR;

using Answer = cairn::broker::testing::Reply;

// The job manager's own keys at their defaults, in a fake broker that routes content.store
// to an in-memory table (or, with route_content false, answers ENOSYS as a bare broker does).
class FakeContext : public cairn::broker::testing::FakeContext {
 public:
  FakeContext() : cairn::broker::testing::FakeContext(cairn::job_manager::config_keys()) {}
  void call(Message request, std::function<void(const Message&)> on_response) override {
    if (!route_content) {
      ModuleContext::call(std::move(request), std::move(on_response));
      return;
    }
    std::string ref = "sha1-" + std::to_string(blobs_.size());
    blobs_[ref] = request.payload;
    on_response(Message::response(request, ref));
  }
  std::shared_ptr<Answer> request(const std::string& topic, const std::string& payload) {
    return send(topic, payload);
  }
  bool run_until_done(const Answer& a) {
    return run_until([&] { return a.answered; });
  }

  std::map<std::string, std::string> blobs_;
  bool route_content = true;
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("CAIRN_PLUGIN_PATH", kDir.c_str(), 1); }
  void TearDown() override { unsetenv("CAIRN_PLUGIN_PATH"); }
  FakeContext ctx_;
};

TEST_F(ServiceTest, RegistersEveryTopicOfTheProtocol) {
  auto module = cairn::job_manager::create_module(ctx_);
  for (const char* t : {"job-manager.submit", "job-manager.list", "job-manager.wait", "jobtap.load",
                        "jobtap.list", "jobtap.remove"})
    EXPECT_EQ(ctx_.services_.count(t), 1u) << t;
}

TEST_F(ServiceTest, SubmitWaitGivesStatusAndOutputBlobrefs) {
  auto module = cairn::job_manager::create_module(ctx_);
  auto submitted = ctx_.request("job-manager.submit",
                                R"({"command":["sh","-c","echo hi; echo oops >&2; exit 7"]})");
  ASSERT_TRUE(submitted->answered);
  ASSERT_EQ(submitted->errnum, 0) << submitted->payload;
  EXPECT_EQ(json::parse(submitted->payload)["id"], 1);
  auto waited = ctx_.request("job-manager.wait", R"({"id":1})");
  ASSERT_TRUE(ctx_.run_until_done(*waited));
  ASSERT_EQ(waited->errnum, 0) << waited->payload;
  json job = json::parse(waited->payload);
  EXPECT_EQ(job["state"], "INACTIVE");
  EXPECT_EQ(job["exit_code"], 7);
  EXPECT_EQ(ctx_.blobs_.at(job["stdout_blobref"].get<std::string>()), "hi\n");
  EXPECT_EQ(ctx_.blobs_.at(job["stderr_blobref"].get<std::string>()), "oops\n");
  EXPECT_FALSE(job.contains("stdout_data"));

  auto list = ctx_.request("job-manager.list", "");
  ASSERT_EQ(list->errnum, 0);
  json jobs = json::parse(list->payload)["jobs"];
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["command"], json({"sh", "-c", "echo hi; echo oops >&2; exit 7"}));
}

TEST_F(ServiceTest, WithoutRoutedContentTheOutputTravelsInTheReply) {
  ctx_.route_content = false;
  auto module = cairn::job_manager::create_module(ctx_);
  ctx_.request("job-manager.submit", R"({"command":["echo","inline"]})");
  auto waited = ctx_.request("job-manager.wait", R"({"id":1})");
  ASSERT_TRUE(ctx_.run_until_done(*waited));
  json job = json::parse(waited->payload);
  EXPECT_EQ(job["stdout_data"], "inline\n");
  EXPECT_NE(job["error"].get<std::string>().find("stdout not stored: content.store:"),
            std::string::npos)
      << job["error"];
}

TEST_F(ServiceTest, MalformedRequestsAreRefusedWithEproto) {
  auto module = cairn::job_manager::create_module(ctx_);
  for (const char* bad : {"", "not json", "[]", R"({"command":[]})", R"({"command":"true"})",
                          R"({"command":["true",3]})"}) {
    auto a = ctx_.request("job-manager.submit", bad);
    EXPECT_EQ(a->errnum, EPROTO) << bad;
    EXPECT_FALSE(a->payload.empty());
  }
  EXPECT_EQ(ctx_.request("job-manager.wait", R"({"id":"one"})")->errnum, EPROTO);
  EXPECT_EQ(ctx_.request("jobtap.load", R"({"conf":{}})")->errnum, EPROTO);
  EXPECT_EQ(ctx_.request("jobtap.load", R"({"path":"probe","conf":{"k":1}})")->errnum, EPROTO);
  EXPECT_EQ(ctx_.request("jobtap.remove", "{}")->errnum, EPROTO);
}

TEST_F(ServiceTest, WaitOnAnUnknownJobIsEnoent) {
  auto module = cairn::job_manager::create_module(ctx_);
  auto a = ctx_.request("job-manager.wait", R"({"id":9})");
  EXPECT_EQ(a->errnum, ENOENT);
  EXPECT_EQ(a->payload, "job 9: no such job");
}

TEST_F(ServiceTest, JobtapLoadListRemove) {
  auto module = cairn::job_manager::create_module(ctx_);
  auto loaded = ctx_.request("jobtap.load", R"({"path":"probe","conf":{"glob":"job.new"}})");
  ASSERT_EQ(loaded->errnum, 0) << loaded->payload;
  EXPECT_EQ(json::parse(loaded->payload)["name"], "probe");
  json list = json::parse(ctx_.request("jobtap.list", "")->payload)["plugins"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["conf"]["glob"], "job.new");
  auto failed = ctx_.request("jobtap.load", R"({"path":"probe","conf":{"fail":"1"}})");
  EXPECT_EQ(failed->errnum, EEXIST);
  EXPECT_EQ(ctx_.request("jobtap.remove", R"({"name":"probe"})")->errnum, 0);
  EXPECT_EQ(ctx_.request("jobtap.remove", R"({"name":"probe"})")->errnum, ENOENT);
}

TEST_F(ServiceTest, JobtapLoadRepliesWithTheSettingsThePluginDidNotRead) {
  auto module = cairn::job_manager::create_module(ctx_);
  auto loaded =
      ctx_.request("jobtap.load", R"({"path":"probe","conf":{"glob":"job.new","perod":"5"}})");
  ASSERT_EQ(loaded->errnum, 0) << loaded->payload;
  EXPECT_EQ(json::parse(loaded->payload), json::parse(R"({"name":"probe","unused":["perod"]})"));
  EXPECT_EQ(ctx_.request("jobtap.remove", R"({"name":"probe"})")->errnum, 0);
  loaded = ctx_.request("jobtap.load", R"({"path":"probe","conf":{"glob":"job.new"}})");
  EXPECT_EQ(json::parse(loaded->payload)["unused"], json::array());
}

TEST_F(ServiceTest, ConfiguredPluginsLoadAtStartAndAFailureStopsIt) {
  ASSERT_EQ(ctx_.set("job-manager.plugins", std::vector<std::string>{"probe"}), "");
  {
    auto module = cairn::job_manager::create_module(ctx_);
    json list = json::parse(ctx_.request("jobtap.list", "")->payload)["plugins"];
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["name"], "probe");
  }
  ASSERT_EQ(ctx_.set("job-manager.plugins", std::vector<std::string>{"probe", "missing-one"}), "");
  try {
    cairn::job_manager::create_module(ctx_);
    FAIL() << "a missing configured plugin must stop the start";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("job-manager.plugins: cannot load missing-one"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
