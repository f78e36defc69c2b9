// Publishing's cost to the tracker: checks off the event loop (MetaCheckPool), the
// per-address budget (PublishBudget), and the API's answers when either says no.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <mutex>

#include "format/meta.hpp"
#include "published_meta.hpp"
#include "test_support.hpp"
#include "tracker/api.hpp"
#include "tracker/embedded_store.hpp"
#include "tracker/meta_check_pool.hpp"
#include "tracker/publish_budget.hpp"
#include "tracker/tracker_limits.hpp"

using namespace p2p;
using namespace p2p::tracker;
using test::meta_json_for;
using p2p::net::HttpRequest;
using p2p::net::HttpResponse;
using nlohmann::json;

TEST_CASE("PublishBudget: checks at once and bytes over time, per address", "[tracker][publish]") {
  PublishBudget b({2, 1000, 100, 3});
  auto t = Clock::now();
  using V = PublishBudget::Verdict;
  CHECK(b.take("a", 400, t).verdict == V::ok);
  CHECK(b.take("a", 400, t).verdict == V::ok);
  CHECK(b.take("a", 10, t).verdict == V::busy);  // two at once
  b.done("a");
  auto over = b.take("a", 400, t);  // 200 bytes left
  CHECK(over.verdict == V::over_budget);
  CHECK(over.retry_after == std::chrono::milliseconds(2000));  // 200 more at 100 B/s
  CHECK(b.take("b", 400, t).verdict == V::ok);  // another address has its own
  CHECK(b.take("a", 400, t + std::chrono::seconds(2)).verdict == V::ok);
  b.done("a");
  b.done("a");
  b.done("b");
  CHECK(b.take("c", 500, t).verdict == V::ok);
  b.done("c");
  // Three addresses remembered: a fourth is let in once an idle, refilled one is forgotten.
  CHECK(b.take("d", 1, t + std::chrono::seconds(2)).verdict == V::too_many_addresses);
  CHECK(b.take("d", 1, t + std::chrono::seconds(60)).verdict == V::ok);
  CHECK(b.addresses() <= 3);
  // A body larger than the burst is charged the whole burst, not refused for ever.
  CHECK(b.take("e", 5000, t + std::chrono::seconds(120)).verdict == V::ok);
}

namespace {

// Verdicts posted by the pool's workers, run here as a loop would.
struct Loop {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::function<void()>> posted;
  void post(std::function<void()> fn) {
    std::lock_guard lock(mu);
    posted.push_back(std::move(fn));
    cv.notify_all();
  }
  void run_until(std::size_t n) {
    std::vector<std::function<void()>> take;
    {
      std::unique_lock lock(mu);
      REQUIRE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return posted.size() >= n; }));
      take.swap(posted);
    }
    for (auto& fn : take) fn();
  }
};

}  // namespace

TEST_CASE("MetaCheckPool checks on its threads, bounds its queue, remembers what passed", "[tracker][publish]") {
  test::TempDir dir;
  std::string good = meta_json_for(dir, "good.bin", 50000, 1);
  Loop loop;
  std::vector<MetaCheck> verdicts;
  auto keep = [&](MetaCheck v) { verdicts.push_back(std::move(v)); };
  {
    // While `holding`, the worker waits in its hand-over of a verdict, so it takes no next job
    // and the bound below is reached however fast the worker is.
    std::mutex hold_mu;
    std::condition_variable hold_cv;
    bool holding = false;
    std::vector<std::string> texts;  // a submitted text must outlive its check (declared before the pool)
    MetaCheckPool pool(1, 3, 16, [&](std::function<void()> fn) {
      std::unique_lock lock(hold_mu);
      hold_cv.wait(lock, [&] { return !holding; });
      lock.unlock();
      loop.post(std::move(fn));
    });
    CHECK(pool.submit(good, keep));
    CHECK(pool.submit("{not json", keep));
    CHECK(pool.submit(good, keep));
    loop.run_until(3);
    REQUIRE(verdicts.size() == 3);
    REQUIRE(verdicts[0].meta);
    CHECK(verdicts[0].meta->name == "good.bin");
    CHECK(verdicts[0].meta->text == good);
    CHECK_FALSE(verdicts[1].meta);
    CHECK_THAT(verdicts[1].error, Catch::Contains("not valid JSON"));
    CHECK_FALSE(verdicts[1].internal);
    REQUIRE(verdicts[2].meta);
    CHECK(verdicts[2].meta->info_hash == verdicts[0].meta->info_hash);
    CHECK(verdicts[2].meta->text == good);
    CHECK(pool.cache_hits() == 1);  // the same bytes again: not parsed again
    // More than 3 waiting or running: refused at once, `done` never called.
    std::size_t accepted = 0;
    {
      std::lock_guard lock(hold_mu);
      holding = true;
    }
    for (int i = 0; i < 50; ++i) texts.push_back(good + std::string(i, ' '));
    for (const auto& text : texts) accepted += pool.submit(text, keep);
    {
      std::lock_guard lock(hold_mu);
      holding = false;
    }
    hold_cv.notify_all();
    CHECK(accepted >= 3);
    CHECK(accepted < 50);
    loop.run_until(accepted);
  }
}

TEST_CASE("publish: checked by the checker off the loop; busy, over budget and full answers", "[tracker][publish]") {
  EmbeddedSwarmStore swarm_store{11, 30};
  EmbeddedCatalogStore catalog_store{":memory:"};
  EmbeddedCounterStore counter_store;
  Api api{swarm_store, catalog_store, counter_store, ApiOptions{30}};
  std::vector<std::pair<std::string, std::function<void(MetaCheck)>>> waiting;
  bool room = true;
  api.set_meta_checker([&](std::string_view text, std::function<void(MetaCheck)> done) {
    if (!room) return false;
    waiting.emplace_back(std::string(text), std::move(done));
    return true;
  });
  test::TempDir dir;
  std::string m1 = meta_json_for(dir, "one.bin", 30000, 1), m2 = meta_json_for(dir, "two.bin", 30000, 2);
  HttpResponse r1, r2, r3, r4;
  bool done1 = false, done2 = false, done3 = false;
  auto publish = [&](const std::string& body, std::string_view ip, HttpResponse& out, bool& done) {
    start_detached(api.serve(HttpRequest{"POST", "/publish", body, ip, {}}, Clock::now(), out),
                   [&done](std::exception_ptr) { done = true; });
  };
  publish(m1, "10.0.0.1", r1, done1);
  publish(m2, "10.0.0.1", r2, done2);
  CHECK_FALSE(done1);  // waiting for their checks
  CHECK(waiting.size() == 2);
  publish(m1, "10.0.0.1", r3, done3);  // a third at once from the same address
  CHECK(done3);
  CHECK(r3.status == 429);
  // Announces are answered meanwhile.
  run_now(api.serve(HttpRequest{"GET", "/announce?info_hash=" + std::string(64, 'a') + "&peer_id=" + std::string(40, '1') +
                                           "&port=7000&left=0",
                                "", "10.0.0.9", {}},
                    Clock::now(), r4));
  CHECK(r4.status == 200);
  for (auto& [text, done] : waiting) done(check_published_meta(text));
  waiting.clear();
  CHECK(done1);
  CHECK(done2);
  CHECK(r1.status == 201);
  CHECK(r2.status == 201);
  // No room in the checker: 503, and the address's check is given back.
  room = false;
  bool done5 = false;
  HttpResponse r5;
  publish(m1, "10.0.0.1", r5, done5);
  CHECK(done5);
  CHECK(r5.status == 503);
  // Over the byte budget: 429 with when to retry; another address is not affected.
  room = true;
  std::string big(tracker::limits::kMaxPublishBytes, ' ');
  int refused = 0;
  for (int i = 0; i < 8 && !refused; ++i) {
    HttpResponse r;
    bool d = false;
    publish(big, "10.0.0.2", r, d);
    for (auto& [text, done] : waiting) done(check_published_meta(text));
    waiting.clear();
    REQUIRE(d);
    if (r.status == 429) {
      CHECK_THAT(r.body, Catch::Contains("retry in"));
      ++refused;
    } else {
      CHECK(r.status == 400);  // whitespace is no meta
    }
  }
  CHECK(refused == 1);
  HttpResponse r6;
  bool done6 = false;
  publish(m2, "10.0.0.3", r6, done6);
  for (auto& [text, done] : waiting) done(check_published_meta(text));
  CHECK(done6);
  CHECK(r6.status == 200);  // already published: created false
}

TEST_CASE("publish: an address over its budget is refused before its body is read", "[tracker][publish]") {
  EmbeddedSwarmStore swarm_store{11, 30};
  EmbeddedCatalogStore catalog_store{":memory:"};
  EmbeddedCounterStore counter_store;
  Api api{swarm_store, catalog_store, counter_store, ApiOptions{30}};
  const std::uint64_t big = tracker::limits::kMaxPublishBytes;
  CHECK_FALSE(api.refuse_body("POST", "/publish", "10.0.0.5", big));
  std::string body(big, ' ');
  for (std::uint64_t spent = 0; spent + big <= tracker::limits::kPublishBurstBytes; spent += big) {
    HttpResponse r;
    run_now(api.serve(HttpRequest{"POST", "/publish", body, "10.0.0.5", {}}, Clock::now(), r));
    CHECK(r.status == 400);  // checked (whitespace is no meta), and charged
  }
  auto refusal = api.refuse_body("POST", "/publish", "10.0.0.5", big);
  REQUIRE(refusal);
  CHECK(refusal->status == 429);
  CHECK_THAT(refusal->message, Catch::Contains("retry in"));
  CHECK_FALSE(api.refuse_body("POST", "/publish", "10.0.0.6", big));   // another address
  CHECK_FALSE(api.refuse_body("GET", "/announce", "10.0.0.5", 0));     // not a publish
}
