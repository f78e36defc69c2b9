// Relay tickets: one dialler and one acceptor per ticket, once each; expiry;
// the bound (oldest dropped first). No sockets; time is passed in.
#include <catch2/catch.hpp>

#include <set>

#include "base/hex.hpp"
#include "tracker/relay_tickets.hpp"

using namespace p2p;
using namespace p2p::tracker;
using Role = RelayTickets::Role;

namespace {
const std::string kTicketSwarm(64, 'a');
const std::string kOther = std::string(63, 'b') + "C";
}  // namespace

TEST_CASE("a ticket is 64 lowercase hex digits, fresh every time", "[relay]") {
  RelayTickets t;
  auto now = RelayTickets::Clock::now();
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto ticket = t.issue(kTicketSwarm, now);
    CHECK(is_hex(ticket, 64, true));
    seen.insert(ticket);
  }
  CHECK(seen.size() == 100);
  CHECK(t.outstanding() == 100);
}

TEST_CASE("a ticket admits one dialler and one acceptor, once each, and names its swarm", "[relay]") {
  RelayTickets t;
  auto now = RelayTickets::Clock::now();
  auto ticket = t.issue(kOther, now);
  auto d = t.redeem(ticket, Role::dialler, now);
  REQUIRE(d);
  CHECK(*d == std::string(63, 'b') + "c");  // one spelling: lowercase
  CHECK_FALSE(t.redeem(ticket, Role::dialler, now));  // reused by the same role
  auto a = t.redeem(ticket, Role::acceptor, now);
  REQUIRE(a);
  CHECK(*a == *d);
  CHECK_FALSE(t.redeem(ticket, Role::acceptor, now));
  CHECK_FALSE(t.redeem(ticket, Role::dialler, now));
  CHECK(t.outstanding() == 0);  // used up: forgotten
}

TEST_CASE("the acceptor may come first", "[relay]") {
  RelayTickets t;
  auto now = RelayTickets::Clock::now();
  auto ticket = t.issue(kTicketSwarm, now);
  CHECK(t.redeem(ticket, Role::acceptor, now));
  CHECK_FALSE(t.redeem(ticket, Role::acceptor, now));
  CHECK(t.redeem(ticket, Role::dialler, now));
}

TEST_CASE("unknown, malformed and expired tickets are refused", "[relay]") {
  RelayTickets t;
  auto now = RelayTickets::Clock::now();
  auto ticket = t.issue(kTicketSwarm, now);
  CHECK_FALSE(t.redeem(std::string(64, '0'), Role::dialler, now));
  CHECK_FALSE(t.redeem("", Role::dialler, now));
  CHECK_FALSE(t.redeem(ticket.substr(1), Role::dialler, now));
  // Valid until just before issue + ttl, refused from then on.
  CHECK(t.redeem(ticket, Role::dialler, now + tracker::limits::kRelayTicketTtl - std::chrono::milliseconds(1)));
  CHECK_FALSE(t.redeem(ticket, Role::acceptor, now + tracker::limits::kRelayTicketTtl));
  CHECK(t.outstanding() == 0);  // the expired one was swept
}

TEST_CASE("sweep drops only the expired tickets", "[relay]") {
  RelayTickets t;
  auto now = RelayTickets::Clock::now();
  auto old = t.issue(kTicketSwarm, now);
  auto young = t.issue(kTicketSwarm, now + std::chrono::seconds(20));
  t.sweep(now + std::chrono::seconds(35));
  CHECK(t.outstanding() == 1);
  CHECK_FALSE(t.redeem(old, Role::dialler, now + std::chrono::seconds(35)));
  CHECK(t.redeem(young, Role::dialler, now + std::chrono::seconds(35)));
}

TEST_CASE("at the cap the oldest outstanding ticket is dropped first", "[relay]") {
  RelayTickets t(3);
  auto now = RelayTickets::Clock::now();
  auto t1 = t.issue(kTicketSwarm, now);
  auto t2 = t.issue(kTicketSwarm, now);
  auto t3 = t.issue(kTicketSwarm, now);
  // A half-used ticket is still outstanding; a fully used one is not.
  CHECK(t.redeem(t2, Role::dialler, now));
  CHECK(t.redeem(t3, Role::dialler, now));
  CHECK(t.redeem(t3, Role::acceptor, now));
  auto t4 = t.issue(kTicketSwarm, now);
  CHECK(t.outstanding() == 3);  // t1, t2, t4: nothing dropped yet
  auto t5 = t.issue(kTicketSwarm, now);
  CHECK(t.outstanding() == 3);
  CHECK_FALSE(t.redeem(t1, Role::dialler, now));  // the oldest went
  CHECK(t.redeem(t2, Role::acceptor, now));
  CHECK(t.redeem(t4, Role::dialler, now));
  CHECK(t.redeem(t5, Role::dialler, now));
}

TEST_CASE("the store stays bounded under a flood of issues", "[relay]") {
  RelayTickets t;
  auto now = RelayTickets::Clock::now();
  std::string first = t.issue(kTicketSwarm, now);
  for (std::size_t i = 0; i < tracker::limits::kMaxRelayTickets + 500; ++i) t.issue(kTicketSwarm, now);
  CHECK(t.outstanding() == tracker::limits::kMaxRelayTickets);
  CHECK_FALSE(t.redeem(first, Role::dialler, now));
}

TEST_CASE("a malformed swarm id is a programming error", "[relay]") {
  RelayTickets t;
  auto now = RelayTickets::Clock::now();
  CHECK_THROWS_AS(t.issue("abc", now), std::invalid_argument);
  CHECK_THROWS_AS(t.issue(std::string(64, 'g'), now), std::invalid_argument);
  CHECK(t.outstanding() == 0);
}
