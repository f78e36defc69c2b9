// Port mapping's pure part: a round's attempts as one status and one line, and the schedule.
#include <catch2/catch.hpp>

#include "net/port_mapping_state.hpp"

using namespace p2p;
using namespace std::chrono_literals;
using Outcome = MappingAttempt::Outcome;

namespace {
MappingAttempt silent(MappingMethod m) { return MappingAttempt{m, Outcome::no_answer, "", "", 0, 0s}; }
MappingAttempt refused(MappingMethod m, std::string why) { return MappingAttempt{m, Outcome::refused, std::move(why), "", 0, 0s}; }
MappingAttempt granted(MappingMethod m, std::string ip, std::uint16_t port, std::chrono::seconds life) {
  return MappingAttempt{m, Outcome::mapped, "", std::move(ip), port, life};
}
}  // namespace

TEST_CASE("port mapping: the granted external port is the one reported, whatever was asked", "[port_mapping]") {
  // NAT-PMP may grant another port than ours: the status (and so the announce) carries the granted one.
  auto s = summarize_attempts({granted(MappingMethod::natpmp, "198.20.0.1", 40001, 7200s)});
  REQUIRE(s.mapped());
  CHECK(s.external_port == 40001);
  CHECK(s.method == MappingMethod::natpmp);
  CHECK(describe_mapping(s) == "198.20.0.1:40001 via NAT-PMP");
  s = summarize_attempts({silent(MappingMethod::natpmp), granted(MappingMethod::upnp, "198.20.0.1", 6881, 0s)});
  REQUIRE(s.mapped());
  CHECK(s.method == MappingMethod::upnp);
  CHECK(describe_mapping(s) == "198.20.0.1:6881 via UPnP (permanent lease)");
}

TEST_CASE("port mapping: silence and refusals say which protocols were tried", "[port_mapping]") {
  auto s = summarize_attempts({silent(MappingMethod::natpmp), silent(MappingMethod::upnp)});
  CHECK(s.state == PortMappingStatus::State::unmapped);
  CHECK(describe_mapping(s) == "no gateway answered (NAT-PMP, UPnP)");
  // A router's refusal is worth more than the other protocol's silence: it names the problem.
  s = summarize_attempts({silent(MappingMethod::natpmp), refused(MappingMethod::upnp, "AddPortMapping 6881: 718 ConflictInMappingEntry")});
  CHECK(describe_mapping(s) == "refused by the gateway (UPnP: AddPortMapping 6881: 718 ConflictInMappingEntry)");
  s = summarize_attempts({refused(MappingMethod::natpmp, "not authorized"), refused(MappingMethod::upnp, "606 Action not authorized")});
  CHECK(describe_mapping(s) == "refused by the gateway (NAT-PMP: not authorized; UPnP: 606 Action not authorized)");
  CHECK(summarize_attempts({}).why_not == "nothing tried");
  PortMappingStatus off;
  off.why_not = "--no-port-mapping";
  CHECK(describe_mapping(off) == "off (--no-port-mapping)");
  CHECK(mapping_state_name(off.state) == "off");
}

TEST_CASE("port mapping: renewed at half the lifetime, retried with back-off", "[port_mapping]") {
  CHECK(renew_after(7200s) == 3600s);
  CHECK(renew_after(3600s) == 1800s);
  CHECK(renew_after(30s) == 15s);          // before it expires, however short
  CHECK(renew_after(1s) == 1s);            // but never a tight loop
  CHECK(renew_after(0s) == kPermanentRecheck);  // permanent: re-asserted now and then
  CHECK(retry_after(1) == 60s);
  CHECK(retry_after(2) == 120s);
  CHECK(retry_after(5) == 960s);
  CHECK(retry_after(6) == 1800s);
  CHECK(retry_after(100) == 1800s);
  CHECK(retry_after(0) == 60s);
}
