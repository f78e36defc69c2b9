// tcp_path_round_trip: TCP_INFO from the kernel's own header (glibc's struct tcp_info
// predates tcpi_min_rtt), in a file of its own so the two headers never meet.
#include "net/tcp_path_round_trip.hpp"

#include <cstddef>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace p2p {

double tcp_path_round_trip(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (fd < 0 || ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return 0;
  if (len < offsetof(tcp_info, tcpi_min_rtt) + sizeof info.tcpi_min_rtt || info.tcpi_min_rtt == ~0u) return 0;
  return info.tcpi_min_rtt / 1e6;
}

}  // namespace p2p
