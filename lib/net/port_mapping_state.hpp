// Port mapping, the pure part: what one round of attempts (NAT-PMP, then UPnP-IGD)
// amounts to, the one line that says so, and when to renew or retry. The library
// calls and the mapper's thread are in port_mapping.cpp.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace p2p {

enum class MappingMethod { natpmp, upnp };
std::string_view mapping_method_name(MappingMethod method);  // "NAT-PMP", "UPnP"

// What one protocol's attempt gave.
struct MappingAttempt {
  enum class Outcome {
    no_answer,  // nothing (or nothing that speaks the protocol) answered
    refused,    // a gateway answered and said no (detail: its words)
    mapped,
  };
  MappingMethod method = MappingMethod::natpmp;
  Outcome outcome = Outcome::no_answer;
  std::string detail;                   // refused: the router's error, one line
  std::string external_ip;              // mapped: the gateway's outside address
  std::uint16_t external_port = 0;      // mapped: may differ from the port asked for
  std::chrono::seconds lifetime{0};     // mapped: 0 = permanent (a UPnP router refusing leases)
};

struct PortMappingStatus {
  enum class State {
    off,       // not attempted: switched off, not listening, or discovery not allowed
    trying,    // first round under way
    mapped,
    unmapped,  // tried; why_not says why
  };
  State state = State::off;
  MappingMethod method = MappingMethod::natpmp;  // when mapped
  std::string external_ip;
  std::uint16_t external_port = 0;
  std::chrono::seconds lifetime{0};             // 0 = permanent
  std::string why_not;                          // off / unmapped: one line
  bool mapped() const { return state == State::mapped; }
};
std::string_view mapping_state_name(PortMappingStatus::State state);  // "off", "trying", ...

// One round's attempts, in the order they were made, as a status: the first that
// mapped wins; else a refusal (with the router's words) counts over silence.
PortMappingStatus summarize_attempts(const std::vector<MappingAttempt>& attempts);

// "198.20.0.1:6881 via NAT-PMP", "no gateway answered (NAT-PMP, UPnP)",
// "refused by the gateway (UPnP: 718 ConflictInMappingEntry)", "off (P2P_NO_DISCOVERY)".
std::string describe_mapping(const PortMappingStatus& status);

// When to refresh a mapping granted for `lifetime`: at half of it (RFC 6886 §3.3), at least
// 1 s apart (a router granting seconds gets what it asked for: renewing late would lose the
// mapping); a permanent one is re-asserted every kPermanentRecheck (a router that restarted
// has forgotten it).
inline constexpr std::chrono::seconds kPermanentRecheck{30 * 60};
std::chrono::seconds renew_after(std::chrono::seconds lifetime);
// After `failures` rounds in a row without a mapping (>= 1): 1 min, doubling, at most 30 min —
// a gateway may appear later (a laptop joining another network), but asking a silent one
// often only adds traffic.
std::chrono::seconds retry_after(int failures);

// What we ask for: NAT-PMP's recommended lifetime (RFC 6886 §3.3) and a UPnP lease of an
// hour. A router answering 725 OnlyPermanentLeasesSupported gets a permanent lease instead.
inline constexpr std::chrono::seconds kNatPmpLifetime{7200};
inline constexpr std::chrono::seconds kUpnpLease{3600};
inline constexpr int kUpnpOnlyPermanentLeases = 725;
inline constexpr int kUpnpConflictInMappingEntry = 718;

}  // namespace p2p
