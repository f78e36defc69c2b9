// The smallest round trip the kernel has measured on a TCP socket.
#pragma once

namespace p2p {

// TCP_INFO's tcpi_min_rtt in seconds: the path's round trip, without the queues the
// connection's own sends build up later; 0 if the kernel does not say.
double tcp_path_round_trip(int fd);

}  // namespace p2p
