// RendezvousBoard without sockets: polls held and answered, notes queued between
// polls, per-pair rate limits, the per-IP poll cap, reachability and its wake-up.
#include <catch2/catch.hpp>

#include "tracker/rendezvous_board.hpp"

using namespace p2p::tracker;
using Clock = RendezvousBoard::Clock;

namespace {
struct Reply {
  bool called = false;
  std::vector<RendezvousNote> notes;
  RendezvousBoard::Answer fn() {
    return [this](std::vector<RendezvousNote> n) {
      called = true;
      notes = std::move(n);
    };
  }
};
RendezvousNote note_from(std::string ip, std::uint16_t port, std::string ticket = {}) {
  return RendezvousNote{std::string(64, 'a'), std::move(ip), port, std::move(ticket)};
}
}  // namespace

TEST_CASE("rendezvous: a held poll is answered by a note, a silent one after kHold", "[rendezvous]") {
  RendezvousBoard b;
  auto t0 = Clock::now();
  Reply r;
  REQUIRE(b.wait("1.2.3.4", 6881, r.fn(), t0) == RendezvousBoard::WaitResult::waiting);
  CHECK(b.open_polls() == 1);
  CHECK(b.polling("1.2.3.4", 6881, t0));
  CHECK_FALSE(b.polling("1.2.3.4", 6882, t0));
  CHECK(b.post("1.2.3.4", 6881, note_from("5.6.7.8", 7000), t0));
  REQUIRE(r.called);
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0].ip == "5.6.7.8");
  CHECK(r.notes[0].port == 7000);
  CHECK(b.open_polls() == 0);

  Reply silent;
  b.wait("1.2.3.4", 6881, silent.fn(), t0);
  b.expire(t0 + RendezvousBoard::kHold - std::chrono::seconds(1));
  CHECK_FALSE(silent.called);
  b.expire(t0 + RendezvousBoard::kHold);
  CHECK(silent.called);
  CHECK(silent.notes.empty());
}

TEST_CASE("rendezvous: notes wait between two polls, for kNoteTtl only", "[rendezvous]") {
  RendezvousBoard b;
  auto t0 = Clock::now();
  Reply first;
  b.wait("1.2.3.4", 6881, first.fn(), t0);
  b.post("1.2.3.4", 6881, note_from("5.6.7.8", 7000), t0);  // answers the open poll
  // Between polls (within the grace) a note is queued and the next poll takes it at once.
  CHECK(b.post("1.2.3.4", 6881, note_from("9.9.9.9", 7001), t0));
  Reply second;
  CHECK(b.wait("1.2.3.4", 6881, second.fn(), t0) == RendezvousBoard::WaitResult::answered_now);
  REQUIRE(second.notes.size() == 1);
  CHECK(second.notes[0].ip == "9.9.9.9");
  // A stale note is dropped.
  CHECK(b.post("1.2.3.4", 6881, note_from("8.8.8.8", 7002), t0));
  Reply third;
  auto late = t0 + RendezvousBoard::kNoteTtl + std::chrono::seconds(1);
  CHECK(b.wait("1.2.3.4", 6881, third.fn(), late) == RendezvousBoard::WaitResult::waiting);
  b.close_all();
  CHECK(third.called);
  CHECK(third.notes.empty());
  // A member that never polled (or stopped polling long ago) is not told anything.
  CHECK_FALSE(b.post("7.7.7.7", 1, note_from("5.6.7.8", 7000), t0));
  CHECK_FALSE(b.post("1.2.3.4", 6881, note_from("5.5.5.5", 7000), late + RendezvousBoard::kPollGrace + std::chrono::seconds(1)));
}

TEST_CASE("rendezvous: one note per pair and kind per kPairInterval", "[rendezvous]") {
  RendezvousBoard b;
  auto t0 = Clock::now();
  Reply r;
  b.wait("1.2.3.4", 6881, r.fn(), t0);
  CHECK(b.post("1.2.3.4", 6881, note_from("5.6.7.8", 7000), t0));
  CHECK_FALSE(b.post("1.2.3.4", 6881, note_from("5.6.7.8", 7000), t0 + std::chrono::seconds(1)));
  // A relay ticket for the same pair is another kind: allowed once.
  CHECK(b.post("1.2.3.4", 6881, note_from("5.6.7.8", 7000, std::string(64, 'f')), t0 + std::chrono::seconds(1)));
  CHECK_FALSE(b.post("1.2.3.4", 6881, note_from("5.6.7.8", 7000, std::string(64, 'e')), t0 + std::chrono::seconds(2)));
  // Another peer is another pair.
  CHECK(b.post("1.2.3.4", 6881, note_from("5.6.7.9", 7000), t0 + std::chrono::seconds(1)));
  b.expire(t0 + RendezvousBoard::kPairInterval);
  Reply again;
  b.wait("1.2.3.4", 6881, again.fn(), t0 + RendezvousBoard::kPairInterval);
  CHECK(b.post("1.2.3.4", 6881, note_from("5.6.7.8", 7000), t0 + RendezvousBoard::kPairInterval));
}

TEST_CASE("rendezvous: polls per IP are capped, a new poll replaces the old one", "[rendezvous]") {
  RendezvousBoard b;
  auto t0 = Clock::now();
  std::vector<Reply> replies(RendezvousBoard::kMaxPollsPerIp + 1);
  for (std::size_t i = 0; i < RendezvousBoard::kMaxPollsPerIp; ++i)
    REQUIRE(b.wait("1.2.3.4", static_cast<std::uint16_t>(1000 + i), replies[i].fn(), t0) ==
            RendezvousBoard::WaitResult::waiting);
  CHECK(b.wait("1.2.3.4", 9999, replies.back().fn(), t0) == RendezvousBoard::WaitResult::refused);
  CHECK(b.open_polls() == RendezvousBoard::kMaxPollsPerIp);
  Reply other_ip;
  CHECK(b.wait("4.3.2.1", 9999, other_ip.fn(), t0) == RendezvousBoard::WaitResult::waiting);
  // The same member polls again: the old poll is answered (empty), the count stays.
  Reply again;
  CHECK(b.wait("1.2.3.4", 1000, again.fn(), t0) == RendezvousBoard::WaitResult::waiting);
  CHECK(replies[0].called);
  CHECK(b.open_polls() == RendezvousBoard::kMaxPollsPerIp + 1);
  b.close_all();
  CHECK(b.open_polls() == 0);
  CHECK(again.called);
}

TEST_CASE("rendezvous: reachability, probes due once per interval, wake", "[rendezvous]") {
  RendezvousBoard b;
  auto t0 = Clock::now();
  CHECK(b.probe_due("1.2.3.4", 6881, t0));
  b.probe_started("1.2.3.4", 6881, t0);
  CHECK_FALSE(b.probe_due("1.2.3.4", 6881, t0 + std::chrono::seconds(5)));
  CHECK(b.probe_due("1.2.3.4", 6881, t0 + RendezvousBoard::kProbeInterval));
  CHECK_FALSE(b.reachable("1.2.3.4", 6881).has_value());
  Reply r;
  b.wait("1.2.3.4", 6881, r.fn(), t0);
  b.set_reachable("1.2.3.4", 6881, true, t0);
  b.wake("1.2.3.4", 6881);
  CHECK(r.called);
  CHECK(b.reachable("1.2.3.4", 6881) == true);
  // A member found reachable stops polling: once its poll is answered it is not told anything.
  CHECK_FALSE(b.polling("1.2.3.4", 6881, t0));
  CHECK_FALSE(b.post("1.2.3.4", 6881, note_from("5.6.7.8", 7000), t0));
}
