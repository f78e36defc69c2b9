// Runs the library's PortMapper alone, with lifetimes of seconds, so that an end-to-end test
// sees it renew (tests/e2e/netns_port_mapping.sh, case g). Prints one line per status the
// mapper reports ("status: <line> lifetime=<s>"), then, after --seconds, stops it (removing
// the mapping) and prints "removed". Run it only inside a test's network namespace.
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "base/discovery_switch.hpp"
#include "net/port_mapping.hpp"

using namespace p2p;

int main(int argc, char** argv) {
  CLI::App app{"Map a port with the library's PortMapper for a while, printing each status."};
  std::uint16_t port = 0;
  int seconds = 10, natpmp = 0, lease = 0;
  app.add_option("--port", port, "the TCP port to map")->required();
  app.add_option("--seconds", seconds, "how long to keep the mapping");
  app.add_option("--natpmp-lifetime", natpmp, "NAT-PMP lifetime to ask for, seconds")->required();
  app.add_option("--upnp-lease", lease, "UPnP lease to ask for, seconds")->required();
  CLI11_PARSE(app, argc, argv);
  // The same guard as a node's: a misplaced run sends nothing.
  if (!discovery_allowed("0.0.0.0")) {
    std::fprintf(stderr, "port_mapper_probe: P2P_NO_DISCOVERY is set; not mapping\n");
    return 2;
  }
  asio::io_context io;
  PortMapper mapper(
      io, port,
      [](const PortMappingStatus& s) {
        std::printf("status: %s lifetime=%lld\n", describe_mapping(s).c_str(), static_cast<long long>(s.lifetime.count()));
        std::fflush(stdout);
      },
      PortMapper::Lifetimes{std::chrono::seconds(natpmp), std::chrono::seconds(lease)});
  mapper.start();
  asio::steady_timer end(io, std::chrono::seconds(seconds));
  end.async_wait([&](std::error_code) {
    mapper.request_stop();
    io.stop();
  });
  io.run();
  mapper.finish();
  std::printf("removed\n");
  return 0;
}
