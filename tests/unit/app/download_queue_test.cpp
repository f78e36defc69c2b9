// DownloadQueue: the node's queue rules (slots, order, pause/resume/remove/move)
// and its file, without a session.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "app/download_queue.hpp"

using namespace p2p;

namespace {
QueuedDownload entry(char c, DownloadState state = DownloadState::queued) {
  QueuedDownload d;
  d.id = std::string(64, c);
  d.name = std::string("file-") + c;
  d.size = 1000;
  d.state = state;
  return d;
}
std::string id(char c) { return std::string(64, c); }
std::vector<std::string> order(const DownloadQueue& q) {
  std::vector<std::string> out;
  for (const auto& e : q.entries()) out.push_back(e.name);
  return out;
}
}  // namespace

TEST_CASE("at most max_active start, in list order; a finished one frees its slot", "[download_queue]") {
  DownloadQueue q(2);
  for (char c : {'a', 'b', 'c', 'd'}) REQUIRE(q.add(entry(c)));
  REQUIRE_FALSE(q.add(entry('a')));  // listed once
  CHECK(q.start_next() == std::vector<std::string>{id('a'), id('b')});
  CHECK(q.start_next().empty());  // both slots taken
  CHECK(q.find(id('a'))->state == DownloadState::checking);
  CHECK(q.started(id('a')));
  CHECK_FALSE(q.started(id('c')));  // c never started
  CHECK(q.active() == 2);
  CHECK(q.completed(id('a')));
  CHECK(q.active() == 1);
  CHECK(q.start_next() == std::vector<std::string>{id('c')});
  CHECK(q.failed(id('b'), "no peer"));
  CHECK(q.find(id('b'))->error == "no peer");
  CHECK(q.start_next() == std::vector<std::string>{id('d')});
  CHECK(q.start_next().empty());
}

TEST_CASE("pause frees a slot; resume puts it back in line at its place", "[download_queue]") {
  DownloadQueue q(1);
  for (char c : {'a', 'b', 'c'}) q.add(entry(c));
  REQUIRE(q.start_next() == std::vector<std::string>{id('a')});
  q.started(id('a'));
  CHECK(q.pause(id('a')) == DownloadQueue::Change::done);
  CHECK(q.pause(id('a')) == DownloadQueue::Change::unchanged);
  CHECK(q.start_next() == std::vector<std::string>{id('b')});  // a's slot went to b
  CHECK(q.resume(id('a')) == DownloadQueue::Change::done);
  CHECK(q.find(id('a'))->state == DownloadState::queued);
  CHECK(q.start_next().empty());  // b holds the only slot
  q.completed(id('b'));
  CHECK(q.start_next() == std::vector<std::string>{id('a')});  // a is first in line again, before c
  CHECK(q.pause(id('c')) == DownloadQueue::Change::done);     // a queued one can be set aside too
  CHECK(q.resume(id('c')) == DownloadQueue::Change::done);
  CHECK(q.resume(id('a')) == DownloadQueue::Change::unchanged);  // checking: nothing to resume
  CHECK(q.pause(id('z')) == DownloadQueue::Change::unknown);
}

TEST_CASE("failed and complete downloads: resume retries a failure; a finished one is not in line", "[download_queue]") {
  DownloadQueue q(3);
  q.add(entry('a'));
  q.add(entry('b', DownloadState::complete));
  q.start_next();
  q.failed(id('a'), "in the way");
  CHECK(q.pause(id('a')) == DownloadQueue::Change::not_applicable);
  CHECK(q.resume(id('a')) == DownloadQueue::Change::done);
  CHECK(q.find(id('a'))->error.empty());
  CHECK(q.start_next() == std::vector<std::string>{id('a')});
  CHECK(q.pause(id('b')) == DownloadQueue::Change::not_applicable);
  CHECK(q.resume(id('b')) == DownloadQueue::Change::not_applicable);
  CHECK(q.move(id('b'), true) == DownloadQueue::Change::not_applicable);
  CHECK(q.failed(id('b'), "gone"));  // a finished file that disappeared
  CHECK(q.find(id('b'))->state == DownloadState::failed);
  CHECK_FALSE(q.failed(id('z'), "x"));
}

TEST_CASE("move swaps with the nearest unfinished neighbour; remove keeps the others' order", "[download_queue]") {
  DownloadQueue q(1);
  q.add(entry('a'));
  q.add(entry('b', DownloadState::complete));
  q.add(entry('c'));
  q.add(entry('d'));
  CHECK(q.move(id('c'), true) == DownloadQueue::Change::done);  // past the complete b, swapped with a
  CHECK(order(q) == std::vector<std::string>{"file-c", "file-b", "file-a", "file-d"});
  CHECK(q.position(id('a')) == 3);
  CHECK(q.move(id('c'), true) == DownloadQueue::Change::unchanged);  // first already
  CHECK(q.move(id('d'), false) == DownloadQueue::Change::unchanged);  // last already
  CHECK(q.move(id('a'), false) == DownloadQueue::Change::done);
  CHECK(order(q) == std::vector<std::string>{"file-c", "file-b", "file-d", "file-a"});
  CHECK(q.start_next() == std::vector<std::string>{id('c')});  // the order decides who starts
  CHECK(q.remove(id('c')));
  CHECK_FALSE(q.remove(id('c')));
  CHECK(order(q) == std::vector<std::string>{"file-b", "file-d", "file-a"});
  CHECK(q.start_next() == std::vector<std::string>{id('d')});
  CHECK(q.move(id('z'), true) == DownloadQueue::Change::unknown);
}

TEST_CASE("the queue file round-trips; running ones come back queued in their place", "[download_queue]") {
  DownloadQueue q(2);
  auto a = entry('a');
  a.only = {"docs/*"};
  a.trackers = {"127.0.0.1:7000"};
  a.peers = {"10.0.0.2:6881"};
  q.add(a);
  q.add(entry('b', DownloadState::paused));
  q.add(entry('c', DownloadState::complete));
  q.add(entry('d'));
  q.start_next();
  q.started(id('a'));
  q.failed(id('d'), "file-d is in the way");
  std::vector<std::string> problems;
  DownloadQueue back = DownloadQueue::from_json(q.to_json(), 2, problems);
  CHECK(problems.empty());
  REQUIRE(back.entries().size() == 4);
  CHECK(order(back) == order(q));
  CHECK(back.find(id('a'))->state == DownloadState::queued);
  CHECK(back.find(id('a'))->only == std::vector<std::string>{"docs/*"});
  CHECK(back.find(id('a'))->trackers == a.trackers);
  CHECK(back.find(id('a'))->peers == a.peers);
  CHECK(back.find(id('b'))->state == DownloadState::paused);
  CHECK(back.find(id('c'))->state == DownloadState::complete);
  CHECK(back.find(id('d'))->error == "file-d is in the way");
  CHECK(back.start_next() == std::vector<std::string>{id('a')});
}

TEST_CASE("a damaged queue file: bad entries skipped and named, garbage gives an empty queue", "[download_queue]") {
  std::vector<std::string> problems;
  CHECK(DownloadQueue::from_json("{not json", 3, problems).entries().empty());
  CHECK(problems.size() == 1);
  problems.clear();
  CHECK(DownloadQueue::from_json(R"({"version": 9, "downloads": []})", 3, problems).entries().empty());
  CHECK(problems.size() == 1);
  problems.clear();
  std::string good = std::string(64, 'a');
  nlohmann::json j{{"version", 1},
                   {"downloads",
                    {{{"info_hash", good}, {"name", "ok.bin"}, {"size", 10}, {"state", "queued"}},
                     {{"info_hash", "xyz"}, {"name", "bad-hash"}, {"size", 10}, {"state", "queued"}},
                     {{"info_hash", std::string(64, 'b')}, {"name", "../escape"}, {"size", 10}, {"state", "queued"}},
                     {{"info_hash", std::string(64, 'c')}, {"name", "s"}, {"size", 10}, {"state", "dancing"}},
                     {{"info_hash", std::string(64, 'd')}, {"name", "t"}, {"size", 10}, {"state", "queued"},
                      {"trackers", {"no-port"}}},
                     {{"info_hash", good}, {"name", "twice"}, {"size", 10}, {"state", "queued"}}}}};
  DownloadQueue q = DownloadQueue::from_json(j.dump(), 3, problems);
  REQUIRE(q.entries().size() == 1);
  CHECK(q.entries()[0].name == "ok.bin");
  CHECK(problems.size() == 5);
}
