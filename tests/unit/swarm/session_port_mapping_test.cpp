// A session decides whether to map its port at all: never with P2P_NO_DISCOVERY set, on a
// loopback listen address, with --no-port-mapping, or when it does not listen. Each of these
// sessions listens on 127.0.0.1 only, so none could send a packet beyond the host anyway.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <string>

#include "swarm/session.hpp"
#include "swarm/session_snapshot.hpp"
#include "swarm/session_harness.hpp"

using namespace p2p;

namespace {
// The port mapping status of a session with these options, read on its io thread once running.
PortMappingStatus mapping_of(SessionOptions so) {
  so.run_until_signal = true;
  test::Recorder rec;
  Session session(so, rec);
  PortMappingStatus seen;
  session.every(std::chrono::milliseconds(20), [&] {
    seen = session.snapshot().port_mapping;
    session.stop();
  });
  session.run();
  CHECK(rec.all().find("port mapping") == std::string::npos);  // off: no line
  return seen;
}

// Sets or unsets P2P_NO_DISCOVERY for one scope and puts back what was there.
class DiscoveryEnv {
 public:
  explicit DiscoveryEnv(const char* value) {
    if (const char* v = std::getenv("P2P_NO_DISCOVERY")) old_ = v;
    value ? ::setenv("P2P_NO_DISCOVERY", value, 1) : ::unsetenv("P2P_NO_DISCOVERY");
  }
  ~DiscoveryEnv() { old_ ? ::setenv("P2P_NO_DISCOVERY", old_->c_str(), 1) : ::unsetenv("P2P_NO_DISCOVERY"); }

 private:
  std::optional<std::string> old_;
};
}  // namespace

TEST_CASE("port mapping is off, saying why, with P2P_NO_DISCOVERY, on loopback, when switched off or not listening",
          "[session][port_mapping]") {
  SessionOptions so;
  so.listen_port = 0;
  so.listen_host = "127.0.0.1";
  {
    DiscoveryEnv env("1");
    auto m = mapping_of(so);
    CHECK(m.state == PortMappingStatus::State::off);
    CHECK(m.why_not == "P2P_NO_DISCOVERY is set");
  }
  {
    DiscoveryEnv env(nullptr);  // the loopback rule alone keeps it off
    auto m = mapping_of(so);
    CHECK(m.state == PortMappingStatus::State::off);
    CHECK(m.why_not == "listening on 127.0.0.1 only");
    so.port_mapping = false;
    CHECK(mapping_of(so).why_not == "--no-port-mapping");
    so.port_mapping = true;
    so.listen_port.reset();
    CHECK(mapping_of(so).why_not == "not listening");
  }
}
