// The node's Prometheus /metrics text (exposition format 0.0.4) from a
// snapshot. Names follow libtorrent's session counters where they mean the same
// (net.recv_payload_bytes -> p2p_net_recv_payload_bytes_total); docs/API.md lists them.
#pragma once
#include <cstddef>
#include <string>

#include "swarm/session_snapshot.hpp"

namespace p2p::web {

// Per-file gauges (p2p_file_*) list at most this many files: a shared folder of many
// thousands would otherwise make every scrape as large as its file list.
inline constexpr std::size_t kMaxFilesInMetrics = 2000;

std::string render_node_metrics(const SessionSnapshot& s);

}  // namespace p2p::web
